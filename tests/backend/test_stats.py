"""backend.core.stats and backend.core.languages: one implementation per metric, checked by hand and against
independent computations (no model needed)."""
import math

import numpy as np
import pytest

from backend.core.errors import InvalidInput
from backend.core.languages import parse_language_list, require_corpus_languages
from backend.core.stats import knn_mean, margin_k, p_at_1, ratio_margin, retrieval_hits, silhouette, wilson_interval

# ---------------------------------------------------------------- Wilson

def test_wilson_known_values_scalar_and_array_agree():
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4) and high == pytest.approx(0.9433, abs=1e-4)
    lows, highs = wilson_interval(np.array([8, 24]), np.array([10, 48]))
    assert lows[0] == low and highs[0] == high
    assert isinstance(low, float) and lows.shape == (2,)


def test_wilson_is_symmetric_around_a_half_and_contains_the_proportion():
    low, high = wilson_interval(24, 48)
    assert low < 0.5 < high and (0.5 - low) == pytest.approx(high - 0.5, abs=1e-12)
    for s, n in [(0, 1), (1, 3), (7, 9), (50, 50), (3, 1000)]:
        lo, hi = wilson_interval(s, n)
        assert 0 <= lo <= s / n <= hi <= 1


def test_wilson_edges_are_exact_and_narrow_with_n():
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(10, 10)[1] == 1.0
    widths = [np.subtract(*wilson_interval(n // 2, n)[::-1]) for n in (10, 100, 1000)]
    assert widths[0] > widths[1] > widths[2] > 0


def test_wilson_with_no_trials_is_unknown_not_certain():
    low, high = wilson_interval(0, 0)
    assert math.isnan(low) and math.isnan(high)
    lows, highs = wilson_interval(np.array([0, 3]), np.array([0, 4]))
    assert np.isnan(lows[0]) and np.isnan(highs[0]) and 0 < lows[1] < highs[1] < 1


def test_wilson_refuses_impossible_counts():
    with pytest.raises(ValueError):
        wilson_interval(5, 4)
    with pytest.raises(ValueError):
        wilson_interval(-1, 4)


# ---------------------------------------------------------------- ratio margin

def test_ratio_margin_square_by_hand():
    m = np.array([[1.0, 0.9, 0.2], [0.9, 1.0, 0.5], [0.2, 0.5, 1.0]], dtype=np.float32)
    margins = ratio_margin(m, k=1, exclude_self=True)
    # nobody is their own neighbour: row means with k=1 are 0.9, 0.9, 0.5
    assert margins[0, 1] == pytest.approx(0.9 / 0.9)
    assert margins[0, 2] == pytest.approx(0.2 / ((0.9 + 0.5) / 2))
    assert margins.dtype == np.float64 and np.allclose(margins, margins.T)
    assert margin_k(3, 4, exclude_self=True) == 2 and margin_k(3, 4) == 3 and margin_k(10) == 4


def test_ratio_margin_rectangular_uses_each_side_neighbourhood():
    rng = np.random.default_rng(0)
    src = rng.normal(size=(5, 8))
    tgt = rng.normal(size=(7, 8))
    src /= np.linalg.norm(src, axis=1, keepdims=True)
    tgt /= np.linalg.norm(tgt, axis=1, keepdims=True)
    sims = src @ tgt.T
    k = 3
    fwd = np.array([np.mean(sorted(row)[-k:]) for row in sims])
    bwd = np.array([np.mean(sorted(col)[-k:]) for col in sims.T])
    expected = sims / ((fwd[:, None] + bwd[None, :]) / 2)
    np.testing.assert_allclose(ratio_margin(sims, k=k), expected)
    # k above the candidates available is capped per side
    np.testing.assert_allclose(knn_mean(sims, 100), sims.mean(axis=1))
    np.testing.assert_allclose(knn_mean(sims.T, 100), sims.mean(axis=0))


def test_ratio_margin_never_divides_by_zero():
    sims = np.array([[0.0, 0.0], [0.0, 0.0]])
    assert np.isfinite(ratio_margin(sims, k=1)).all()


# ---------------------------------------------------------------- P@1

def test_retrieval_hits_counts_only_queries_with_a_translation():
    scores = np.array([[0.9, 0.1, 0.0],    # a -> a: hit
                       [0.8, 0.2, 0.1],    # b -> a: miss
                       [0.1, 0.2, 0.9],    # x: no candidate has it: not counted
                       [0.5, 0.4, 0.3]])   # "": no meaning: not counted
    hits, n = retrieval_hits(scores, ["a", "b", "x", ""], ["a", "b", "c"])
    assert (hits, n) == (1, 2) and p_at_1(scores, ["a", "b", "x", ""], ["a", "b", "c"]) == 0.5
    assert math.isnan(p_at_1(scores, ["x", "y", "z", ""], ["a", "b", "c"]))
    with pytest.raises(ValueError):
        retrieval_hits(scores, ["a"], ["a", "b", "c"])


def test_p_at_1_matches_an_independent_loop():
    rng = np.random.default_rng(1)
    scores = rng.random((40, 30))
    qids = [f"m{i % 35}" for i in range(40)]
    cids = [f"m{j}" for j in range(30)]
    ok = [qids[i] in cids for i in range(40)]
    hits = sum(1 for i in range(40) if ok[i] and cids[int(np.argmax(scores[i]))] == qids[i])
    assert retrieval_hits(scores, qids, cids) == (hits, sum(ok))


# ---------------------------------------------------------------- silhouette

def test_silhouette_separates_clusters_and_is_undefined_when_trivial():
    rng = np.random.default_rng(2)
    a = np.array([1.0, 0, 0]) + 0.05 * rng.normal(size=(20, 3))
    b = np.array([0, 1.0, 0]) + 0.05 * rng.normal(size=(20, 3))
    vectors = np.vstack([a, b])
    labels = ["a"] * 20 + ["b"] * 20
    good = silhouette(vectors, labels)
    shuffled = silhouette(vectors, rng.permutation(labels))
    assert good > 0.8 and shuffled < 0.2
    assert silhouette(vectors, ["a"] * 40) is None
    assert silhouette(vectors[:3], ["a", "b", "c"]) is None


# ---------------------------------------------------------------- language lists

def test_parse_language_list_forms():
    assert parse_language_list(None) == [] and parse_language_list("") == [] and parse_language_list([]) == []
    assert parse_language_list("fr") == ["fr"]  # a language, not its letters
    assert parse_language_list(" fr, de ,,fr") == ["fr", "de"]
    assert parse_language_list(["zh", " en", "", "zh"]) == ["zh", "en"]
    assert parse_language_list(("en",)) == ["en"]


def test_require_corpus_languages_names_the_unknown_ones():
    class Corpus:
        language_counts = {"en": 3, "fr": 3}

    assert require_corpus_languages("fr,en", Corpus(), "c1") == ["fr", "en"]
    assert require_corpus_languages([], Corpus(), "c1") == []
    with pytest.raises(InvalidInput, match=r"tlh are not in corpus 'c1'\. It has: en, fr"):
        require_corpus_languages("en,tlh", Corpus(), "c1")


def test_character_error_rate():
    from backend.core.stats import character_error_rate

    assert character_error_rate("Bitte", "Bitte") == 0.0
    assert character_error_rate("Bltte", "Bitte") == 0.2  # one substitution in five
    assert character_error_rate("你好？", "你好?") == 0.0  # NFKC: full-width "？" is "?"
    assert character_error_rate("", "abc") == 1.0 and character_error_rate("a  b", "a b") == 0.0
