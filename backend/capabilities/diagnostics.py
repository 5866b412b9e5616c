"""The Diagnostics tab's job: bitext P@1, hubness and fertility of a stored corpus under one model
(the maths is backend.analysis.bitext), with an optional neutralisation."""
from __future__ import annotations

from dataclasses import replace
from typing import Sequence

import numpy as np

from backend.analysis.bitext import SCORINGS, BitextResult, bitext_mining
from backend.core.errors import InvalidInput, LimitExceeded
from backend.core.languages import require_corpus_languages


def run_bitext(registry, corpus_id: str, model_id: str | None, languages: Sequence[str] | str,
               scoring: str, progress=None, neutralise: str = "none", rank=None) -> BitextResult:
    """Bitext mining on a stored corpus; ``languages`` is a list or a comma list ('' = all).
    ``neutralise`` / ``rank``: a method of backend.neutralise, fitted on the chosen languages."""
    from backend.analysis.neutralisation import check_method
    from backend.vectors.neutralised import neutralise_corpus_vectors
    from backend.vectors.store import corpus_embeddings

    neutralise, rank = check_method(neutralise, rank)

    settings = registry.settings
    model_id = model_id or settings.default_model("embeddings")
    settings.resolve("embeddings", model_id)
    if scoring not in SCORINGS:
        raise InvalidInput(f"Unknown scoring {scoring!r}. Use 'cosine' or 'margin'.")
    corpus = registry.corpora.get(corpus_id)
    available = list(corpus.language_counts)
    languages = require_corpus_languages(languages, corpus, corpus_id) or sorted(available)
    if len(languages) < 2:
        raise InvalidInput(f"Corpus {corpus_id!r} has only one language ({', '.join(languages)}): bitext "
                           "mining needs at least two. Upload translations with a shared id column.")
    if len(languages) > settings.limits.max_bitext_languages:
        raise LimitExceeded(f"{len(languages)} languages asked for; the limit is "
                            f"{settings.limits.max_bitext_languages}. Name fewer, e.g. 'en,fr,de,zh'.")
    if not corpus.has_meanings:
        raise InvalidInput(f"Corpus {corpus_id!r} has no meaning ids, so translations are unknown. "
                           "Upload it with an id column shared by translations.")
    vectors = corpus_embeddings(registry, corpus, model_id, progress)
    vectors, _ = neutralise_corpus_vectors(registry, corpus, model_id, vectors, neutralise, rank, languages, progress)
    encoder = registry.get("embeddings", model_id)
    selected = np.flatnonzero(np.isin(np.asarray(corpus.langs), languages))
    try:
        counts = dict(zip(selected.tolist(), encoder.token_counts([corpus.texts[i] for i in selected])))
        token_counts = [counts.get(i, 0) for i in range(len(corpus))]
    except NotImplementedError:
        token_counts = None
    result = bitext_mining(vectors, corpus.ids, corpus.langs, corpus.texts, languages, scoring, model_id,
                           token_counts=token_counts)
    return replace(result, neutralise=neutralise, rank=rank)
