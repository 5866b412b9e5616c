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

import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from backend.core.errors import InvalidInput
from backend.core.normalise import l2_normalise
from backend.core.sampling import SCORE_SAMPLE, score_sample
from backend.core.stats import silhouette
from backend.core.validation import one_of

METHODS = ("umap", "pca", "tsne")
MIN_POINTS = 10
PCA_DIMS = 50
UMAP_NEIGHBORS = 15
EXACT_KNN_MAX = 20_000  # below this, exact FAISS k-NN is as fast as HNSW and has recall 1
HNSW_EF_SEARCH = 64  # self-k-NN with k=15: recall@15 ~0.95 on the atlas (bench in the map note)
TRUST_K = 10
HDBSCAN_SAMPLE = 5_000  # HDBSCAN is super-linear in 50-d: it clusters a sample
MAX_KMEANS_K = 30
ONE_LANGUAGE_SHARE = 0.9  # a cluster this dominated by one language is flagged
# Above this many points UMAP lays out a random sample of this size and the other points are placed
# by nearest-neighbour interpolation in PCA-50 (backend.analysis.map_payload.interpolate): UMAP on 1M points
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

    from backend.analysis.map_payload import interpolate

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
    one_of(method, METHODS, "projection method")
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


