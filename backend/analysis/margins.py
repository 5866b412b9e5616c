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
