"""Values for the API's JSON, which every result's ``to_dict()`` returns: plain lists, rounded
floats, and ``None`` where a number is undefined (JSON has no NaN)."""
from __future__ import annotations

import math

import numpy as np


def matrix_list(matrix, decimals: int = 7) -> list[list[float]]:
    """A matrix as nested lists, 7 decimals (the API promises at least 6)."""
    return np.round(np.asarray(matrix, dtype=np.float64), decimals).tolist()


def nan_to_none(matrix, decimals: int = 6) -> list[list[float | None]]:
    """A matrix as nested lists, rounded, with ``None`` for NaN."""
    return [[None if np.isnan(v) else round(float(v), decimals) for v in row] for row in np.asarray(matrix, float)]


def number(value, decimals: int) -> float | None:
    """A float rounded to ``decimals``; ``None`` for NaN."""
    value = float(value)
    return None if math.isnan(value) else round(value, decimals)
