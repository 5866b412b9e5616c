"""The language map: a 2-D layout of a corpus's embeddings, with scores that say what it shows.

Methods: UMAP (umap-learn), PCA and, for small sets, t-SNE (scikit-learn). UMAP takes a fast path:
PCA to 50 dimensions, then a k-NN graph from FAISS (exact below ``EXACT_KNN_MAX`` points, HNSW32
above) handed to umap-learn as ``precomputed_knn``, so its own NN-descent never runs.

Mean-centering subtracts each language's mean embedding before projecting: it removes most of
the "which language is this" direction (Libovický et al. 2020, "On the language neutrality of
pre-trained multilingual representations"). Silhouettes by language and by meaning are computed
on the embeddings both without and with centering, on a sample, so the effect is measured and not
only seen. Layouts are cached on disk as ``.npz`` (no pickle) by corpus hash, model, method,
parameters and centering.
"""
from __future__ import annotations

import hashlib
import io
import json
import time
import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from backend.corpus import Corpus, atomic_write
from backend.encoders.base import l2_normalise
from backend.errors import InvalidInput, LimitExceeded
from backend.memory import KeyedLocks
from backend.map_points import RENDERER, bytes_per_point
from backend.palette import language_palette
from backend.languages import require_corpus_languages
from backend.stats import silhouette

METHODS = ("umap", "pca", "tsne")
MIN_POINTS = 10
PCA_DIMS = 50
UMAP_NEIGHBORS = 15
EXACT_KNN_MAX = 20_000  # below this, exact FAISS k-NN is as fast as HNSW and has recall 1
HNSW_EF_SEARCH = 64  # self-k-NN with k=15: recall@15 ~0.95 on the atlas (bench in the map note)
SCORE_SAMPLE = 5_000  # silhouettes and trustworthiness are O(n^2): scored on a sample
TRUST_K = 10
HDBSCAN_SAMPLE = 5_000  # HDBSCAN is super-linear in 50-d: it clusters a sample
MAX_KMEANS_K = 30
ONE_LANGUAGE_SHARE = 0.9  # a cluster this dominated by one language is flagged
# Bump when the layout code changes: cached layouts from older code are then not reused.
LAYOUT_VERSION = "2"  # 2: the meaning silhouette's own n is stored
# Above this many points UMAP lays out a random sample of this size and the other points are placed
# by nearest-neighbour interpolation in PCA-50 (backend.map_points.interpolate): UMAP on 1M points
# would take most of an hour on 2 cores. Above the default point cap, so app maps are all-UMAP.
UMAP_SAMPLE_MAX = 150_000
INTERPOLATE_K = 5


@dataclass(frozen=True)
class MapScores:
    """Silhouettes (cosine, in the embedding space) and trustworthiness of the 2-D layout.

    ``*_raw`` are without centering, ``*_centered`` with it; None where a score is undefined
    (e.g. no meaning shared by two points of the sample)."""

    silhouette_language_raw: float | None
    silhouette_meaning_raw: float | None
    silhouette_language_centered: float | None
    silhouette_meaning_centered: float | None
    trustworthiness: float
    n_scored: int  # points in the silhouette sample (the language silhouette uses them all)
    n_trust: int  # points in the trustworthiness sample
    trust_k: int = TRUST_K
    n_meaning: int | None = None  # the sample's points that have a meaning id: the meaning silhouette's n


@dataclass(frozen=True)
class Cluster:
    algorithm: str  # "kmeans" or "hdbscan"
    cluster: int
    size: int
    label: str  # its most central sentence (nearest to the cluster's mean)
    label_lang: str
    languages: tuple[tuple[str, int], ...]  # language mix, most frequent first
    top_share: float  # share of the most frequent language
    one_language: bool  # top_share >= ONE_LANGUAGE_SHARE in a map of several languages


@dataclass(frozen=True)
class MapResult:
    corpus_id: str
    corpus_name: str
    model_id: str
    method: str
    centered: bool
    coords: np.ndarray  # float32 (n, 2)
    rows: np.ndarray  # int64 (n,): row of each point in the corpus
    ids: tuple[str, ...]  # meaning id per point ("" when unknown)
    langs: tuple[str, ...]
    texts: tuple[str, ...]
    n_available: int  # rows in the chosen languages before sampling
    sampled: bool  # True when n_available > max_points and points were sampled by language
    max_points: int
    scores: MapScores
    kmeans_labels: np.ndarray  # int (n,)
    clusters: tuple[Cluster, ...]  # K-means clusters, then HDBSCAN clusters (noise left out)
    hdbscan_n: int  # points HDBSCAN clustered (a sample above HDBSCAN_SAMPLE)
    hdbscan_noise: int
    seconds: float  # time to compute (0.0 when loaded from the cache)
    from_cache: bool
    # backend.neutralise method laid out ("center" is the old ``center``); with lir / lsar the
    # scores' "centered" columns hold that method's space
    neutralise: str = "none"
    rank: int | None = None
    languages: tuple[str, ...] = ()  # the languages asked for (empty = all)
    hdbscan_points: np.ndarray | None = None  # int (m,): the points HDBSCAN clustered
    hdbscan_labels: np.ndarray | None = None  # int (m,): their labels, -1 = noise

    def to_dict(self) -> dict:
        """The ``project_map`` API contract (documented in README: keep keys stable)."""
        s = self.scores
        language, meaning = ((s.silhouette_language_centered, s.silhouette_meaning_centered) if self.centered
                             else (s.silhouette_language_raw, s.silhouette_meaning_raw))
        return {
            "corpus": self.corpus_id, "model": self.model_id, "method": self.method, "centered": self.centered,
            "n_points": self.n_points, "n_available": self.n_available, "sampled": self.sampled,
            "silhouette_language": language, "silhouette_meaning": meaning, "trustworthiness": s.trustworthiness,
            "trust_k": s.trust_k, "n_scored": s.n_scored, "n_scored_meaning": s.n_meaning, "n_trust": s.n_trust,
            "silhouettes": {
                "uncentered": {"language": s.silhouette_language_raw, "meaning": s.silhouette_meaning_raw},
                "centered": {"language": s.silhouette_language_centered, "meaning": s.silhouette_meaning_centered},
            },
            "clusters": [{"algorithm": c.algorithm, "cluster": c.cluster, "size": c.size, "label": c.label,
                          "label_lang": c.label_lang, "languages": dict(c.languages), "top_share": c.top_share,
                          "one_language": c.one_language} for c in self.clusters],
            "seconds": self.seconds, "from_cache": self.from_cache,
            # the browser renderer's terms (backend.map_points): colours per language, binary size
            "palette": language_palette(sorted(set(self.langs))), "renderer": RENDERER,
            "bytes_per_point": bytes_per_point(len(set(self.langs)), int(self.kmeans_labels.max()) + 1 if self.n_points else 1),
        }

    @property
    def n_points(self) -> int:
        return len(self.rows)


# ---------------------------------------------------------------- pure steps

def check_finite(vectors: np.ndarray, model_id: str = "the model") -> None:
    bad = ~np.isfinite(vectors).all(axis=1)
    if bad.any():
        raise InvalidInput(f"{model_id} produced NaN or infinite embeddings for {int(bad.sum()):,} of "
                           f"{len(vectors):,} rows, so they cannot be mapped. The model is broken or was "
                           "loaded in the wrong precision; pick another model.")


def center_by_language(vectors: np.ndarray, langs: Sequence[str]) -> np.ndarray:
    """float32 (n, d): each row minus its language's mean, then L2-normalised again."""
    vectors = np.asarray(vectors, dtype=np.float32)
    langs_arr = np.asarray(langs)
    out = np.empty_like(vectors)
    for lang in np.unique(langs_arr):
        rows = langs_arr == lang
        out[rows] = vectors[rows] - vectors[rows].mean(axis=0, keepdims=True)
    return l2_normalise(out)


def _random_meaning_rank(ids_arr: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Per row, the rank of its meaning in one random order of meanings (all translations of a
    meaning share it); rows without a meaning rank last (inf)."""
    meanings, meaning_of = np.unique(ids_arr, return_inverse=True)
    rank = rng.permutation(len(meanings))[meaning_of].astype(np.float64)
    rank[ids_arr == ""] = np.inf
    return rank


def stratified_sample(langs: Sequence[str], ids: Sequence[str], max_points: int, seed: int = 0) -> np.ndarray:
    """Sorted row indices, at most ``max_points``, allocated to languages in proportion to their size
    (largest remainder; every language keeps at least one row). Within a language, rows are taken in
    one random order of meanings shared by all languages, so the sample keeps whole translation sets."""
    langs_arr, ids_arr = np.asarray(langs), np.asarray(ids)
    n = len(langs_arr)
    if n <= max_points:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    meaning_rank = _random_meaning_rank(ids_arr, rng)
    tiebreak = rng.random(n)
    codes, lang_of, counts = np.unique(langs_arr, return_inverse=True, return_counts=True)
    exact = counts * (max_points / n)
    quota = np.maximum(np.floor(exact).astype(np.int64), 1)
    spare = max_points - quota.sum()
    if spare > 0:
        order = np.argsort(-(exact - np.floor(exact)), kind="stable")
        quota[order[:spare]] += 1
    quota = np.minimum(quota, counts)
    keep = []
    for code in range(len(codes)):
        rows = np.flatnonzero(lang_of == code)
        order = np.lexsort((tiebreak[rows], meaning_rank[rows]))
        keep.append(rows[order[:quota[code]]])
    return np.sort(np.concatenate(keep))


def pca_reduce(vectors: np.ndarray, dims: int = PCA_DIMS, seed: int = 0) -> np.ndarray:
    """float32 (n, min(dims, d, n)): the top principal components (randomised SVD above 10k rows)."""
    from sklearn.decomposition import PCA

    dims = min(dims, vectors.shape[1], len(vectors))
    if dims >= vectors.shape[1]:
        return np.asarray(vectors, dtype=np.float32)
    solver = "randomized" if len(vectors) > 10_000 else "full"
    return PCA(dims, svd_solver=solver, random_state=seed).fit_transform(vectors).astype(np.float32)


def knn_graph(vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``k`` nearest rows (itself first) by cosine, with FAISS.

    Returns (indices int64 (n, k), cosine distances float32 (n, k)), the shape umap-learn's
    ``precomputed_knn`` takes. Exact inner product up to EXACT_KNN_MAX rows, HNSW32 above."""
    import faiss

    x = np.ascontiguousarray(l2_normalise(vectors))
    n, d = x.shape
    k = min(k, n)
    if n <= EXACT_KNN_MAX:
        index = faiss.IndexFlatIP(d)
    else:
        index = faiss.index_factory(d, "HNSW32", faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efSearch = max(HNSW_EF_SEARCH, k)
    index.add(x)
    sims, idx = index.search(x, k)
    # HNSW may miss a point itself or return -1: put the point first with distance 0, as UMAP expects.
    missing = idx[:, 0] != np.arange(n)
    if missing.any():
        rows = np.flatnonzero(missing)
        idx[rows, 1:] = idx[rows, :-1]
        sims[rows, 1:] = sims[rows, :-1]
        idx[rows, 0], sims[rows, 0] = rows, 1.0
    bad = idx < 0
    if bad.any():  # pad with self at an infinite-ish distance: UMAP ignores such edges' weight
        idx[bad] = np.nonzero(bad)[0]
        sims[bad] = -1.0
    return idx.astype(np.int64), np.clip(1.0 - sims, 0.0, 2.0).astype(np.float32)


def interpolate_rest(reduced: np.ndarray, sample: np.ndarray, sample_coords: np.ndarray,
                     k: int = INTERPOLATE_K) -> np.ndarray:
    """float32 (n, 2): ``sample_coords`` for the rows in ``sample``; every other row at the
    similarity-weighted mean of its ``k`` nearest sample rows (cosine, FAISS HNSW32 over the sample)."""
    import faiss

    from backend.map_points import interpolate

    x = np.ascontiguousarray(l2_normalise(reduced))
    index = faiss.index_factory(x.shape[1], "HNSW32", faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efSearch = max(HNSW_EF_SEARCH, k)
    index.add(x[sample])
    rest = np.setdiff1d(np.arange(len(x)), sample)
    coords = np.empty((len(x), 2), dtype=np.float32)
    coords[sample] = sample_coords
    for start in range(0, len(rest), 100_000):
        chunk = rest[start:start + 100_000]
        sims, idx = index.search(x[chunk], k)
        sims[idx < 0], idx[idx < 0] = 0.0, 0
        coords[chunk] = interpolate(np.asarray(sample_coords)[idx], sims)
    return coords


def umap_layout(vectors: np.ndarray, fast: bool = True, seed: int | None = None,
                n_neighbors: int = UMAP_NEIGHBORS, sample_max: int = UMAP_SAMPLE_MAX) -> np.ndarray:
    """float32 (n, 2). ``fast``: PCA-50 plus a FAISS k-NN graph; otherwise umap-learn's defaults.
    Above ``sample_max`` points (fast path), UMAP lays out a random sample of that size and
    ``interpolate_rest`` places the others.

    ``seed`` None lets umap-learn use every thread (a fixed seed makes it single-threaded)."""
    import umap

    if not fast:
        return np.asarray(umap.UMAP(random_state=seed).fit_transform(vectors), dtype=np.float32)
    reduced = pca_reduce(vectors)
    if len(reduced) > sample_max:
        sample = np.sort(np.random.default_rng(0 if seed is None else seed).choice(len(reduced), sample_max,
                                                                                  replace=False))
        sample_coords = umap_layout(reduced[sample], fast=True, seed=seed, n_neighbors=n_neighbors,
                                    sample_max=sample_max)
        return interpolate_rest(reduced, sample, sample_coords)
    k = min(n_neighbors, len(reduced) - 1)
    knn = knn_graph(reduced, k)
    with warnings.catch_warnings():
        # no NNDescent search index comes with a FAISS graph: only transform() would need one
        warnings.filterwarnings("ignore", message=".*knn_search_index.*")
        warnings.filterwarnings("ignore", message=".*n_jobs value.*")
        model = umap.UMAP(n_neighbors=k, metric="cosine", precomputed_knn=(*knn, None), random_state=seed,
                          init="pca" if len(reduced) > 20_000 else "spectral", low_memory=True)
        return np.asarray(model.fit_transform(reduced), dtype=np.float32)


def project(vectors: np.ndarray, method: str, seed: int = 0, fast: bool = True) -> np.ndarray:
    """float32 (n, 2) layout of ``vectors`` (n, d) by ``method`` ("umap", "pca" or "tsne")."""
    if method not in METHODS:
        raise InvalidInput(f"Unknown projection method {str(method)[:40]!r}. Use one of: {', '.join(METHODS)}.")
    vectors = np.asarray(vectors, dtype=np.float32)
    if method == "pca":
        from sklearn.decomposition import PCA

        coords = PCA(2, random_state=seed).fit_transform(vectors)
    elif method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = float(min(30, (len(vectors) - 1) / 3))
        coords = TSNE(2, perplexity=perplexity, init="pca", metric="cosine", random_state=seed,
                      n_jobs=-1).fit_transform(pca_reduce(vectors, seed=seed))
    else:
        coords = umap_layout(vectors, fast=fast, seed=None if len(vectors) > 4096 else seed)
    return np.asarray(coords, dtype=np.float32)


def score_sample(ids: Sequence[str], size: int = SCORE_SAMPLE, seed: int = 0) -> np.ndarray:
    """Sorted rows for scoring: whole meanings in random order until ``size`` rows (so the meaning
    silhouette sees translation sets, not scattered singletons); random rows without meanings."""
    ids_arr = np.asarray(ids)
    n = len(ids_arr)
    if n <= size:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    rank = _random_meaning_rank(ids_arr, rng)
    return np.sort(np.lexsort((rng.random(n), rank))[:size])


def map_scores(vectors: np.ndarray, centered: np.ndarray, projected: np.ndarray, coords: np.ndarray,
               ids: Sequence[str], langs: Sequence[str], seed: int = 0) -> MapScores:
    """Silhouettes by language and by meaning (cosine) without and with centering, and the
    trustworthiness (k=10) of ``coords`` against ``projected`` (what was laid out), on samples."""
    from sklearn.manifold import trustworthiness

    ids_arr, langs_arr = np.asarray(ids), np.asarray(langs)
    sample = score_sample(ids_arr, seed=seed)
    meaning_rows = sample[ids_arr[sample] != ""]
    scores = {}
    for name, space in (("raw", vectors), ("centered", centered)):
        scores[f"language_{name}"] = silhouette(np.asarray(space[sample]), langs_arr[sample])
        scores[f"meaning_{name}"] = silhouette(np.asarray(space[meaning_rows]), ids_arr[meaning_rows])
    rng = np.random.default_rng(seed + 1)
    trust_rows = np.sort(rng.choice(len(coords), min(len(coords), SCORE_SAMPLE), replace=False))
    k = min(TRUST_K, len(trust_rows) // 2 - 1)
    trust = trustworthiness(np.asarray(projected[trust_rows]), coords[trust_rows], n_neighbors=k)
    return MapScores(scores["language_raw"], scores["meaning_raw"], scores["language_centered"],
                     scores["meaning_centered"], round(float(trust), 6), len(sample), len(trust_rows), k,
                     len(meaning_rows))


def _summarise(algorithm: str, labels: np.ndarray, rows: np.ndarray, space: np.ndarray,
               langs: np.ndarray, texts: Sequence[str], multilingual: bool) -> list[Cluster]:
    out = []
    for c in sorted(set(labels.tolist()) - {-1}):
        members = rows[labels == c]
        mean = space[members].mean(axis=0)
        central = members[int(np.argmax(space[members] @ mean))]
        codes, counts = np.unique(langs[members], return_counts=True)
        order = np.argsort(-counts, kind="stable")
        mix = tuple((str(codes[i]), int(counts[i])) for i in order)
        share = mix[0][1] / len(members)
        out.append(Cluster(algorithm, int(c), len(members), texts[central], str(langs[central]), mix,
                           round(share, 4), multilingual and share >= ONE_LANGUAGE_SHARE))
    return sorted(out, key=lambda cl: -cl.size)


def cluster_points(space: np.ndarray, reduced: np.ndarray, langs: Sequence[str], texts: Sequence[str],
                   seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """K-means on every point (k = the number of languages, 2..30: if the model sorts by language,
    the clusters are the languages) and HDBSCAN on a sample, both in the PCA-reduced space.

    Returns (kmeans labels (n,), hdbscan rows (m,), hdbscan labels (m,), -1 = noise)."""
    from sklearn.cluster import HDBSCAN, KMeans, MiniBatchKMeans

    n = len(reduced)
    k = int(np.clip(len(set(langs)), 2, MAX_KMEANS_K))
    k = min(k, n)
    if n > 20_000:
        km = MiniBatchKMeans(k, random_state=seed, n_init=3, batch_size=4096)
    else:
        km = KMeans(k, random_state=seed, n_init=4)
    kmeans_labels = km.fit_predict(reduced).astype(np.int32)
    rng = np.random.default_rng(seed + 2)
    hdb_rows = np.sort(rng.choice(n, min(n, HDBSCAN_SAMPLE), replace=False))
    min_size = max(5, len(hdb_rows) // 200)
    hdb_labels = HDBSCAN(min_cluster_size=min_size, copy=True).fit_predict(reduced[hdb_rows]).astype(np.int32)
    return kmeans_labels, hdb_rows.astype(np.int64), hdb_labels


def summarise_clusters(space: np.ndarray, langs: Sequence[str], texts: Sequence[str], kmeans_labels: np.ndarray,
                       hdb_rows: np.ndarray, hdb_labels: np.ndarray) -> tuple[Cluster, ...]:
    """Each cluster's size, language mix and most central sentence (cosine to its mean in ``space``)."""
    langs_arr = np.asarray(langs)
    multilingual = len(set(langs_arr.tolist())) > 1
    space = np.asarray(space)
    every = np.arange(len(space))
    return tuple(_summarise("kmeans", kmeans_labels, every, space, langs_arr, texts, multilingual)
                 + _summarise("hdbscan", hdb_labels, hdb_rows, space, langs_arr, texts, multilingual))


# ---------------------------------------------------------------- the whole map, with a cache

def _check_max_points(max_points, cap: int) -> int:
    try:
        value = int(max_points)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"max_points must be a whole number, got {str(max_points)[:20]!r}.") from exc
    if value < MIN_POINTS:
        raise InvalidInput(f"max_points is {value}; a map needs at least {MIN_POINTS} points.")
    if value > cap:
        raise LimitExceeded(f"max_points is {value:,}; the cap is {cap:,} (BABELSCOPE_MAX_MAP_POINTS). "
                            f"Ask for at most {cap:,}: larger corpora are sampled by language.")
    return value


def _cache_path(settings, corpus: Corpus, model_id: str, key: dict):
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return settings.cache_dir / "layouts" / f"{corpus.fingerprint}__{digest}.npz"


_SCORE_FIELDS = ("silhouette_language_raw", "silhouette_meaning_raw", "silhouette_language_centered",
                 "silhouette_meaning_centered", "trustworthiness")


def _save_layout(path, coords, rows, scores: MapScores, kmeans_labels, hdb_rows, hdb_labels, seconds) -> None:
    buffer = io.BytesIO()
    values = [np.nan if getattr(scores, f) is None else getattr(scores, f) for f in _SCORE_FIELDS]
    np.savez(buffer, coords=coords, rows=rows, kmeans=kmeans_labels, hdb_rows=hdb_rows, hdb_labels=hdb_labels,
             scores=np.array(values, dtype=np.float64),
             counts=np.array([scores.n_scored, scores.n_trust, scores.trust_k, scores.n_meaning], dtype=np.int64),
             seconds=np.array([seconds]))
    atomic_write(path, buffer.getvalue())


def _load_layout(path):
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    values = [None if np.isnan(v) else float(v) for v in arrays["scores"]]
    n_scored, n_trust, trust_k, n_meaning = (int(v) for v in arrays["counts"])
    scores = MapScores(*values[:4], values[4], n_scored, n_trust, trust_k, n_meaning)
    return arrays, scores


def _layout(path, rows, space, vectors, centered, method, ids, langs, texts, progress):
    """The layout, scores and clusters from the layout cache, or computed and saved there."""
    cached = path.exists()
    if cached:
        arrays, scores = _load_layout(path)
        coords, kmeans_labels = arrays["coords"], arrays["kmeans"]
        hdb_rows, hdb_labels, seconds = arrays["hdb_rows"], arrays["hdb_labels"], 0.0
        if not np.array_equal(arrays["rows"], rows):
            cached = False  # a different sample (should not happen): recompute
    if not cached:
        start = time.perf_counter()
        if progress:
            progress(0.5, f"Laying out {len(rows):,} points with {method.upper()}")
        coords = project(space, method)
        if not np.isfinite(coords).all():
            raise InvalidInput(f"The {method.upper()} layout has non-finite coordinates. Try PCA, or fewer points.")
        if progress:
            progress(0.8, "Scoring (silhouettes, trustworthiness) and clustering")
        scores = map_scores(vectors, centered, space, coords, ids, langs)
        kmeans_labels, hdb_rows, hdb_labels = cluster_points(space, pca_reduce(space), langs, texts)
        seconds = round(time.perf_counter() - start, 3)
        _save_layout(path, coords, rows, scores, kmeans_labels, hdb_rows, hdb_labels, seconds)
    return coords, kmeans_labels, hdb_rows, hdb_labels, scores, seconds, cached


_LAYOUT_LOCKS = KeyedLocks()


def project_map(registry, corpus_id: str, model_id: str | None, method: str, languages=(), center: bool = False,
                max_points: int | None = None, progress=None, neutralise: str | None = None, rank=None) -> MapResult:
    """The language map of a stored corpus: layout, scores and clusters (cached on disk).

    ``languages``: a list or comma list ('' or empty = all). Above ``max_points`` rows (at most
    ``settings.limits.max_map_points``), points are sampled stratified by language.
    ``neutralise`` / ``rank``: backend.neutralise, fitted on the chosen languages; ``center=True``
    with no ``neutralise`` means ``neutralise="center"``."""
    from backend.corpus_vectors import corpus_embeddings
    from backend.search_index import vectors_key
    from backend.neutralise import check_method, corpus_neutraliser

    neutralise, rank = check_method("center" if center and neutralise in (None, "", "none") else neutralise, rank)
    center = neutralise != "none"

    settings = registry.settings
    limits = settings.limits
    model_id = model_id or settings.default_model("embeddings")
    settings.resolve("embeddings", model_id)
    if method not in METHODS:
        raise InvalidInput(f"Unknown projection method {str(method)[:40]!r}. Use one of: {', '.join(METHODS)}.")
    max_points = _check_max_points(limits.max_map_points if max_points in (None, "") else max_points,
                                   limits.max_map_points)
    corpus = registry.corpora.get(corpus_id)
    chosen = sorted(require_corpus_languages(languages, corpus, corpus_id))
    langs_arr = np.asarray(corpus.langs)
    candidates = np.flatnonzero(np.isin(langs_arr, chosen)) if chosen else np.arange(len(corpus))
    present = sorted(set(langs_arr[candidates].tolist()))
    if len(present) < 2:
        raise InvalidInput(f"The map needs at least two languages; the selection has only "
                           f"{', '.join(present) or 'none'}. Pick more languages, or a multilingual corpus.")
    if len(candidates) < MIN_POINTS:
        raise InvalidInput(f"The selection has {len(candidates)} rows; a map needs at least {MIN_POINTS}.")
    if method == "tsne" and min(len(candidates), max_points) > limits.max_tsne_points:
        raise LimitExceeded(f"t-SNE is limited to {limits.max_tsne_points:,} points (it is slow and its "
                            f"distances mean little at scale); this map has {min(len(candidates), max_points):,}. "
                            f"Set max_points to {limits.max_tsne_points:,} or fewer, or use UMAP.")
    sub = stratified_sample(langs_arr[candidates], np.asarray(corpus.ids)[candidates], max_points)
    rows = candidates[sub]
    key = {"version": LAYOUT_VERSION, "model": model_id, "method": method, "languages": chosen,
           "vectors": vectors_key(registry.get("embeddings", model_id, progress)),
           "center": bool(center), "max_points": max_points, "pca_dims": PCA_DIMS, "neighbors": UMAP_NEIGHBORS,
           "score_sample": SCORE_SAMPLE, "hdbscan_sample": HDBSCAN_SAMPLE}
    if neutralise not in ("none", "center"):  # so none / center keep their cached layouts
        key.update(neutralise=neutralise, rank=rank)
    path = _cache_path(settings, corpus, model_id, key)

    vectors_all = corpus_embeddings(registry, corpus, model_id, progress)
    vectors = np.asarray(vectors_all[rows], dtype=np.float32)
    check_finite(vectors, model_id)
    ids = tuple(corpus.ids[i] for i in rows)
    langs = tuple(corpus.langs[i] for i in rows)
    texts = tuple(corpus.texts[i] for i in rows)
    if neutralise in ("none", "center"):
        centered = center_by_language(vectors, langs)
    else:
        centered = corpus_neutraliser(registry, corpus, model_id, neutralise, rank, chosen, progress).apply(vectors, langs)
    space = centered if center else vectors
    with _LAYOUT_LOCKS.hold(str(path)):  # two requests for one layout compute it once
        coords, kmeans_labels, hdb_rows, hdb_labels, scores, seconds, cached = _layout(
            path, rows, space, vectors, centered, method, ids, langs, texts, progress)
    clusters = summarise_clusters(space, langs, texts, kmeans_labels, hdb_rows, hdb_labels)
    return MapResult(corpus.corpus_id, corpus.name, model_id, method, bool(center), coords.astype(np.float32),
                     rows.astype(np.int64), ids, langs, texts, len(candidates), len(rows) < len(candidates),
                     max_points, scores, kmeans_labels, clusters, len(hdb_rows), int((hdb_labels == -1).sum()),
                     seconds, cached, neutralise, rank, tuple(chosen), np.asarray(hdb_rows, dtype=np.int64),
                     np.asarray(hdb_labels, dtype=np.int32))
