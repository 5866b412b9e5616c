"""/sentiment refuses nasty text, hand-written and generated, with a message that names the fault."""
import pytest
from hypothesis import given

from tests.support.fuzzing import FUZZ, NASTY_IDS, NASTY_TEXT, TEXT_ERRORS, expect_app_error, text_with_a_bad_character


@pytest.mark.fuzzes("/sentiment")
@pytest.mark.parametrize("name, text, fragment", NASTY_TEXT, ids=NASTY_IDS)
def test_sentiment_refuses_nasty_text(client, registry, name, text, fragment):
    expect_app_error(client, registry, "/sentiment", (text, "babelscope-head", "vader"), fragment)


@pytest.mark.fuzzes("/sentiment")
@pytest.mark.slow
@FUZZ
@given(text=text_with_a_bad_character())
def test_sentiment_fuzz(client, registry, text):
    expect_app_error(client, registry, "/sentiment", (text, "babelscope-head", "none"), TEXT_ERRORS)
