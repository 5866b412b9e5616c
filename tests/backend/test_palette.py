"""The language palette: distinct for colour-blind viewers, and stable across maps."""
import numpy as np
import pytest
from colorspacious import cspace_convert

from backend.core.colour_vision import DEUTERANOPIA, PROTANOPIA, hex_to_rgb, min_pairwise_delta_e
from backend.core.palette import ORDER, PALETTE_SIZE, language_colour, language_palette, palette

FIRST = 30
MIN_DELTA_E = 10.0  # ΔE*ab 1976; ~2.3 is a just-noticeable difference, 10 tells dots apart at a glance


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
