"""The Search tab's job: a query (typed or a corpus row) against a stored corpus's FAISS index
(backend.vectors.index), optionally with CSLS and a neutralisation."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from backend.core.errors import InvalidInput
from backend.core.languages import parse_language_list
from backend.core.validation import whole_number
from backend.vectors.index import IndexInfo, SearchHit


@dataclass(frozen=True)
class SearchResult:
    query: str
    query_lang: str
    query_meaning: str | None  # the meaning id when the query is itself a corpus row
    hits: tuple[SearchHit, ...]
    index: IndexInfo
    csls: bool
    neutralise: str = "none"  # backend.analysis.neutralisation method applied to the corpus and the query
    rank: int | None = None

    def to_dict(self) -> dict:
        """The ``search`` API contract (documented in README: keep keys stable)."""
        return {
            "query": self.query, "query_lang": self.query_lang, "query_meaning": self.query_meaning,
            "scoring": "csls" if self.csls else "cosine",
            "index": {"factory": self.index.factory, "n": self.index.n, "on_gpu": self.index.on_gpu,
                      "search_param": self.index.search_param, "recall_at_10": self.index.recall_at_10},
            "hits": [h.to_dict() for h in self.hits],
            "neutralise": self.neutralise, "rank": self.rank,
        }


def search_corpus(registry, corpus_id: str, query: str | None, k: int, languages: Sequence[str] = (),
                  model_id: str | None = None, csls: bool = False, progress=None, neutralise: str = "none",
                  rank=None) -> SearchResult:
    """Cross-lingual search: the ``k`` nearest rows of a corpus to one query sentence. With
    ``neutralise`` (backend.neutralise, fitted on the corpus) the search is exact over the
    neutralised vectors."""
    from backend.analysis.neutralisation import check_method
    from backend.data.sentences import parse_sentences
    from backend.vectors.neutralised import neutralised_index

    neutralise, rank = check_method(neutralise, rank)

    settings = registry.settings
    model_id = model_id or settings.default_model("embeddings")
    settings.resolve("embeddings", model_id)
    k = whole_number(k, "k", 1, settings.limits.max_search_k)
    languages = parse_language_list(languages)  # "fr" or "fr,de" from a script: a language, not its letters
    sentences = parse_sentences(query, settings, registry.get("langid"))
    if len(sentences) != 1:
        raise InvalidInput(f"Search takes one query sentence; got {len(sentences)} lines. Keep one.")
    corpus = registry.corpora.get(corpus_id)
    index = registry.indexes.get(corpus, model_id, progress)
    text = sentences[0].text
    meaning = corpus.meaning_of(text)
    vector = registry.embed([text], model_id)[0]
    if neutralise != "none":
        index, fitted = neutralised_index(registry, index, neutralise, rank, progress)
        vector = fitted.apply(vector[None, :], [sentences[0].lang])[0]
    hits = index.search(vector, k, languages=tuple(languages), csls=csls, query_meaning=meaning,
                        query_lang=sentences[0].lang)
    return SearchResult(text, sentences[0].lang, meaning, hits, index.info, csls, neutralise, rank)
