"""Distances between languages as a model sees them, and the views of a distance matrix: the
clustering order and dendrogram (average linkage), a 2-D MDS layout, and the largest complete
sub-matrix where some distances are undefined.

- ``centroid``: cosine distance between language centroids, a centroid being the mean of a
  language's L2-normalised sentence vectors over all its rows (Libovický et al. 2020 clustered
  mBERT's centroids this way).
- ``retrieval``: 1 - the symmetric bitext P@1 of two languages: every sentence of each retrieves
  its nearest (cosine) sentence of the other; P@1 pools both directions' hits over both directions'
  queries (backend.core.stats.retrieval_hits).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from backend.core.stats import retrieval_hits

DISTANCES = ("centroid", "retrieval")


def centroid_distances(vectors: np.ndarray, langs: Sequence[str], languages: Sequence[str]) -> np.ndarray:
    """float64 (k, k) cosine distances 1 - cos between the centroids of ``languages``.

    vectors: (n, d) L2-normalised rows; langs: (n,) their languages. A centroid of length zero
    (vectors that cancel out, as after ``center``) has no direction: its row is NaN."""
    langs_arr = np.asarray(langs)
    vectors = np.asarray(vectors, dtype=np.float64)
    centroids = np.stack([vectors[langs_arr == lang].mean(axis=0) for lang in languages])
    norms = np.linalg.norm(centroids, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        unit = centroids / norms[:, None]
    unit[norms < 1e-9] = np.nan
    out = 1.0 - np.clip(unit @ unit.T, -1.0, 1.0)
    np.fill_diagonal(out, np.where(norms < 1e-9, np.nan, 0.0))
    return out


def retrieval_distances(vectors: np.ndarray, ids: Sequence[str], langs: Sequence[str],
                        languages: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(distances, n): float64 (k, k) 1 - symmetric P@1 by cosine, NaN where two languages share no
    meaning id; int (k, k) queries behind each cell (both directions)."""
    ids_arr, langs_arr = np.asarray(ids), np.asarray(langs)
    vectors = np.asarray(vectors, dtype=np.float32)
    rows = [np.flatnonzero(langs_arr == lang) for lang in languages]
    k = len(languages)
    out = np.full((k, k), np.nan)
    n = np.zeros((k, k), dtype=np.int64)
    for a in range(k):
        out[a, a] = 0.0
        for b in range(a + 1, k):
            sims = vectors[rows[a]] @ vectors[rows[b]].T
            hits_ab, n_ab = retrieval_hits(sims, ids_arr[rows[a]], ids_arr[rows[b]])
            hits_ba, n_ba = retrieval_hits(sims.T, ids_arr[rows[b]], ids_arr[rows[a]])
            n[a, b] = n[b, a] = n_ab + n_ba
            if n_ab + n_ba:
                out[a, b] = out[b, a] = 1.0 - (hits_ab + hits_ba) / (n_ab + n_ba)
    return out, n


def complete_subset(*matrices: np.ndarray) -> np.ndarray:
    """Indices of a large set of languages on which every matrix is defined (no NaN): the language
    with the most undefined cells is dropped until none is left (greedy; ties: the later one)."""
    undefined = np.zeros(matrices[0].shape, dtype=bool)
    for m in matrices:
        undefined |= ~np.isfinite(m)
    keep = list(range(undefined.shape[0]))
    while keep:
        sub = undefined[np.ix_(keep, keep)]
        counts = sub.sum(axis=1)
        if not counts.any():
            break
        worst = int(np.flatnonzero(counts == counts.max())[-1])
        keep.pop(worst)
    return np.asarray(keep, dtype=np.int64)


def average_linkage(distances: np.ndarray) -> np.ndarray:
    """scipy's average-linkage (UPGMA) matrix (k - 1, 4) of a complete symmetric distance matrix."""
    from scipy.cluster.hierarchy import linkage
    from scipy.spatial.distance import squareform

    d = np.asarray(distances, dtype=np.float64)
    d = (d + d.T) / 2
    np.fill_diagonal(d, 0.0)
    return linkage(squareform(np.clip(d, 0.0, None), checks=False), method="average")


def leaf_order(link: np.ndarray) -> list[int]:
    """The dendrogram's left-to-right order of the leaves (the heatmap's order)."""
    from scipy.cluster.hierarchy import leaves_list

    return [int(i) for i in leaves_list(link)]


def mds_layout(distances: np.ndarray, seed: int = 0) -> np.ndarray:
    """float64 (k, 2): metric MDS (scikit-learn's SMACOF, classical-MDS start, seeded) of a complete
    distance matrix."""
    from sklearn.manifold import MDS

    d = np.asarray(distances, dtype=np.float64)
    d = np.clip((d + d.T) / 2, 0.0, None)
    np.fill_diagonal(d, 0.0)
    if len(d) < 3 or not d.max() > 0:  # all at one point: nothing to lay out
        return np.zeros((len(d), 2))
    mds = MDS(n_components=2, metric="precomputed", init="classical_mds", n_init=1, random_state=seed)
    return mds.fit_transform(d)


def same_script_matrix(scripts: Sequence[str | None]) -> np.ndarray:
    """float64 (k, k): 0 where two languages share a script, 1 where not (an unknown script is
    its own)."""
    k = len(scripts)
    out = np.ones((k, k))
    for a in range(k):
        for b in range(k):
            if a == b or (scripts[a] is not None and scripts[a] == scripts[b]):
                out[a, b] = 0.0
    return out

