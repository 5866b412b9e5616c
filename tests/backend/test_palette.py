"""The language palette: distinct for colour-blind viewers, and stable across maps."""
import numpy as np
import pytest
from colorspacious import cspace_convert

from backend.core.colour_vision import (
    DEUTERANOPIA,
    PROTANOPIA,
    ciede2000,
    hex_to_rgb,
    min_pairwise_ciede2000,
    min_pairwise_delta_e,
)
from backend.core.palette import DISTINCT, ORDER, PALETTE_SIZE, language_colour, language_palette, palette

FIRST = 30
MIN_DELTA_E = 8.5  # ΔE*ab 1976; ~2.3 is a just-noticeable difference
MIN_CIEDE2000_FIRST = 7.5  # among the first 30
MIN_CIEDE2000_DISTINCT = 15.0  # among the DISTINCT most common languages (the "on screen" bar)


def _min_delta_e_colorspacious(colours, cvd_type: str | None) -> float:
    """An independent check: colorspacious's own Machado et al. (2009) simulation and CIELab."""
    rgb = hex_to_rgb(colours)
    if cvd_type:
        rgb = np.clip(cspace_convert(rgb, {"name": "sRGB1+CVD", "cvd_type": cvd_type, "severity": 100}, "sRGB1"), 0, 1)
    lab = cspace_convert(rgb, "sRGB1", "CIELab")
    dist = np.linalg.norm(lab[:, None] - lab[None], axis=2)
    dist[np.eye(len(lab), dtype=bool)] = np.inf
    return float(dist.min())


@pytest.mark.parametrize("cvd_type, matrix", [(None, None), ("deuteranomaly", DEUTERANOPIA), ("protanomaly", PROTANOPIA)])
def test_first_30_languages_stay_apart_for_colour_blind_viewers(cvd_type, matrix):
    colours = [language_colour(code) for code in ORDER[:FIRST]]
    assert len(set(colours)) == FIRST
    assert _min_delta_e_colorspacious(colours, cvd_type) >= MIN_DELTA_E
    # our own simulation (used to build the palette) agrees with colorspacious's
    assert min_pairwise_delta_e(colours, matrix) == pytest.approx(_min_delta_e_colorspacious(colours, cvd_type), abs=0.5)


@pytest.mark.parametrize("matrix", [None, DEUTERANOPIA, PROTANOPIA])
def test_the_most_common_languages_stay_15_ciede2000_apart(matrix):
    """The bundled corpus's eight (the default map) and ja, pt, it: no two look alike to any of the
    three viewers; the first 30 stay apart too."""
    assert DISTINCT >= 11 and set(ORDER[:8]) == {"en", "de", "fr", "es", "ru", "zh", "ar", "hi"}
    assert min_pairwise_ciede2000([language_colour(c) for c in ORDER[:DISTINCT]], matrix) >= MIN_CIEDE2000_DISTINCT
    assert min_pairwise_ciede2000([language_colour(c) for c in ORDER[:FIRST]], matrix) >= MIN_CIEDE2000_FIRST


def test_ciede2000_matches_sharmas_published_pairs():
    """Sharma, Wu & Dalal (2005), Table 1: pairs 1, 7, 17, 25 and 34."""
    pairs = [((50, 2.6772, -79.7751), (50, 0, -82.7485), 2.0425), ((50, 0, 0), (50, -1, 2), 2.3669),
             ((50, 2.5, 0), (73, 25, -18), 27.1492), ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
             ((2.0776, 0.0795, -1.1350), (0.9033, -0.0636, -0.5514), 0.9082)]
    got = ciede2000(np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs]))
    assert got == pytest.approx([p[2] for p in pairs], abs=1e-4)


def test_the_old_blue_violets_fail_the_new_check():
    """The check has teeth: the old palette's en, hi, zh, es (#0000f6, #5571f6, #b3b3ff, #4c4284)."""
    assert min_pairwise_ciede2000(["#0000f6", "#5571f6", "#b3b3ff", "#4c4284"], DEUTERANOPIA) < MIN_CIEDE2000_DISTINCT


def test_a_plain_categorical_palette_fails_the_same_check():
    """The check has teeth: Plotly's default colours (the map's old palette) collapse under deuteranopia."""
    from plotly.colors import qualitative as q

    old = [*q.Plotly, *q.D3, *q.Dark24][:FIRST]
    assert _min_delta_e_colorspacious(old, "deuteranomaly") < MIN_DELTA_E / 2


def test_colours_depend_on_the_language_only():
    assert len(palette()) == PALETTE_SIZE and len(set(palette())) == PALETTE_SIZE
    one = language_palette(["fr", "en", "zz-upload"])
    other = language_palette(["hi", "zz-upload", "fr", "qq"])
    assert one["fr"] == other["fr"] and one["zz-upload"] == other["zz-upload"]
    assert one["en"] == palette()[0]  # the most common language takes the most distinct colour
    # codes outside the fixed order never take the colour of a language in it
    assert language_colour("zz-upload") not in {language_colour(c) for c in ORDER}
    assert all(c.startswith("#") and len(c) == 7 for c in language_palette(ORDER).values())
