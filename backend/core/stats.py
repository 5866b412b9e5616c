"""One implementation per metric, so every tab, script and benchmark computes the same number.

- ``wilson_interval``: 95% Wilson score interval of a binomial proportion (Wilson 1927).
- ``knn_mean`` / ``ratio_margin``: the ratio margin of Artetxe & Schwenk (2019, "Margin-based
  parallel corpus mining with multilingual sentence embeddings"): cos(x, y) divided by the mean of
  the average cosine of x to its k nearest candidates and of y to its k nearest queries.
- ``retrieval_hits``: P@1 of a cross-lingual retrieval (the top candidate has the query's meaning).
- ``silhouette``: the cosine silhouette of labelled embeddings (the language map's scores).
"""
from __future__ import annotations

import numpy as np

MARGIN_K = 4  # Artetxe & Schwenk use k = 4
WILSON_Z = 1.96  # 95%


def wilson_interval(successes, n, z: float = WILSON_Z):
    """Wilson score interval for ``successes`` out of ``n`` trials, clipped to [0, 1].

    Scalars give a pair of floats, arrays (elementwise) a pair of float64 arrays. Where n = 0 the
    proportion is unknown, so the interval is (nan, nan): not (0, 0), which would claim certainty."""
    scalar = np.ndim(successes) == 0 and np.ndim(n) == 0
    s = np.asarray(successes, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    if np.any(n < 0) or np.any(s < 0) or np.any(s > n):
        raise ValueError("need 0 <= successes <= n")
    with np.errstate(invalid="ignore", divide="ignore"):
        p = s / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
        low = np.where(n > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
        high = np.where(n > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    if scalar:
        return float(low), float(high)
    return low, high


def knn_mean(sims: np.ndarray, k: int, exclude_self: bool = False) -> np.ndarray:
    """Mean of each row's ``k`` largest similarities (k capped at what a row has).

    ``exclude_self``: ``sims`` is square (a set against itself) and the diagonal is left out."""
    scores = np.asarray(sims, dtype=np.float64)
    if exclude_self:
        scores = scores.copy()
        np.fill_diagonal(scores, -np.inf)
    available = scores.shape[1] - (1 if exclude_self else 0)
    k = max(1, min(int(k), available))
    return np.sort(scores, axis=1)[:, -k:].mean(axis=1)


def margin_k(n_candidates: int, k: int = MARGIN_K, exclude_self: bool = False) -> int:
    """The k that ``ratio_margin`` actually uses against ``n_candidates`` candidates."""
    return max(1, min(int(k), n_candidates - (1 if exclude_self else 0)))


def ratio_margin(sims: np.ndarray, k: int = MARGIN_K, exclude_self: bool = False) -> np.ndarray:
    """Ratio margin of every (query, candidate) pair: float64 with the shape of ``sims``.

    sims: (n_queries, n_candidates) cosines of L2-normalised embeddings. The query side's
    neighbourhood is its k nearest candidates (rows), the candidate side's its k nearest queries
    (columns). ``exclude_self``: a square set against itself, where nobody is their own neighbour.
    A denominator within 1e-12 of zero is replaced by 1e-12 (its sign kept), so nothing divides by 0."""
    sims = np.asarray(sims)
    forward = knn_mean(sims, k, exclude_self)
    backward = knn_mean(sims.T, k, exclude_self)
    return margin_from_means(sims, forward[:, None], backward[None, :])


def margin_from_means(sims, query_mean, candidate_mean) -> np.ndarray:
    """The ratio margin from cosines and each side's k-NN mean cosine (broadcast against ``sims``):
    cos / ((query mean + candidate mean) / 2). Dense here; bitext mining (backend.analysis.margins) passes
    k-NN lists. A denominator within 1e-12 of zero becomes 1e-12 (its sign kept)."""
    denom = (np.asarray(query_mean, dtype=np.float64) + np.asarray(candidate_mean, dtype=np.float64)) / 2.0
    denom = np.where(np.abs(denom) < 1e-12, np.copysign(1e-12, denom), denom)
    return np.asarray(sims, dtype=np.float64) / denom


def retrieval_hits(scores: np.ndarray, query_ids, candidate_ids) -> tuple[int, int]:
    """P@1 counts of a cross-lingual retrieval: (hits, n).

    scores: (n_queries, n_candidates). A query counts when it has a meaning id ("" = none) that
    some candidate shares; it is a hit when its best-scoring candidate has that id. P@1 = hits / n."""
    query_ids, candidate_ids = np.asarray(query_ids), np.asarray(candidate_ids)
    scores = np.asarray(scores)
    if scores.shape != (len(query_ids), len(candidate_ids)):
        raise ValueError(f"scores {scores.shape} do not match {len(query_ids)} queries × {len(candidate_ids)} candidates")
    evaluable = np.isin(query_ids, candidate_ids) & (query_ids != "")
    if not evaluable.any() or scores.shape[1] == 0:
        return 0, 0
    correct = candidate_ids[scores.argmax(axis=1)] == query_ids
    return int((correct & evaluable).sum()), int(evaluable.sum())


def p_at_1(scores: np.ndarray, query_ids, candidate_ids) -> float:
    """P@1 of a retrieval (see ``retrieval_hits``); nan when no query can be evaluated."""
    hits, n = retrieval_hits(scores, query_ids, candidate_ids)
    return hits / n if n else float("nan")


def silhouette(vectors: np.ndarray, labels, decimals: int = 6) -> float | None:
    """Mean cosine silhouette of ``vectors`` (n, d) grouped by ``labels``, rounded.

    None when it is undefined: fewer than two groups, or every point in a group of its own."""
    from sklearn.metrics import silhouette_score

    labels = np.asarray(labels)
    groups = len(np.unique(labels))
    if groups < 2 or groups >= len(labels):
        return None
    return round(float(silhouette_score(np.asarray(vectors), labels, metric="cosine")), decimals)


def character_error_rate(hypothesis: str, reference: str) -> float:
    """Levenshtein distance between the two texts / the reference's length, after NFKC (a full-width
    "？" is the same character as "?") and collapsing whitespace. 0 = identical."""
    import unicodedata

    h, r = (" ".join(unicodedata.normalize("NFKC", t).split()) for t in (hypothesis, reference))
    previous = list(range(len(h) + 1))
    for i, rc in enumerate(r, 1):
        current = [i]
        for j, hc in enumerate(h, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (rc != hc)))
        previous = current
    return previous[-1] / max(1, len(r))


def pair_scores(src: np.ndarray, tgt: np.ndarray, scoring: str) -> np.ndarray:
    """(n_src, n_tgt) scores between L2-normalised source and target embeddings."""
    sims = src @ tgt.T
    return sims if scoring == "cosine" else ratio_margin(sims, MARGIN_K)
