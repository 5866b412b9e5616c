"""Margin-based bitext mining, the array part: candidates from k-NN lists, strategies, BUCC scoring.

Pure numpy over the k nearest neighbours of both sides (the FAISS search that finds them is the
job's, in ``backend.capabilities.mining``). The ratio margin itself is ``backend.core.stats``'s
``margin_from_means``, the one implementation every tab shares.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from backend.core.errors import InvalidInput
from backend.core.stats import margin_from_means

STRATEGIES = ("intersection", "forward", "backward", "max-score")
CURVE_POINTS = 200


@dataclass(frozen=True)
class MinedPair:
    source_line: int
    target_line: int
    source: str
    target: str
    score: float  # ratio margin
    cosine: float

    def to_dict(self) -> dict:
        return {"source_line": self.source_line, "target_line": self.target_line, "source": self.source,
                "target": self.target, "score": round(self.score, 6)}


@dataclass(frozen=True)
class GoldScore:
    n_gold: int
    precision: float  # at the chosen threshold; 0 when no pair passes it
    recall: float
    f1: float
    best_f1: float
    best_threshold: float
    curve: tuple[tuple[float, float, float, float], ...]  # (threshold, precision, recall, f1), high to low


def margins_from_knn(fwd_sims: np.ndarray, fwd_ids: np.ndarray, bwd_sims: np.ndarray, bwd_ids: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Each direction's best candidate by ratio margin, from the k-NN lists of both directions.

    fwd_sims, fwd_ids: (n, k) cosines and target rows of each source row's nearest targets; bwd_*:
    (m, k) the same for each target row. NaN cosines (with id -1) are neighbours an approximate
    index did not return. Returns forward (n, 3): target row, margin, cosine for each source row;
    backward (m, 3): source row, margin, cosine for each target row."""
    fwd_mean, bwd_mean = np.nanmean(fwd_sims, axis=1), np.nanmean(bwd_sims, axis=1)

    def best(sims, ids, own_mean, other_mean):
        ids = np.where(ids < 0, 0, ids)
        margins = np.nan_to_num(margin_from_means(sims, own_mean[:, None], other_mean[ids]), nan=-np.inf)
        pick = np.argmax(margins, axis=1)
        rows = np.arange(len(ids))
        return np.stack([ids[rows, pick], margins[rows, pick], sims[rows, pick]], axis=1)

    return best(fwd_sims, fwd_ids, fwd_mean, bwd_mean), best(bwd_sims, bwd_ids, bwd_mean, fwd_mean)


def select_pairs(forward: np.ndarray, backward: np.ndarray, strategy: str) -> list[tuple[int, int, float, float]]:
    """(source row, target row, margin, cosine) candidates of one strategy, best first."""
    fwd = [(i, int(j), m, c) for i, (j, m, c) in enumerate(forward)]
    bwd = [(int(i), j, m, c) for j, (i, m, c) in enumerate(backward)]
    if strategy == "forward":
        chosen = fwd
    elif strategy == "backward":
        chosen = bwd
    elif strategy == "intersection":
        chosen = [p for p in fwd if int(backward[p[1], 0]) == p[0]]
    elif strategy == "max-score":
        chosen, used_src, used_tgt = [], set(), set()
        for p in sorted(fwd + bwd, key=lambda p: -p[2]):
            if p[0] not in used_src and p[1] not in used_tgt:
                chosen.append(p)
                used_src.add(p[0])
                used_tgt.add(p[1])
    else:
        raise InvalidInput(f"Unknown strategy {str(strategy)[:40]!r}. Use one of: {', '.join(STRATEGIES)}.")
    return sorted(chosen, key=lambda p: (-p[2], p[0], p[1]))


def length_ratio_ok(a: str, b: str, max_ratio: float) -> bool:
    """Whether the UTF-8 lengths of ``a`` and ``b`` differ by at most ``max_ratio`` times."""
    la, lb = len(a.encode("utf-8")), len(b.encode("utf-8"))
    return max(la, lb) <= max_ratio * max(min(la, lb), 1)


def score_against_gold(candidates: Sequence[MinedPair], gold: frozenset, threshold: float) -> GoldScore:
    """BUCC scoring: precision, recall and F1 of the candidates at or above each threshold."""
    ordered = sorted(candidates, key=lambda p: -p.score)
    hits = np.array([(p.source_line, p.target_line) in gold for p in ordered], dtype=np.float64)
    tp = np.cumsum(hits)
    predicted = np.arange(1, len(ordered) + 1)
    precision = tp / np.maximum(predicted, 1)
    recall = tp / len(gold)
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0.0)
    scores = np.array([p.score for p in ordered])
    # A threshold keeps every candidate scoring at least it: the curve's points are the last of each tie.
    last = np.r_[scores[1:] != scores[:-1], True] if len(scores) else np.zeros(0, bool)
    at = np.flatnonzero(last)
    if at.size:
        best = at[np.argmax(f1[at])]
        best_f1, best_threshold = float(f1[best]), float(scores[best])
    else:
        best_f1, best_threshold = 0.0, float("nan")
    passing = int(np.sum(scores >= threshold))
    if passing:
        p_at, r_at, f_at = float(precision[passing - 1]), float(recall[passing - 1]), float(f1[passing - 1])
    else:
        p_at, r_at, f_at = 0.0, 0.0, 0.0
    step = max(1, len(at) // CURVE_POINTS)
    curve = tuple((float(scores[i]), float(precision[i]), float(recall[i]), float(f1[i])) for i in at[::step])
    return GoldScore(len(gold), p_at, r_at, f_at, best_f1,
                     round(best_threshold, 6) if np.isfinite(best_threshold) else 0.0, curve)


# ---------------------------------------------------------------- a threshold without gold

AUTO = "auto"
AUTO_MIN_CANDIDATES = 8  # fewer margins than this cannot show two modes: keep the fallback
_EM_STEPS = 200


@dataclass(frozen=True)
class AutoThreshold:
    threshold: float
    method: str  # "gmm" | "valley" | "fallback"
    modes: tuple[float, ...]  # the two modes' centres (low, high) where found

    def describe(self) -> str:
        if self.method == "gmm":
            return (f"auto: where a two-component Gaussian mixture of the margins changes side "
                    f"(modes {self.modes[0]:.4f} and {self.modes[1]:.4f})")
        if self.method == "valley":
            return "auto: the emptiest histogram bin between the margins' two modes"
        return "auto: the margins show no two modes (one population, or too few); the fixed default"


def _normal_pdf(x: np.ndarray, mean: float, sd: float) -> np.ndarray:
    return np.exp(-0.5 * ((x - mean) / sd) ** 2) / (sd * np.sqrt(2 * np.pi))


def gaussian_mixture_2(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A two-component 1-D Gaussian mixture by EM: (weights, means, sds), each (2,), means ascending.
    Starts from the lower and upper quartiles; the sds have a floor of 1e-3 of the data's spread."""
    x = np.asarray(x, np.float64)
    floor = max(float(x.std()) * 1e-3, 1e-9)
    means = np.percentile(x, [25, 75]).astype(np.float64)
    sds = np.full(2, max(float(x.std()) / 2, floor))
    weights = np.full(2, 0.5)
    for _ in range(_EM_STEPS):
        dens = np.stack([w * _normal_pdf(x, m, s) for w, m, s in zip(weights, means, sds)], axis=1) + 1e-300
        resp = dens / dens.sum(axis=1, keepdims=True)
        nk = resp.sum(axis=0) + 1e-12
        new_means = (resp * x[:, None]).sum(axis=0) / nk
        sds = np.maximum(np.sqrt((resp * (x[:, None] - new_means) ** 2).sum(axis=0) / nk), floor)
        weights = nk / nk.sum()
        done = np.allclose(new_means, means, rtol=0, atol=floor * 1e-3)
        means = new_means
        if done:
            break
    order = np.argsort(means)
    return weights[order], means[order], sds[order]


def _mixture_boundary(weights, means, sds) -> float | None:
    """The point between the two means where both weighted densities are equal (None if none)."""
    (w1, w2), (m1, m2), (s1, s2) = weights, means, sds
    # log w1 N(x; m1, s1) = log w2 N(x; m2, s2): a quadratic a x² + b x + c = 0
    a = 1 / (2 * s2 ** 2) - 1 / (2 * s1 ** 2)
    b = m1 / s1 ** 2 - m2 / s2 ** 2
    c = (m2 ** 2 / (2 * s2 ** 2) - m1 ** 2 / (2 * s1 ** 2) + np.log(w1 / s1) - np.log(w2 / s2))
    roots = [-c / b] if abs(a) < 1e-12 else np.roots([a, b, c])
    inside = [float(np.real(r)) for r in roots if abs(np.imag(r)) < 1e-12 and m1 < np.real(r) < m2]
    return min(inside, key=lambda r: abs(r - (m1 + m2) / 2)) if inside else None


def histogram_valley(x: np.ndarray, bins: int = 30) -> tuple[float, tuple[float, float]] | None:
    """The centre of the emptiest bin between the two highest peaks of a smoothed histogram, and
    the two peaks' centres; None when the histogram has one peak."""
    counts, edges = np.histogram(np.asarray(x, np.float64), bins=bins)
    smooth = np.convolve(counts, np.array([1, 2, 1]) / 4, mode="same")
    centres = (edges[:-1] + edges[1:]) / 2
    peaks = [i for i in range(len(smooth)) if smooth[i] > 0 and (i == 0 or smooth[i] >= smooth[i - 1])
             and (i == len(smooth) - 1 or smooth[i] > smooth[i + 1])]
    if len(peaks) < 2:
        return None
    lo, hi = sorted(sorted(peaks, key=lambda i: -smooth[i])[:2])
    if hi - lo < 2:
        return None
    valley = lo + 1 + int(np.argmin(smooth[lo + 1:hi]))
    return float(centres[valley]), (float(centres[lo]), float(centres[hi]))


def bic_gain(x: np.ndarray, weights, means, sds) -> float:
    """BIC of one Gaussian minus BIC of the two-component mixture (5 parameters against 2):
    positive when the data are better told as two populations."""
    two = np.log(sum(w * _normal_pdf(x, m, s) for w, m, s in zip(weights, means, sds)) + 1e-300).sum()
    one = np.log(_normal_pdf(x, float(x.mean()), max(float(x.std()), 1e-12)) + 1e-300).sum()
    return float((2 * two - 5 * np.log(x.size)) - (2 * one - 2 * np.log(x.size)))


def auto_threshold(scores: np.ndarray, fallback: float) -> AutoThreshold:
    """A margin threshold from the candidates' own margins, without gold: the candidates of a
    mining run are a mixture of translations (high margins) and near misses (margins near 1).

    First a two-component Gaussian mixture (EM); when BIC prefers it to one Gaussian, the
    threshold is where the two weighted components are equally likely, between their means. When the mixture finds no such point, the
    valley of the smoothed histogram between its two peaks. With fewer than AUTO_MIN_CANDIDATES
    margins or a single mode, ``fallback``. scores: float (n,) ratio margins."""
    x = np.asarray(scores, np.float64)
    x = x[np.isfinite(x)]
    if x.size < AUTO_MIN_CANDIDATES or float(x.max() - x.min()) < 1e-9:
        return AutoThreshold(float(fallback), "fallback", ())
    weights, means, sds = gaussian_mixture_2(x)
    if bic_gain(x, weights, means, sds) <= 0:
        # One population (e.g. nearly every candidate a translation): two modes would be invented.
        return AutoThreshold(float(fallback), "fallback", ())
    boundary = _mixture_boundary(weights, means, sds)
    separated = weights.min() >= 0.05 and (means[1] - means[0]) > 0.5 * min(sds)
    if boundary is not None and separated:
        return AutoThreshold(round(boundary, 6), "gmm", (round(float(means[0]), 6), round(float(means[1]), 6)))
    valley = histogram_valley(x)
    if valley is not None:
        return AutoThreshold(round(valley[0], 6), "valley", tuple(round(v, 6) for v in valley[1]))
    return AutoThreshold(float(fallback), "fallback", ())
