"""One implementation per metric, so every tab, script and benchmark computes the same number.

- ``wilson_interval``: 95% Wilson score interval of a binomial proportion (Wilson 1927).
- ``knn_mean`` / ``ratio_margin``: the ratio margin of Artetxe & Schwenk (2019, "Margin-based
  parallel corpus mining with multilingual sentence embeddings"): cos(x, y) divided by the mean of
  the average cosine of x to its k nearest candidates and of y to its k nearest queries.
- ``retrieval_hits``: P@1 of a cross-lingual retrieval (the top candidate has the query's meaning).
- ``silhouette``: the cosine silhouette of labelled embeddings (the language map's scores).
- ``mantel_test``: the Mantel test between two distance matrices (Mantel 1967), and the partial
  Mantel test given a third (Smouse, Long & Sokal 1986), with a permutation p-value and a bootstrap
  interval over languages (the Languages tab). Here, not in backend/analysis, because it is a
  statistic like the others: any tab comparing two distance matrices computes the same number.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

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


MANTEL_PERMUTATIONS = 9_999
MANTEL_BOOTSTRAP = 1_000
_CHUNK = 64  # permutations per matrix product


@dataclass(frozen=True)
class MantelResult:
    """A (partial) Mantel test. r values are None where a matrix is constant (r undefined)."""

    pearson_r: float | None
    spearman_r: float | None
    p_value: float | None  # one-sided (r > 0), of the Pearson r, by permuting the languages
    spearman_p_value: float | None  # the same permutations, for the Spearman r
    n_languages: int
    n_pairs: int
    pearson_r_ci: tuple[float, float] | None  # 95% percentile bootstrap over languages
    permutations: int  # relabellings tried (n! when every one was)

    def to_dict(self) -> dict:
        return {"pearson_r": self.pearson_r, "spearman_r": self.spearman_r, "p_value": self.p_value,
                "spearman_p_value": self.spearman_p_value, "n_languages": self.n_languages,
                "n_pairs": self.n_pairs, "pearson_r_ci": list(self.pearson_r_ci) if self.pearson_r_ci else None,
                "permutations": self.permutations}


def _ranked_matrix(matrix: np.ndarray, upper: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """``matrix`` with its upper-triangle values replaced by their ranks (ties averaged), symmetric."""
    from scipy.stats import rankdata

    out = np.zeros_like(matrix, dtype=np.float64)
    out[upper] = rankdata(matrix[upper])
    return out + out.T


def _centred_unit(values: np.ndarray) -> np.ndarray | None:
    if values.size < 2:
        return None
    centred = values - values.mean()
    norm = np.sqrt(centred @ centred)
    return None if norm < 1e-12 * max(1.0, np.abs(values).max()) else centred / norm


def _partial(r_ab, r_ac, r_bc):
    """The partial correlation of a and b given c (arrays broadcast)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return (r_ab - r_ac * r_bc) / np.sqrt((1 - r_ac ** 2) * (1 - r_bc ** 2))


def _symmetric(values: np.ndarray, upper, n: int) -> np.ndarray:
    out = np.zeros((n, n))
    out[upper] = values
    return out + out.T


def mantel_test(a, b, control=None, permutations: int = MANTEL_PERMUTATIONS, seed: int = 0,
                bootstrap: int = MANTEL_BOOTSTRAP) -> MantelResult:
    """Mantel test of two symmetric (n, n) distance matrices over their upper triangles (the
    n(n-1)/2 pairs). With ``control`` (n, n), the partial Mantel test: the correlation of a and b
    once c is partialled out of both (equal to correlating the residuals of a and b regressed on c).

    p: one-sided, the share of ``permutations`` random relabellings of a's languages (rows and
    columns together; seeded) whose r is at least the observed one, counting the observed one:
    (1 + hits) / (1 + permutations). Where n! <= permutations + 1 (n <= 7 for 9,999), every
    relabelling is tried once instead and p is exact: hits / n!. Spearman r: the same on the ranks of each triangle; its
    p-value uses the same permutations. Pairs are not independent (each language is in n - 1 of
    them), so no Fisher interval on n pairs: the interval is a 95% percentile bootstrap over
    languages (``bootstrap`` resamples, pairs of a language with its own copy left out)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    n = a.shape[0]
    if a.shape != (n, n) or b.shape != (n, n) or (control is not None and np.shape(control) != (n, n)):
        raise ValueError("mantel_test needs square matrices of one shape")
    if n < 3 or not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("mantel_test needs at least 3 languages and finite distances")
    upper = np.triu_indices(n, 1)
    c = None if control is None else np.asarray(control, dtype=np.float64)
    ranked = {"pearson": (a, b, c)}
    ranked["spearman"] = tuple(None if m is None else _ranked_matrix(m, upper) for m in (a, b, c))
    exact = permutations > 0 and math.factorial(n) <= permutations + 1
    if exact:  # few languages: every relabelling once (the identity among them), an exact p
        perms = np.array(list(itertools.permutations(range(n))))
    else:
        rng = np.random.default_rng(seed)
        perms = np.stack([rng.permutation(n) for _ in range(permutations)]) if permutations else np.zeros((0, n), int)
    observed, p_values = {}, {}
    for kind, (ma, mb, mc) in ranked.items():
        a_unit, b_unit = _centred_unit(ma[upper]), _centred_unit(mb[upper])
        c_unit = None if mc is None else _centred_unit(mc[upper])
        if a_unit is None or b_unit is None or (mc is not None and c_unit is None):
            observed[kind] = p_values[kind] = None
            continue
        r_bc = None if c_unit is None else float(b_unit @ c_unit)
        if r_bc is not None and abs(r_bc) >= 1 - 1e-12:
            observed[kind] = p_values[kind] = None
            continue
        r_ab, r_ac = float(a_unit @ b_unit), None if c_unit is None else float(a_unit @ c_unit)
        r = r_ab if c_unit is None else float(_partial(r_ab, r_ac, r_bc))
        # A permutation relabels a's languages: its triangle holds the same values reordered, so
        # their mean and norm are unchanged, and r is half the sum of the permuted centred matrix
        # times b's (zero diagonals), for each of b and c at once.
        a_full = _symmetric(a_unit, upper, n)
        # permuted matrices in chunks times (n², k): one BLAS product per chunk (a 1-D dot per
        # permutation ran 25x slower here on a loaded machine)
        others = np.stack([_symmetric(u, upper, n).ravel() for u in (b_unit, c_unit) if u is not None], axis=1) / 2
        permuted = np.concatenate([np.stack([a_full[p][:, p].ravel() for p in perms[lo:lo + _CHUNK]]) @ others
                                   for lo in range(0, len(perms), _CHUNK)]) if len(perms) else np.zeros((0, 2))
        stats = permuted[:, 0] if c_unit is None else _partial(permuted[:, 0], permuted[:, 1], r_bc)
        hits = int((stats >= r - 1e-12).sum())
        observed[kind] = round(r, 6)
        if exact:
            p_values[kind] = round(hits / len(perms), 6)
        else:
            p_values[kind] = round((1 + hits) / (1 + permutations), 6) if permutations else None
    interval = _bootstrap_interval(a, b, c, bootstrap, seed) if observed["pearson"] is not None else None
    return MantelResult(observed["pearson"], observed["spearman"], p_values["pearson"], p_values["spearman"],
                        n, len(upper[0]), interval, len(perms) if exact else permutations)


def _bootstrap_interval(a, b, c, resamples: int, seed: int) -> tuple[float, float] | None:
    n = a.shape[0]
    rng = np.random.default_rng(seed + 1)
    upper = np.triu_indices(n, 1)
    matrices = (a, b) + (() if c is None else (c,))
    values = []
    for _ in range(resamples):
        pick = np.sort(rng.integers(0, n, n))
        keep = pick[upper[0]] != pick[upper[1]]  # a language paired with its own copy is no pair
        units = [_centred_unit(m[pick][:, pick][upper][keep]) for m in matrices]
        if any(u is None for u in units):
            continue
        r_ab = units[0] @ units[1]
        if c is not None:
            r_ab = _partial(r_ab, units[0] @ units[2], units[1] @ units[2])
        if np.isfinite(r_ab):
            values.append(float(r_ab))
    if not values or len(values) < resamples // 2:
        return None
    low, high = np.percentile(values, [2.5, 97.5])
    return round(float(low), 6), round(float(high), 6)
