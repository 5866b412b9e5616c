"""The Layers view and the neutralisation table through the real app's API (gradio_client)."""
import math

import pytest
from gradio_client.exceptions import AppError

LAYER_KEYS = {"model", "layers", "p_at_1", "p_at_1_ci", "silhouette_language", "silhouette_meaning", "n", "engine"}


def test_layers_endpoint_takes_corpus_model_languages(client):
    api = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert [p["parameter_name"] for p in api["/layers"]["parameters"]] == ["corpus", "model", "languages"]
    assert [p["parameter_name"] for p in api["/compare_neutralisation"]["parameters"]] == [
        "corpus", "model", "languages"]


def test_layers_returns_one_value_per_layer(client):
    _, summary, curves = client.predict("bundled", "all-MiniLM-L6-v2", "de,en,fr,zh", api_name="/layers")
    assert set(curves) == LAYER_KEYS
    assert curves["model"] == "all-MiniLM-L6-v2" and curves["layers"] == list(range(7))
    assert curves["n"] == 4 * 3 * 220
    assert curves["engine"] in ("in-process", "ray")
    for key in ("p_at_1", "p_at_1_ci", "silhouette_language", "silhouette_meaning"):
        assert len(curves[key]) == 7
    for p, (low, high) in zip(curves["p_at_1"], curves["p_at_1_ci"]):
        assert 0 <= low <= p <= high <= 1
    assert "best P@1 at layer" in summary


def test_compare_neutralisation_has_a_row_per_method_and_rank(client):
    _, compared = client.predict("bundled", "all-MiniLM-L6-v2", "de,en,fr,zh", api_name="/compare_neutralisation")
    methods = [(r["method"], r["rank"]) for r in compared["rows"]]
    assert methods[:2] == [("none", None), ("center", None)]
    assert ("lir", 1) in methods and ("lsar", 3) in methods and ("lsar", 4) not in methods
    rows = {m: r for m, r in zip(methods, compared["rows"])}
    # all-MiniLM-L6-v2 sorts by language; every neutralisation lowers that (measured 0.30 -> <= 0)
    for key, row in rows.items():
        assert not math.isnan(row["p_at_1_cosine"]) and row["n"] == 4 * 3 * 220
        if key != ("none", None) and key != ("lsar", 1):
            assert row["silhouette_language"] < rows[("none", None)]["silhouette_language"]


@pytest.mark.parametrize("args,message", [
    (("bundled", "not-a-model", ""), "not on the allow-list"),
    (("bundled", "all-MiniLM-L6-v2", "en"), "at least two languages"),
    (("bundled", "all-MiniLM-L6-v2", "en,xx"), "not in corpus"),
])
def test_layers_refuses_bad_input_with_a_specific_message(client, args, message):
    with pytest.raises(AppError, match=message):
        client.predict(*args, api_name="/layers")


def test_neutralise_and_rank_through_the_tabs_apis(client):
    *_, mined = client.predict("bundled", "all-MiniLM-L6-v2", "de,en,fr,zh", "cosine", "lsar", 3, api_name="/bitext")
    assert (mined["neutralise"], mined["rank"]) == ("lsar", 3)
    *_, plain = client.predict("bundled", "all-MiniLM-L6-v2", "de,en,fr,zh", "cosine", api_name="/bitext")
    assert plain["neutralise"] == "none" and mined["mean_p_at_1"] != plain["mean_p_at_1"]
    *_, sim = client.predict("The dog is sleeping.\nLe chien dort.", "all-MiniLM-L6-v2", "none", "center", 1,
                             api_name="/similarity")
    assert sim["neutralise"] == "center" and "bundled" in sim["neutralisation"]
    *_, mapped = client.predict("bundled", "all-MiniLM-L6-v2", "pca", ["de", "en", "fr", "zh"], True, 500,
                                api_name="/project_map")
    assert (mapped["neutralise"], mapped["centered"]) == ("center", True)  # the old center flag
    with pytest.raises(AppError, match="at most the number of languages minus one"):
        client.predict("bundled", "all-MiniLM-L6-v2", "de,en", "cosine", "lsar", 2, api_name="/bitext")
