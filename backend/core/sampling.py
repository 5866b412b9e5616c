"""Samples that keep whole translation sets: for the map's point cap, the layer curves and every
O(n^2) score (silhouettes, trustworthiness)."""
from __future__ import annotations

from typing import Sequence

import numpy as np

SCORE_SAMPLE = 5_000  # silhouettes and trustworthiness are O(n^2): scored on a sample


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
