"""Whole numbers from API and UI input: one parser, so every field answers 2.5 or "two" alike.

Gradio's Number sends floats and scripts send strings: 3, 3.0 and "3" are 3; 2.5, "2.5", "two",
inf and nan are refused with InvalidInput naming the field, never truncated.
"""
from __future__ import annotations

from backend.core.errors import InvalidInput, LimitExceeded


def whole_number(value, name: str, low: int | None = None, high: int | None = None) -> int:
    """``value`` as an int. ``name`` starts the messages ("k must be a whole number, got 2.5.").
    Given ``low`` and ``high``, a value outside low..high raises LimitExceeded ("k is 0; it must be
    between 1 and 100."); fields whose range has its own message check it themselves."""
    try:
        whole = int(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidInput(f"{name} must be a whole number, got {str(value)[:20]!r}.") from exc
    if isinstance(value, float) and whole != value:
        raise InvalidInput(f"{name} must be a whole number, got {value!r}.")
    if low is not None and high is not None and not low <= whole <= high:
        raise LimitExceeded(f"{name} is {whole}; it must be between {low} and {high:,}.")
    return whole


def one_of(value, choices, what: str) -> str:
    """``value`` if it is among ``choices``; else InvalidInput naming ``what`` and the choices
    ("Unknown strategy 'x'. Use one of: intersection, forward.")."""
    if value not in choices:
        raise InvalidInput(f"Unknown {what} {str(value)[:40]!r}. Use one of: {', '.join(choices)}.")
    return value
