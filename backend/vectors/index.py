"""FAISS indexes over corpus vectors, with cross-lingual search.

The vectors come from the one corpus-vector store (backend.vectors.store); indexes on disk are
named by the encoder's fingerprint too (``vectors_key``). The index type is chosen by size with
index-factory strings (thresholds in settings) and saved on disk, written to a temp name and
renamed, so a crash mid-build leaves nothing that a later run trusts.
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from backend.core.atomic_files import atomic_write, file_slug
from backend.core.errors import InvalidInput, LimitExceeded
from backend.core.memory import BoundedLRU, KeyedLocks
from backend.core.settings import Settings
from backend.data.corpus import Corpus
from backend.vectors.store import (
    corpus_embeddings,  # noqa: F401 - also the old import path
    vectors_key,
)

CSLS_K = 10



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
    language_probability: float = 1.0  # language ID's confidence in ``lang``; 1.0 where the corpus gave it
    language_uncertain: bool = False  # ``lang`` was detected below the calibrated rule (shown as "xx?")

    def to_dict(self) -> dict:
        """One hit of the ``search`` API."""
        return {"rank": self.rank, "id": self.id, "lang": self.lang, "text": self.text, "score": round(self.score, 7),
                "cosine": round(self.cosine, 7), "same_meaning": self.same_meaning,
                "language_probability": self.language_probability, "language_uncertain": self.language_uncertain}


@dataclass(frozen=True)
class IndexInfo:
    factory: str
    n: int
    dim: int
    on_gpu: bool
    build_seconds: float  # 0.0 when loaded from disk
    loaded_from_disk: bool
    # The approximate index's search setting, chosen at build time as the cheapest that reaches
    # RECALL_TARGET recall@10 against exact search on a sample of the corpus's own rows.
    search_param: str = "exact"  # "efSearch=48", "nprobe=16" or "exact"
    recall_at_10: float = 1.0


class CorpusIndex:
    """A FAISS inner-product index over one corpus under one model."""

    def __init__(self, corpus: Corpus, model_id: str, vectors: np.ndarray, index, info: IndexInfo,
                 settings: Settings):
        self.corpus, self.model_id, self.vectors, self.index, self.info = corpus, model_id, vectors, index, info
        self.settings = settings
        self._langs = np.asarray(corpus.langs)
        # CSLS side radii r_S(y), filled lazily per side language; NaN = not computed yet.
        self._radii: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()  # FAISS search parameters are per-index state
        self._radius_lock = threading.Lock()

    @property
    def nbytes(self) -> int:
        """Resident bytes of the index and its vectors (mmap'd vectors count: they get paged in)."""
        return int(np.asarray(self.vectors).nbytes) + _index_bytes(self.index, self.info)

    def _raw_search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        with self._lock:
            set_search_param(self.index, self.info.search_param, k)
            return self.index.search(np.ascontiguousarray(queries, dtype=np.float32), k)

    def side_rows(self, lang: str) -> tuple[np.ndarray, str]:
        """The rows of the CSLS "other side" for a query in ``lang``: the corpus rows in the query's
        language (Conneau et al. 2018: the source-language neighbourhood of each target y). When the
        corpus has no row in that language, every row is the side (the pre-CSLS-paper mutual-kNN view)."""
        rows = np.flatnonzero(self._langs == lang)
        return (rows, lang) if rows.size else (np.arange(len(self._langs)), "all")

    def csls_radius(self, rows: np.ndarray, side_lang: str, k: int = CSLS_K) -> np.ndarray:
        """r_S(y) for each y in ``rows``: mean cosine of y to its k nearest rows of the side (y itself
        excluded). It depends only on y and the side, never on a language filter, so a filtered
        search ranks its rows exactly as the unfiltered one does. Thread-safe, computed once per row."""
        rows = np.asarray(rows, dtype=np.int64)
        with self._radius_lock:
            cache = self._radii.setdefault(side_lang, np.full(len(self._langs), np.nan, np.float32))
            todo = rows[np.isnan(cache[rows])]
            if todo.size:
                side, _ = self.side_rows(side_lang) if side_lang != "all" else (np.arange(len(self._langs)), "all")
                cache[todo] = _mean_top_k(np.asarray(self.vectors), todo, side, k)
            return cache[rows]

    def search(self, query: np.ndarray, k: int, languages: Sequence[str] = (), csls: bool = False,
               query_meaning: str | None = None, query_lang: str | None = None) -> tuple[SearchHit, ...]:
        """Top-k rows for one L2-normalised query vector (d,), optionally only in ``languages``.

        With a language filter the search is exact over that subset. CSLS (Conneau et al. 2018)
        re-ranks an over-fetched candidate list by 2·cos(q, y) − r_T(q) − r_S(y): r_T(q) is the mean
        cosine of q to its CSLS_K nearest searched rows, r_S(y) that of y to its CSLS_K nearest rows
        in the query's language (``side_rows``).
        """
        n = len(self.corpus)
        if languages:
            rows = np.flatnonzero(np.isin(self._langs, list(languages)))
            if rows.size == 0:
                raise InvalidInput(f"No rows in languages {', '.join(languages)}. The corpus has: "
                                   f"{', '.join(list(self.corpus.language_counts)[:30])}.")
            sims = np.asarray(self.vectors[rows]) @ query
            fetch = min(rows.size, max(k * 5, CSLS_K) if csls else k)
            top = np.argpartition(-sims, fetch - 1)[:fetch]
            cand_rows, cand_sims = rows[top], sims[top]
        else:
            fetch = min(n, max(k * 5, CSLS_K) if csls else k)
            cand_sims, cand_rows = (a[0] for a in self._raw_search(query[None, :], fetch))
            keep = cand_rows >= 0
            cand_rows, cand_sims = cand_rows[keep], cand_sims[keep]
        if csls:
            _, side_lang = self.side_rows(query_lang or "")
            r_query = float(np.sort(cand_sims)[::-1][:CSLS_K].mean())
            scores = 2 * cand_sims - r_query - self.csls_radius(cand_rows, side_lang)
        else:
            scores = cand_sims
        order = np.argsort(-scores, kind="stable")[:k]
        ids = self.corpus.ids
        return tuple(
            SearchHit(rank=r + 1, row=int(cand_rows[o]), id=ids[cand_rows[o]], lang=self.corpus.langs[cand_rows[o]],
                      text=self.corpus.texts[cand_rows[o]], score=float(scores[o]), cosine=float(cand_sims[o]),
                      same_meaning=(ids[cand_rows[o]] == query_meaning) if query_meaning else None,
                      language_probability=self.corpus.language_probability(int(cand_rows[o])),
                      language_uncertain=self.corpus.language_uncertain(int(cand_rows[o])))
            for r, o in enumerate(order)
        )


def _mean_top_k(vectors: np.ndarray, rows: np.ndarray, side: np.ndarray, k: int,
                block: int = 65_536) -> np.ndarray:
    """Mean of each row's k largest cosines to the ``side`` rows, the row itself excluded. Exact,
    in blocks of the side, so memory stays at len(rows) × (k + block) floats."""
    k = max(1, min(k, side.size - 1 if side.size > 1 else 1))
    queries = vectors[rows]
    best = np.full((rows.size, k), -np.inf, dtype=np.float32)
    for start in range(0, side.size, block):
        chunk = side[start:start + block]
        sims = queries @ vectors[chunk].T
        sims[rows[:, None] == chunk[None, :]] = -np.inf  # never a row's own neighbour
        merged = np.concatenate([best, sims], axis=1)
        best = -np.partition(-merged, k - 1, axis=1)[:, :k]
    best[~np.isfinite(best)] = np.nan
    return np.nanmean(best, axis=1).astype(np.float32)


# Recall target for the approximate tiers, and the settings tried in order (cheapest first).
RECALL_TARGET = 0.95
CALIBRATION_QUERIES = 200
EF_LADDER = (16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048)
NPROBE_LADDER = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


def set_search_param(index, search_param: str, k: int) -> None:
    """Apply a calibrated setting ("exact", "efSearch=N", "nprobe=N") to a FAISS index before a
    k-NN search (Search and Mining share it)."""
    import faiss

    if search_param == "exact":
        return
    name, value = search_param.split("=")
    value = int(value)
    faiss.ParameterSpace().set_index_parameter(index, name, max(value, k) if name == "efSearch" else value)


def calibrate_search(index, vectors: np.ndarray, factory: str, k: int = 10, target: float = RECALL_TARGET,
                     n_queries: int = CALIBRATION_QUERIES, seed: int = 0) -> tuple[str, float]:
    """The cheapest efSearch (HNSW) or nprobe (IVF) whose recall@k against exact search, on a sample
    of the corpus's own rows moved off themselves by noise (unseen queries), reaches ``target``; with the recall it reached. The last
    setting of the ladder is returned, with its (lower) recall, when none reaches the target."""
    import faiss

    if factory == "Flat":
        return "exact", 1.0
    vectors = np.asarray(vectors, dtype=np.float32)
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(vectors), min(n_queries, len(vectors)), replace=False)
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(np.ascontiguousarray(vectors))
    # A corpus row is an easy query for a graph index: the graph links exactly its neighbours. So each
    # sampled row is moved off itself by noise as large as the distance to its k-th neighbour, and the
    # query is a point the index has never seen, as a user's query is.
    sims, _ = exact.search(vectors[rows], k + 1)
    spread = np.sqrt(np.maximum(2 - 2 * sims[:, -1], 1e-6) / vectors.shape[1]).astype(np.float32)
    queries = vectors[rows] + spread[:, None] * rng.standard_normal(vectors[rows].shape, dtype=np.float32)
    queries = np.ascontiguousarray(queries / np.linalg.norm(queries, axis=1, keepdims=True))
    truth = exact.search(queries, k)[1]
    name, ladder = ("efSearch", EF_LADDER) if factory.startswith("HNSW") else ("nprobe", NPROBE_LADDER)
    if name == "nprobe":
        ladder = tuple(v for v in ladder if v <= faiss.extract_index_ivf(index).nlist) or (1,)
    recall = 0.0
    for value in ladder:
        set_search_param(index, f"{name}={value}", k)
        found = index.search(queries, k)[1]
        recall = float(np.mean([len(set(f) & set(t)) / k for f, t in zip(found, truth)]))
        if recall >= target:
            break
    return f"{name}={value}", round(recall, 4)


def _index_bytes(index, info: IndexInfo) -> int:
    """Approximate resident bytes of a FAISS index (codes + graph), from its type and size."""
    if info.factory == "Flat":
        return info.n * info.dim * 4
    if info.factory.startswith("HNSW"):
        return info.n * (info.dim * 4 + 2 * 32 * 4)  # vectors + ~2·M neighbour ids a node
    return info.n * 64 + info.dim * 4 * 4096  # PQ codes + coarse centroids (upper bound)


def _build_faiss(vectors: np.ndarray, factory: str):
    import faiss

    index = faiss.index_factory(vectors.shape[1], factory, faiss.METRIC_INNER_PRODUCT)
    if not index.is_trained:
        sample = vectors[np.random.default_rng(0).choice(len(vectors), min(len(vectors), 100_000), replace=False)]
        index.train(np.ascontiguousarray(sample))
    index.add(np.ascontiguousarray(vectors))
    return index


build_index = _build_faiss  # the public name: mining builds its k-NN indexes the same way


def _to_gpu(index, factory: str):
    """Move Flat and IVF indexes to the GPU when faiss-gpu sees one (HNSW has no GPU version)."""
    from backend.core.devices import faiss_gpu_count

    if faiss_gpu_count() == 0 or factory.startswith("HNSW"):
        return index, False
    import faiss

    return faiss.index_cpu_to_gpu(faiss.StandardGpuResources(), 0, index), True


class IndexStore:
    """One index per (corpus, model), built on first use, kept on disk and, within
    ``settings.index_memory_budget_mb``, in memory (least recently used dropped first)."""

    def __init__(self, registry):
        self.registry = registry
        self._indexes: BoundedLRU[tuple[str, str, str], CorpusIndex] = BoundedLRU(
            registry.settings.index_memory_budget_mb * 2**20, lambda index: index.nbytes)
        self._locks = KeyedLocks()

    def get(self, corpus: Corpus, model_id: str, progress=None) -> CorpusIndex:
        vectors = vectors_key(self.registry.get("embeddings", model_id, progress))
        key = (corpus.fingerprint, model_id, vectors)
        with self._locks.hold(key):  # two requests for one index build it once
            index = self._indexes.get(key)
            if index is None:
                index = self._load_or_build(corpus, model_id, vectors, progress)
                self._indexes.put(key, index)
            return index

    def memory_bytes(self) -> int:
        return self._indexes.total_bytes

    def _load_or_build(self, corpus: Corpus, model_id: str, vectors_name: str, progress) -> CorpusIndex:
        import faiss

        settings = self.registry.settings
        if len(corpus) > settings.limits.max_corpus_rows:
            raise LimitExceeded(f"The corpus has {len(corpus):,} rows; the index limit is "
                                f"{settings.limits.max_corpus_rows:,} (BABELSCOPE_MAX_CORPUS_ROWS).")
        vectors = corpus_embeddings(self.registry, corpus, model_id, progress)
        factory = index_factory_string(len(vectors), vectors.shape[1], settings)
        path = (settings.cache_dir / "indexes"
                / f"{corpus.fingerprint}__{file_slug(model_id)}__{vectors_name}__{file_slug(factory)}.faiss")
        meta_path = path.with_suffix(".json")
        start = time.perf_counter()
        if path.exists() and meta_path.exists():
            index, from_disk = faiss.read_index(str(path)), True
            meta = json.loads(meta_path.read_text())
        else:
            if progress:
                progress(0.95, f"Building a {factory} index over {len(vectors):,} vectors")
            index, from_disk = _build_faiss(np.asarray(vectors), factory), False
            search_param, recall = calibrate_search(index, vectors, factory)
            meta = {"search_param": search_param, "recall_at_10": recall, "target": RECALL_TARGET}
            atomic_write(path, faiss.serialize_index(index).tobytes())
            atomic_write(meta_path, json.dumps(meta).encode())  # written last: the pair is complete
        build = 0.0 if from_disk else time.perf_counter() - start
        index, on_gpu = _to_gpu(index, factory)
        info = IndexInfo(factory, len(vectors), int(vectors.shape[1]), on_gpu, round(build, 3), from_disk,
                         meta["search_param"], float(meta["recall_at_10"]))
        return CorpusIndex(corpus, model_id, vectors, index, info, settings)


