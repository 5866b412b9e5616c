"""Neutralised corpus vectors: fits on a stored corpus (cached per corpus, model, method, rank and
languages), applied to its vectors, to a few typed sentences, or to an exact index for Search.
The fits themselves are backend.analysis.neutralisation."""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Sequence

import numpy as np

from backend.analysis.neutralisation import Neutraliser, check_method, fit

FIT_CACHE_ENTRIES = 32


REFERENCE_CORPUS = "bundled"  # typed sentences (the Similarity tab) borrow this corpus's fit


class FitCache:
    """Bounded LRU of fits, keyed by (corpus fingerprint, model fingerprint, method, rank, languages)."""

    def __init__(self, max_entries: int = FIT_CACHE_ENTRIES):
        self._max = max_entries
        self._data: OrderedDict[tuple, Neutraliser] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._data)

    def get_or_fit(self, key: tuple, make) -> Neutraliser:
        with self._lock:
            found = self._data.get(key)
            if found is not None:
                self._data.move_to_end(key)
                self.hits += 1
                return found
            self.misses += 1
        fitted = make()  # outside the lock: two requests may fit the same thing once each, harmlessly
        with self._lock:
            self._data[key] = fitted
            self._data.move_to_end(key)
            while len(self._data) > self._max:
                self._data.popitem(last=False)
        return fitted


def corpus_neutraliser(registry, corpus, model_id: str, method, rank=None, languages: Sequence[str] = (),
                       progress=None) -> Neutraliser:
    """The fit of ``method`` on ``corpus`` (rows of ``languages``; empty = all) under ``model_id``,
    from the registry's fit cache."""
    from backend.vectors.store import corpus_embeddings

    method, rank = check_method(method, rank)
    chosen = tuple(sorted(languages))
    encoder = registry.get("embeddings", model_id, progress)
    key = (corpus.fingerprint, encoder.fingerprint, method, rank, chosen)

    def make() -> Neutraliser:
        vectors = corpus_embeddings(registry, corpus, model_id, progress)
        langs = np.asarray(corpus.langs)
        rows = np.flatnonzero(np.isin(langs, chosen)) if chosen else np.arange(len(corpus))
        return fit(np.asarray(vectors[rows]), langs[rows], method, rank, fitted_on=corpus.corpus_id)

    return registry.neutralisers.get_or_fit(key, make)


def reference_neutraliser(registry, model_id: str, method, rank=None, progress=None) -> Neutraliser:
    """For a few typed sentences, which are too few to fit on: the fit on the reference (bundled)
    corpus."""
    return corpus_neutraliser(registry, registry.corpora.get(REFERENCE_CORPUS), model_id, method, rank,
                              progress=progress)


def neutralise_corpus_vectors(registry, corpus, model_id: str, vectors: np.ndarray, neutralise, rank=None,
                              languages: Sequence[str] = (), progress=None
                              ) -> tuple[np.ndarray, Neutraliser | None]:
    """``vectors`` (every row of ``corpus``) with ``neutralise`` fitted on the corpus (rows of
    ``languages``; empty = all) applied: float32 (n, d), L2-normalised. ``none`` returns them as
    they are, with no fit."""
    method, rank = check_method(neutralise, rank)
    if method == "none":
        return vectors, None
    neutraliser = corpus_neutraliser(registry, corpus, model_id, method, rank, languages, progress)
    return neutraliser.apply(np.asarray(vectors), corpus.langs), neutraliser


def neutralise_sentences(registry, model_id: str, vectors: np.ndarray, langs: Sequence[str], neutralise,
                         rank=None, progress=None) -> tuple[np.ndarray, Neutraliser | None]:
    """A few typed sentences (too few to fit on) neutralised with the reference corpus's fit."""
    method, rank = check_method(neutralise, rank)
    if method == "none":
        return vectors, None
    neutraliser = reference_neutraliser(registry, model_id, method, rank, progress)
    return neutraliser.apply(vectors, langs), neutraliser


def neutralised_index(registry, index, neutralise, rank=None, progress=None):
    """An exact (Flat) FAISS index over ``index``'s corpus vectors neutralised (fitted on the whole
    corpus), and the fit. Built per request: applying a fit and copying 100k vectors takes well under
    a second, and a cache of every method and rank would hold a copy of the corpus each."""
    import time

    import faiss

    from backend.vectors.index import CorpusIndex, IndexInfo

    start = time.perf_counter()
    vectors, neutraliser = neutralise_corpus_vectors(registry, index.corpus, index.model_id, index.vectors,
                                                     neutralise, rank, (), progress)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    info = IndexInfo("Flat", len(vectors), int(vectors.shape[1]), False, round(time.perf_counter() - start, 3), False)
    return CorpusIndex(index.corpus, index.model_id, vectors, flat, info, registry.settings), neutraliser
