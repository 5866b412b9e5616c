"""The Features tab refuses bad text (/features) and unknown corpora or features (/feature_atlas,
/feature_card)."""
import pytest
from hypothesis import given

from tests.support.fuzzing import FUZZ, TEXT_ERRORS, expect_app_error, text_with_a_bad_character


@pytest.mark.fuzzes("/features")
@pytest.mark.slow
@FUZZ
@given(text=text_with_a_bad_character(max_lines=3))
def test_features_fuzz(client, registry, text):
    expect_app_error(client, registry, "/features", (text, 8), TEXT_ERRORS)


@pytest.mark.parametrize("api, args, fragment", [
    pytest.param("/feature_atlas", ("no-such-corpus", 500), "Unknown corpus id",
                 marks=pytest.mark.fuzzes("/feature_atlas")),
    pytest.param("/feature_card", ("no-such-corpus", 500, 7), "Unknown corpus id",
                 marks=pytest.mark.fuzzes("/feature_card")),
    pytest.param("/feature_card", ("bundled", 500, 10**9), "feature id is 1000000000; it must be between 0 and",
                 marks=pytest.mark.fuzzes("/feature_card")),
])
def test_feature_views_refuse_bad_requests(client, registry, api, args, fragment):
    expect_app_error(client, registry, api, args, fragment)
