"""Rebuild assets/language_palette.txt: 256 categorical colours for languages, safe under
deuteranopia and protanopia.

Glasbey's method (Glasbey et al. 2007; the `glasbey` package does it for one deficiency at a
time): greedily take the candidate colour farthest from every colour taken so far. The distance is
CIEDE2000 (ΔE*ab overstates differences among saturated blues: with it, the old palette gave en, hi,
zh and es four blue-violets), the smallest of three: as seen with normal vision, with deuteranopia and with
protanopia (Machado et al. 2009, severity 1), so the early colours stay apart for all three
viewers. White (the map's background) is the first "taken" colour and is not written. Candidates:
a 28-step sRGB grid, lightness 30..82 (visible on white, not black). The order matters: languages
take colours in backend.core.palette's fixed order, so the most common get the most distinct.

Deterministic (no randomness). Run: .venv/bin/python scripts/build_palette.py
The file is committed: a library upgrade or a rerun must not recolour anyone's maps.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backend.core.colour_vision import (  # noqa: E402
    DEUTERANOPIA,
    PROTANOPIA,
    ciede2000,
    linear_to_lab,
    linearise,
    rgb_to_hex,
    simulate,
)
from backend.core.palette import PALETTE_PATH, PALETTE_SIZE  # noqa: E402

GRID = 28
LIGHTNESS = (30, 82)


def build(size: int = PALETTE_SIZE) -> list[str]:
    steps = np.linspace(0, 1, GRID)
    rgb = np.stack(np.meshgrid(steps, steps, steps, indexing="ij"), -1).reshape(-1, 3)
    linear = linearise(rgb)
    spaces = [linear_to_lab(simulate(linear, m)) for m in (None, DEUTERANOPIA, PROTANOPIA)]
    keep = (spaces[0][:, 0] >= LIGHTNESS[0]) & (spaces[0][:, 0] <= LIGHTNESS[1])
    rgb, spaces = rgb[keep], [s[keep] for s in spaces]
    white = [linear_to_lab(simulate(np.ones((1, 3)), m)) for m in (None, DEUTERANOPIA, PROTANOPIA)]
    nearest = np.min([ciede2000(s, w) for s, w in zip(spaces, white)], axis=0)
    chosen = []
    for _ in range(size):
        pick = int(np.argmax(nearest))
        chosen.append(pick)
        nearest = np.minimum(nearest, np.min([ciede2000(s, s[pick]) for s in spaces], axis=0))
    return rgb_to_hex(rgb[chosen])


if __name__ == "__main__":
    colours = build()
    PALETTE_PATH.write_text("\n".join(colours) + "\n", encoding="utf-8")
    print(f"wrote {len(colours)} colours to {PALETTE_PATH.relative_to(ROOT)}")
