"""Corpus embeddings on disk and FAISS indexes over them, with cross-lingual search.

Embeddings are ``.npy`` (never pickle), keyed by the corpus fingerprint and the model id. The
index type is chosen by size with index-factory strings (thresholds in config) and saved beside
the embeddings. Every file is written to a temp name and renamed, so a crash mid-build leaves
nothing that a later run trusts.
"""
from __future__ import annotations

import hashlib
import io
import re
import threading
import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from backend.config import Settings
from backend.atomic_files import atomic_write
from backend.corpus import Corpus
from backend.errors import InvalidInput, LimitExceeded

ENCODE_CHUNK = 512
CSLS_K = 10


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def corpus_embeddings(registry, corpus: Corpus, model_id: str, progress=None) -> np.ndarray:
    """float32 (n, d), L2-normalised embeddings of every row, computed once and kept on disk."""
    encoder = registry.get("embeddings", model_id, progress)
    # Keyed by the encoder's fingerprint (engine and version too): an upgrade never serves stale vectors.
    key = hashlib.sha256(encoder.fingerprint.encode()).hexdigest()[:12]
    path = registry.settings.cache_dir / "embeddings" / f"{corpus.fingerprint}__{_slug(model_id)}__{key}.npy"
    if path.exists():
        return np.load(path, allow_pickle=False, mmap_mode="r")
    # Encode each distinct text once: the CLDR atlas repeats a third of its names across locales.
    texts, inverse = np.unique(np.asarray(corpus.texts, dtype=object), return_inverse=True)
    chunks = []
    for start in range(0, len(texts), ENCODE_CHUNK):
        if progress:
            progress(start / len(texts), f"Embedding {len(texts):,} distinct sentences with {model_id}")
        chunks.append(encoder.encode(list(texts[start:start + ENCODE_CHUNK])))
    vectors = np.concatenate(chunks).astype(np.float32)[inverse.ravel()]
    if not np.isfinite(vectors).all():
        raise InvalidInput(f"Model {model_id!r} produced non-finite embeddings for this corpus.")
    buffer = io.BytesIO()
    np.save(buffer, vectors, allow_pickle=False)
    atomic_write(path, buffer.getvalue())
    return vectors


def index_factory_string(n: int, dim: int, settings: Settings) -> str:
    """Exact Flat for small corpora, HNSW32 for medium, IVF-PQ for the largest."""
    limits = settings.limits
    if n <= limits.index_flat_max:
        return "Flat"
    if n <= limits.index_hnsw_max:
        return "HNSW32"
    nlist = int(4 * np.sqrt(n))
    m = next(m for m in (64, 48, 32, 24, 16, 8) if dim % m == 0)
    return f"IVF{nlist},PQ{m}"


@dataclass(frozen=True)
class SearchHit:
    rank: int
    row: int
    id: str
    lang: str
    text: str
    score: float  # cosine, or CSLS when hubness correction is on
    cosine: float
    same_meaning: bool | None  # None when the query's meaning is unknown


@dataclass(frozen=True)
class IndexInfo:
    factory: str
    n: int
    dim: int
    on_gpu: bool
    build_seconds: float  # 0.0 when loaded from disk
    loaded_from_disk: bool


class CorpusIndex:
    """A FAISS inner-product index over one corpus under one model."""

    def __init__(self, corpus: Corpus, model_id: str, vectors: np.ndarray, index, info: IndexInfo,
                 settings: Settings):
        self.corpus, self.model_id, self.vectors, self.index, self.info = corpus, model_id, vectors, index, info
        self.settings = settings
        self._csls_r: np.ndarray | None = None
        self._lock = threading.Lock()

    def _raw_search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        import faiss

        with self._lock:  # one search at a time per index: FAISS params are per-index state
            if self.info.factory.startswith("HNSW"):
                faiss.ParameterSpace().set_index_parameter(self.index, "efSearch", max(self.settings.limits.hnsw_ef_search, k))
            elif self.info.factory.startswith("IVF"):
                faiss.ParameterSpace().set_index_parameter(self.index, "nprobe", 32)
            return self.index.search(np.ascontiguousarray(queries, dtype=np.float32), k)

    def csls_radius(self) -> np.ndarray:
        """r(x): mean cosine of each row to its CSLS_K nearest rows (itself excluded)."""
        if self._csls_r is None:
            k = min(CSLS_K + 1, len(self.corpus))
            sims, _ = self._raw_search(np.asarray(self.vectors), k)
            self._csls_r = sims[:, 1:].mean(axis=1).astype(np.float32)
        return self._csls_r

    def search(self, query: np.ndarray, k: int, languages: Sequence[str] = (), csls: bool = False,
               query_meaning: str | None = None) -> tuple[SearchHit, ...]:
        """Top-k rows for one L2-normalised query vector (d,), optionally only in ``languages``.

        With a language filter the search is exact over that subset; CSLS re-ranks an
        over-fetched candidate list by 2·cos(q, x) − r(x) (Conneau et al. 2018; r(q) is constant
        for one query and does not change the order).
        """
        n = len(self.corpus)
        if languages:
            rows = np.flatnonzero(np.isin(np.asarray(self.corpus.langs), list(languages)))
            if rows.size == 0:
                raise InvalidInput(f"No rows in languages {', '.join(languages)}. The corpus has: "
                                   f"{', '.join(list(self.corpus.language_counts)[:30])}.")
            sims = np.asarray(self.vectors[rows]) @ query
            fetch = min(rows.size, k * 5 if csls else k)
            top = np.argpartition(-sims, fetch - 1)[:fetch]
            cand_rows, cand_sims = rows[top], sims[top]
        else:
            fetch = min(n, k * 5 if csls else k)
            cand_sims, cand_rows = (a[0] for a in self._raw_search(query[None, :], fetch))
            keep = cand_rows >= 0
            cand_rows, cand_sims = cand_rows[keep], cand_sims[keep]
        scores = 2 * cand_sims - self.csls_radius()[cand_rows] if csls else cand_sims
        order = np.argsort(-scores, kind="stable")[:k]
        ids = self.corpus.ids
        return tuple(
            SearchHit(rank=r + 1, row=int(cand_rows[o]), id=ids[cand_rows[o]], lang=self.corpus.langs[cand_rows[o]],
                      text=self.corpus.texts[cand_rows[o]], score=float(scores[o]), cosine=float(cand_sims[o]),
                      same_meaning=(ids[cand_rows[o]] == query_meaning) if query_meaning else None)
            for r, o in enumerate(order)
        )


def _build_faiss(vectors: np.ndarray, factory: str):
    import faiss

    index = faiss.index_factory(vectors.shape[1], factory, faiss.METRIC_INNER_PRODUCT)
    if not index.is_trained:
        sample = vectors[np.random.default_rng(0).choice(len(vectors), min(len(vectors), 100_000), replace=False)]
        index.train(np.ascontiguousarray(sample))
    index.add(np.ascontiguousarray(vectors))
    return index


def _to_gpu(index, factory: str):
    """Move Flat and IVF indexes to the GPU when faiss-gpu sees one (HNSW has no GPU version)."""
    from backend.devices import faiss_gpu_count

    if faiss_gpu_count() == 0 or factory.startswith("HNSW"):
        return index, False
    import faiss

    return faiss.index_cpu_to_gpu(faiss.StandardGpuResources(), 0, index), True


class IndexStore:
    """One index per (corpus, model), built on first use, kept in memory and on disk."""

    def __init__(self, registry):
        self.registry = registry
        self._indexes: dict[tuple[str, str], CorpusIndex] = {}
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, corpus: Corpus, model_id: str, progress=None) -> CorpusIndex:
        key = (corpus.fingerprint, model_id)
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._indexes:
                self._indexes[key] = self._load_or_build(corpus, model_id, progress)
            return self._indexes[key]

    def _load_or_build(self, corpus: Corpus, model_id: str, progress) -> CorpusIndex:
        import faiss

        settings = self.registry.settings
        if len(corpus) > settings.limits.max_corpus_rows:
            raise LimitExceeded(f"The corpus has {len(corpus):,} rows; the index limit is "
                                f"{settings.limits.max_corpus_rows:,}.")
        vectors = corpus_embeddings(self.registry, corpus, model_id, progress)
        factory = index_factory_string(len(vectors), vectors.shape[1], settings)
        path = settings.cache_dir / "indexes" / f"{corpus.fingerprint}__{_slug(model_id)}__{_slug(factory)}.faiss"
        start = time.perf_counter()
        if path.exists():
            index, from_disk = faiss.read_index(str(path)), True
        else:
            if progress:
                progress(0.95, f"Building a {factory} index over {len(vectors):,} vectors")
            index, from_disk = _build_faiss(np.asarray(vectors), factory), False
            atomic_write(path, faiss.serialize_index(index).tobytes())
        build = 0.0 if from_disk else time.perf_counter() - start
        index, on_gpu = _to_gpu(index, factory)
        info = IndexInfo(factory, len(vectors), int(vectors.shape[1]), on_gpu, round(build, 3), from_disk)
        return CorpusIndex(corpus, model_id, vectors, index, info, settings)



@dataclass(frozen=True)
class SearchResult:
    query: str
    query_lang: str
    query_meaning: str | None  # the meaning id when the query is itself a corpus row
    hits: tuple[SearchHit, ...]
    index: IndexInfo
    csls: bool


def search_corpus(registry, corpus_id: str, query: str | None, k: int, languages: Sequence[str] = (),
                  model_id: str | None = None, csls: bool = False, progress=None) -> SearchResult:
    """Cross-lingual search: the ``k`` nearest rows of a corpus to one query sentence."""
    from backend.sentences import parse_sentences

    settings = registry.settings
    model_id = model_id or settings.default_model("embeddings")
    settings.resolve("embeddings", model_id)
    try:
        whole = int(k)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidInput(f"k must be a whole number, got {str(k)[:20]!r}.") from exc
    if isinstance(k, float) and whole != k:
        raise InvalidInput(f"k must be a whole number, got {k!r}.")
    k = whole
    if isinstance(languages, str):  # "fr" or "fr,de" from a script: a language, not its letters
        languages = [x.strip() for x in languages.split(",") if x.strip()]
    if not 1 <= k <= settings.limits.max_search_k:
        raise LimitExceeded(f"k is {k}; it must be between 1 and {settings.limits.max_search_k}.")
    sentences = parse_sentences(query, settings, registry.get("langid"))
    if len(sentences) != 1:
        raise InvalidInput(f"Search takes one query sentence; got {len(sentences)} lines. Keep one.")
    corpus = registry.corpora.get(corpus_id)
    index = registry.indexes.get(corpus, model_id, progress)
    text = sentences[0].text
    meaning = corpus.meaning_of(text)
    vector = registry.embed([text], model_id)[0]
    hits = index.search(vector, k, languages=tuple(languages), csls=csls, query_meaning=meaning)
    return SearchResult(text, sentences[0].lang, meaning, hits, index.info, csls)
