"""The neutralisation comparison: every method and rank scored on one stored corpus (bitext P@1 and
the language and meaning silhouettes; backend.analysis.neutralisation)."""
from __future__ import annotations

import numpy as np

from backend.analysis.neutralisation import NeutralisationComparison, compare_vectors
from backend.vectors.neutralised import corpus_neutraliser


def compare_methods(registry, corpus_id: str, model_id: str | None, languages=(), progress=None
                    ) -> NeutralisationComparison:
    """Every method and rank on a stored corpus (the chosen ``languages``; empty = all)."""
    from backend.core.languages import require_corpus_languages, require_retrieval_languages
    from backend.vectors.store import corpus_embeddings

    settings = registry.settings
    model_id = model_id or settings.default_model("embeddings")
    settings.resolve("embeddings", model_id)
    corpus = registry.corpora.get(corpus_id)
    chosen = require_corpus_languages(languages, corpus, corpus_id) or sorted(corpus.language_counts)
    require_retrieval_languages(chosen, corpus, corpus_id, settings.limits, "Comparing neutralisations needs",
                                "P@1 and the meaning silhouette are")
    vectors = corpus_embeddings(registry, corpus, model_id, progress)
    langs = np.asarray(corpus.langs)
    rows = np.flatnonzero(np.isin(langs, chosen))
    if progress:
        progress(0.9, "Fitting and scoring each neutralisation")

    def cached_fit(method, rank):
        return corpus_neutraliser(registry, corpus, model_id, method, rank, chosen)

    return compare_vectors(np.asarray(vectors[rows]), np.asarray(corpus.ids)[rows], langs[rows], sorted(chosen),
                           corpus.corpus_id, model_id, fits=cached_fit)
