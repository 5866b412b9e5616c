"""Colour science for the palette: sRGB to CIELAB, and colour-vision-deficiency simulation.

CVD simulation: Machado, Oliveira & Fernandes (2009), "A Physiologically-based Model for
Simulation of Color Vision Deficiency", severity 1.0 (dichromacy) matrices, applied to linear RGB.
CIELAB: D65 white, the sRGB primaries (IEC 61966-2-1). Pure numpy; no gradio.
"""
from __future__ import annotations

import numpy as np

# Machado et al. 2009, Table 1, severity 1.0.
DEUTERANOPIA = np.array([[0.367322, 0.860646, -0.227968],
                         [0.280085, 0.672501, 0.047413],
                         [-0.011820, 0.042940, 0.968881]])
PROTANOPIA = np.array([[0.152286, 1.052583, -0.204868],
                       [0.114503, 0.786281, 0.099216],
                       [-0.003882, -0.048116, 1.051998]])
_SRGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                         [0.2126729, 0.7151522, 0.0721750],
                         [0.0193339, 0.1191920, 0.9503041]])
_D65 = np.array([0.95047, 1.0, 1.08883])


def hex_to_rgb(colours) -> np.ndarray:
    """float (n, 3) in 0..1 from '#rrggbb' strings."""
    return np.array([[int(c[i:i + 2], 16) / 255 for i in (1, 3, 5)] for c in colours], dtype=np.float64)


def rgb_to_hex(rgb: np.ndarray) -> list[str]:
    return ["#%02x%02x%02x" % tuple(int(round(v * 255)) for v in row) for row in np.clip(rgb, 0, 1)]


def linearise(rgb: np.ndarray) -> np.ndarray:
    rgb = np.asarray(rgb, dtype=np.float64)
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def linear_to_lab(linear: np.ndarray) -> np.ndarray:
    """CIELAB (n, 3) of linear-RGB colours (n, 3)."""
    xyz = np.asarray(linear) @ _SRGB_TO_XYZ.T / _D65
    delta = 6 / 29
    f = np.where(xyz > delta ** 3, np.cbrt(xyz), xyz / (3 * delta ** 2) + 4 / 29)
    return np.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], axis=1)


def simulate(linear: np.ndarray, matrix: np.ndarray | None) -> np.ndarray:
    """Linear RGB as a viewer with the given deficiency sees it (None = normal vision)."""
    return np.asarray(linear) if matrix is None else np.clip(np.asarray(linear) @ matrix.T, 0, 1)


def min_pairwise_delta_e(colours, matrix: np.ndarray | None = None) -> float:
    """The smallest CIELAB distance (ΔE*ab, 1976) between any two of ``colours`` ('#rrggbb'),
    as seen with the deficiency ``matrix`` (None = normal vision)."""
    lab = linear_to_lab(simulate(linearise(hex_to_rgb(colours)), matrix))
    dist = np.linalg.norm(lab[:, None] - lab[None], axis=2)
    dist[np.eye(len(lab), dtype=bool)] = np.inf
    return float(dist.min())
