"""/distill (the Labs tab) refuses nasty unlabelled text and bad languages, temperatures and seeds."""
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.fuzzing import FUZZ, NASTY_IDS, NASTY_TEXT, expect_app_error


@pytest.mark.fuzzes("/distill")
@pytest.mark.parametrize("name, text, fragment", NASTY_TEXT, ids=NASTY_IDS)
def test_distill_refuses_nasty_unlabelled_text(client, registry, name, text, fragment):
    if name in ("empty", "whitespace"):  # an empty box means "use the bundled corpus": not an error
        text, fragment = "ok\n\x00", r"U\+0000"
    expect_app_error(client, registry, "/distill", ("de", "1, 2", 0, 0, text), fragment)


DISTILL_CASES = [
    (("xx", "1, 2", 0, 0, ""), "target language 'xx' has no examples"),
    (("", "1, 2", 0, 0, ""), "target language '' has no examples"),
    ((None, "1, 2", 0, 0, ""), "has no examples"),
    (("de", "", 0, 0, ""), "at least one temperature"),
    (("de", "abc", 0, 0, ""), "must be numbers separated by commas"),
    (("de", "0", 0, 0, ""), r"must be > 0 \(got 0\)"),
    (("de", "-1", 0, 0, ""), r"must be > 0 \(got -1\)"),
    (("de", "nan", 0, 0, ""), r"must be > 0 \(got nan\)"),
    (("de", "inf", 0, 0, ""), r"must be > 0 \(got inf\)"),
    (("de", "1e308, 1", 0, 0, ""), "too high; the limit is 100"),
    (("de", "1,2,3,4,5,6,7,8,9", 0, 0, ""), "9 temperatures; the limit is 8"),
    (("de", "1", -1, 0, ""), "less than minimum value 0"),
    (("de", "1", 1000, 0, ""), "greater than maximum value 24"),
    (("de", "1", "abc", 0, ""), "Gold labels per fold must be a number"),
    (("de", "1", 0, -5, ""), "seed must be between 0 and"),
    (("de", "1", 0, 1e30, ""), "seed must be between 0 and"),
    (("de", "1", 0, "abc", ""), "Seed must be a number"),
]


@pytest.mark.fuzzes("/distill")
@pytest.mark.parametrize("args, fragment", DISTILL_CASES, ids=range(len(DISTILL_CASES)))
def test_distill_refuses_bad_parameters(client, registry, args, fragment):
    expect_app_error(client, registry, "/distill", args, fragment)


@pytest.mark.fuzzes("/distill")
@pytest.mark.slow
@FUZZ
@given(temps=st.one_of(
    st.lists(st.floats(max_value=0, allow_nan=False), min_size=1, max_size=3).map(lambda v: ", ".join(map(str, v))),
    st.lists(st.floats(min_value=100.5, max_value=1e300), min_size=1, max_size=3).map(lambda v: ", ".join(map(str, v))),
    st.text(st.characters(categories=("L", "P", "S")), min_size=1, max_size=20)
    .filter(lambda s: s.strip(" ,;") and not re.fullmatch(r"[\s,;0-9.eE+\-_]*", s)),
))
def test_distill_temperatures_fuzz(client, registry, temps):
    expect_app_error(client, registry, "/distill", ("de", temps, 0, 0, ""),
                     "Temperature|temperatures|Temperatures")
