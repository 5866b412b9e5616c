"""Language labels that say how sure they are: the calibrated thresholds hold on short lines the
calibration never saw, given languages are certain, and the flag reaches sentences, corpora and
mining sides."""
from __future__ import annotations

import collections
import csv
from dataclasses import replace

import pytest

from backend.core.catalogue import APP_LANGUAGES
from backend.core.settings import ASSETS_DIR
from backend.data.sentences import parse_sentences
from backend.models.language_id import FAST, FULL, LanguageIdentifier, added_language_weights, pick

SETS = ASSETS_DIR / "langid_short_lines"


def _rows(name: str) -> list[dict]:
    with open(SETS / f"{name}.tsv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def test_the_short_line_sets_are_what_their_readme_says():
    calibration, heldout = _rows("calibration"), _rows("heldout")
    assert (len(calibration), len(heldout)) == (592, 444)
    assert not {r["concept"] for r in calibration} & {r["concept"] for r in heldout}  # held out means held out
    assert not {r["text"] for r in calibration} & {r["text"] for r in heldout}
    langs = collections.Counter(r["lang"] for r in heldout)
    assert set(APP_LANGUAGES) < set(langs) and all(n == 6 for n in langs.values())
    for row in calibration + heldout:
        if row["lang"] in {"zh", "ja"}:
            assert 2 <= len(row["text"]) <= 8, row
        elif row["lang"] != "th":
            assert 1 <= len(row["text"].split()) <= 6, row


def test_on_held_out_short_lines_unflagged_labels_are_right_96_percent_and_cover_70(registry):
    """The issue's targets for Lingua's full mode, on lines the thresholds never saw."""
    identifier = registry.get("langid")
    assert identifier.wait_until_ready()
    rows = _rows("heldout")
    guesses = identifier.identify_many([r["text"] for r in rows])
    assert {g.detector for g in guesses} == {FULL}
    unflagged = [g.lang == r["lang"] for g, r in zip(guesses, rows) if not g.uncertain]
    assert sum(unflagged) / len(unflagged) >= 0.96
    assert len(unflagged) / len(rows) >= 0.70
    # a confidence at the threshold is always sure; below it only the ratio arm can make it sure
    threshold = registry.settings.langid_threshold_full
    assert all(not g.uncertain for g in guesses if g.probability >= threshold)
    assert any(not g.uncertain for g in guesses if g.probability < threshold)  # the ratio arm does something


def _quick_identifier(settings) -> LanguageIdentifier:
    """A fresh identifier whose quick pass answers (its full model takes 10+ s to warm), calibrated as the app's."""
    return LanguageIdentifier(settings.languages, fast_start=True, thresholds={
        FULL: (settings.langid_threshold_full, settings.langid_ratio_full),
        FAST: (settings.langid_threshold_quick, settings.langid_ratio_quick)},
        added_weights={FULL: settings.langid_added_weight_full, FAST: settings.langid_added_weight_quick})


def test_on_held_out_short_lines_the_quick_pass_meets_the_same_targets(registry):
    """The quick pass (trigram ranking, top 4 re-ranked by the full models) on lines it never saw:
    unflagged labels right >= 0.96 of the time, >= 70% of lines unflagged (0.57 before the re-ranking)."""
    settings = registry.settings
    identifier = _quick_identifier(settings)
    try:
        rows = _rows("heldout")
        guesses = identifier.identify_many([r["text"] for r in rows], quick_ok=True)
    finally:
        identifier.close()
    assert {g.detector for g in guesses} == {FAST}
    unflagged = [g.lang == r["lang"] for g, r in zip(guesses, rows) if not g.uncertain]
    assert sum(unflagged) / len(unflagged) >= 0.96
    assert len(unflagged) / len(rows) >= 0.70
    assert all(not g.uncertain for g in guesses if g.probability >= settings.langid_threshold_quick)


def test_no_language_of_the_previous_list_is_less_often_right_than_with_it():
    """The calibration note, written from the held-out set, names no regression in either mode."""
    note = (ASSETS_DIR.parent / "docs" / "langid_calibration.md").read_text(encoding="utf-8")
    verdicts = [line for line in note.splitlines()
                if line.startswith("Languages with fewer right labels than with the previous list")]
    assert len(verdicts) == 2 and all(line.endswith(": none.") for line in verdicts), verdicts


def test_a_label_the_added_languages_prior_changed_is_flagged(registry):
    """The prior multiplies an added language's confidence for ranking only: the label it picks keeps
    Lingua's confidence and is uncertain however sure that confidence looks."""
    settings = registry.settings
    assert 0 < settings.langid_added_weight_full < 1 and 0 < settings.langid_added_weight_quick < 1
    weights = added_language_weights(settings.languages, 0.5)
    assert "la" in weights and "it" not in weights and "en" not in weights
    assert pick([("la", 0.5), ("it", 0.4), ("es", 0.1)], weights) == ("it", 0.4, 0.5, True)
    assert pick([("la", 0.9), ("it", 0.1)], weights) == ("la", 0.9, 0.1, False)
    assert pick([("la", 0.5), ("it", 0.4)]) == ("la", 0.5, 0.4, False)
    identifier = registry.get("langid")
    assert identifier.is_uncertain("it", 0.99, 0.0, FULL, prior_changed=True)
    assert not identifier.is_uncertain("it", 0.99, 0.0, FULL)
    # Lingua's first choice is Mongolian (0.57) and Shona: the prior gives the old language back, flagged,
    # with Lingua's own (lower) confidence
    for text, lang in (("Файлды ашу", "kk"), ("Odaberite jezik", "hr")):
        guess = identifier.identify(text)
        assert (guess.lang, guess.uncertain) == (lang, True) and guess.probability < 0.5, guess


@pytest.mark.parametrize("quick", [False, True], ids=["full", "quick"])
def test_le_chat_dort_is_never_a_sure_wrong_label(registry, quick):
    """The quick pass called it Albanian before the re-ranking; right or flagged, never a sure wrong label."""
    identifier = _quick_identifier(registry.settings) if quick else registry.get("langid")
    try:
        guess = identifier.identify("Le chat dort.", quick_ok=quick)
    finally:
        if quick:
            identifier.close()
    assert guess.detector == (FAST if quick else FULL)
    assert guess.lang == "fr" or guess.uncertain, guess


def test_whole_english_sentences_are_not_flagged(registry):
    """Lingua spreads its confidence for English over the Latin-script languages: the ratio arm keeps
    the bundled corpus's English rows sure (a threshold alone flagged 90 of 236)."""
    from backend.data.corpus import bundled_corpus

    corpus = bundled_corpus()
    english = [t for lang, t in zip(corpus.langs, corpus.texts) if lang == "en"]
    guesses = registry.get("langid").identify_many(english)
    assert sum(g.lang == "en" and not g.uncertain for g in guesses) >= 0.9 * len(english)


def test_a_given_language_is_certain_and_a_short_guess_is_flagged(registry):
    sentences = parse_sentences("fr: Oui\nSend the message\nDie Bibliothek schließt heute Abend um acht Uhr.",
                                registry.settings, registry.get("langid"))
    given, short, long = sentences
    assert (given.lang, given.lang_probability, given.lang_uncertain) == ("fr", 1.0, False)
    assert short.lang_uncertain and short.lang_probability < registry.settings.langid_threshold_full
    assert (long.lang, long.lang_uncertain) == ("de", False) and long.lang_probability >= 0.9


@pytest.mark.parametrize("code", ["cy", "ga", "is", "la", "yo", "zu"])
def test_the_widened_languages_are_identified_and_can_be_given(registry, code):
    identifier = registry.get("langid")
    assert code in identifier.languages
    texts = [r["text"] for r in _rows("calibration") + _rows("heldout") if r["lang"] == code]
    right = sum(g.lang == code for g in identifier.identify_many(texts))
    assert right >= len(texts) // 2, (code, right, len(texts))
    assert parse_sentences(f"{code}: {texts[0]}", registry.settings, identifier)[0].lang == code


def test_a_corpus_upload_counts_its_uncertain_lines(registry, tmp_path):
    from backend.data.corpus import CorpusStore

    store = CorpusStore(replace(registry.settings, cache_dir=tmp_path / "cache"),
                        identify_language=lambda t: registry.get("langid").identify(t))
    path = tmp_path / "lines.txt"
    path.write_text("Close the window\nSend the message\n"
                    "Die Bibliothek schließt heute Abend um acht Uhr.\nМоя бабушка живёт с нами в маленьком доме.\n",
                    encoding="utf-8")
    summary = store.load_upload(path).summary()
    assert summary["detected_rows"] == 4
    assert summary["uncertain_rows"] == sum(summary["languages_uncertain"].values()) >= 1
    assert "de" not in summary["languages_uncertain"] and "ru" not in summary["languages_uncertain"]
    assert all(n <= summary["languages"][lang] for lang, n in summary["languages_uncertain"].items())
    again = CorpusStore(replace(registry.settings, cache_dir=tmp_path / "cache")).get(summary["corpus_id"])
    assert again.summary() == summary  # the counts survive a restart (kept beside the TSV)


def test_a_mining_side_reports_its_language_confidence(registry):
    from backend.data.bitext_files import bundled_example, side_from_texts

    src, _, _ = bundled_example("fr", "zh")
    identify = registry.get("langid").identify
    side = side_from_texts(src, registry.settings, "fr.txt", identify)
    assert (side.lang, side.lang_uncertain) == ("fr", False) and 0.5 < side.lang_probability <= 1
    mixed = side_from_texts(["ok", "no", "yes", "Ciao"], registry.settings, "short.txt", identify)
    assert mixed.lang_uncertain


def test_corpus_rows_keep_their_confidence_and_an_xx_prefix_sets_a_language(registry, tmp_path):
    import json

    from backend.data.corpus import CorpusStore

    settings = replace(registry.settings, cache_dir=tmp_path / "cache")
    identify = lambda t: registry.get("langid").identify(t)  # noqa: E731
    store = CorpusStore(settings, identify_language=identify)
    path = tmp_path / "rows.csv"
    path.write_text('lang,text\n,Hotel\n,"de: Hotel"\nen,"fr: stays as it is"\n'
                    ',Die Bibliothek schließt heute Abend um acht Uhr.\n', encoding="utf-8")
    corpus = store.load_upload(path)
    assert corpus.texts == ("Hotel", "Hotel", "fr: stays as it is", "Die Bibliothek schließt heute Abend um acht Uhr.")
    assert corpus.langs[1:] == ("de", "en", "de") and corpus.detected_rows == 2
    assert corpus.language_uncertain(0) and corpus.language_probability(0) < settings.langid_threshold_full
    for given in (1, 2):  # by its prefix (the language cell was empty), by its language cell
        assert (corpus.language_probability(given), corpus.language_uncertain(given)) == (1.0, False)
    assert not corpus.language_uncertain(3) and corpus.language_probability(3) > 0.5
    again = CorpusStore(settings).get(corpus.corpus_id)  # kept beside the TSV
    assert (again.probabilities, again.uncertain) == (corpus.probabilities, corpus.uncertain)

    meta_path = settings.cache_dir / "corpora" / f"{corpus.corpus_id}.json"
    meta = json.loads(meta_path.read_text())
    del meta["row_confidence"]  # stored before rows kept their confidence: parsed again when uploaded again
    meta_path.write_text(json.dumps(meta))
    assert CorpusStore(settings, identify_language=identify).load_upload(path).uncertain == corpus.uncertain

    rows = list(zip(corpus.ids, corpus.langs, corpus.texts))  # rows taken from it, as a map selection does
    derived = store.store_rows(rows[:2], "two rows", {0: (corpus.language_probability(0), True)})
    assert derived.uncertain == (True, False) and derived.summary()["uncertain_rows"] == 1
    assert CorpusStore(settings).get(derived.corpus_id).uncertain == (True, False)
