"""Cross-lingual retrieval from a transcript or caption into a corpus.

The one place the speech and image tabs look up "nearest sentences": it goes through the same
FAISS index store as the Search tab (backend.vectors.index), so a corpus is embedded and indexed
once for every tab.
"""
from __future__ import annotations

from typing import Sequence

from backend.core.errors import InvalidInput
from backend.core.languages import parse_language_list
from backend.data.corpus import BUNDLED_ID, bundled_corpus
from backend.vectors.index import SearchHit

Hit = SearchHit  # rank, id, lang, text, score, cosine, same_meaning


def hits_to_dicts(hits) -> list[dict]:
    """Nearest sentences in the ``transcribe`` and ``caption`` API contracts."""
    return [{"rank": h.rank, "id": h.id, "lang": h.lang, "text": h.text, "cosine": round(h.cosine, 7)} for h in hits]


def corpus_languages(corpus_id: str = BUNDLED_ID) -> tuple[str, ...]:
    return tuple(sorted(bundled_corpus().language_counts)) if corpus_id == BUNDLED_ID else ()


def nearest_sentences(registry, query_text: str, languages: Sequence[str] | None = None, k: int = 5,
                      model_id: str | None = None, exclude_language: str | None = None,
                      progress=None, corpus_id: str = BUNDLED_ID) -> tuple[Hit, ...]:
    """The ``k`` corpus sentences nearest to ``query_text`` (cosine), best first.

    languages: search only these corpus languages (None or empty: all); exclude_language drops one
    more (the query's own, for "say it in French, find it in Japanese") unless it is the only one.
    """
    if not query_text or not query_text.strip():
        raise InvalidInput("There is no text to search with.")
    corpus = registry.corpora.get(corpus_id)
    wanted = set(parse_language_list(languages)) or set(corpus.language_counts)
    if wanted - {exclude_language}:  # only the query's own language chosen: search it anyway
        wanted.discard(exclude_language)
    model_id = model_id or registry.settings.default_model("embeddings")
    index = registry.indexes.get(corpus, model_id, progress)
    query = registry.embed([query_text.strip()], model_id)[0]
    return index.search(query, max(1, k), languages=tuple(sorted(wanted)))
