"""backend.core.validation.whole_number: one answer for every whole-number field."""
import math

import pytest

from backend.core.errors import InvalidInput, LimitExceeded
from backend.core.validation import whole_number


@pytest.mark.parametrize("value", [3, 3.0, "3", " 3 "])
def test_whole_numbers_in_any_spelling_are_taken(value):
    assert whole_number(value, "k", 1, 5) == 3


@pytest.mark.parametrize(("value", "message"), [
    (2.5, "k must be a whole number, got 2.5."),
    ("2.5", "k must be a whole number, got '2.5'."),
    ("two", "k must be a whole number, got 'two'."),
    (None, "k must be a whole number, got 'None'."),
    (math.inf, "k must be a whole number, got 'inf'."),
    (math.nan, "k must be a whole number, got 'nan'."),
    ("9" * 40, None),  # a whole number, but out of range
])
def test_anything_else_is_refused_never_truncated(value, message):
    if message is None:
        with pytest.raises(LimitExceeded):
            whole_number(value, "k", 1, 5)
        return
    with pytest.raises(InvalidInput) as caught:
        whole_number(value, "k", 1, 5)
    assert str(caught.value) == message


def test_the_range_is_checked_only_when_given():
    with pytest.raises(LimitExceeded, match=r"^max_rows is 9; it must be between 10 and 120,000\.$"):
        whole_number(9, "max_rows", 10, 120_000)
    assert whole_number(-7, "A point index") == -7
