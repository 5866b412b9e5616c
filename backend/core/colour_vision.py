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


def ciede2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference (Sharma, Wu & Dalal 2005, kL = kC = kH = 1) between CIELAB arrays
    of broadcastable shapes (..., 3). Unlike ΔE*ab it does not overstate differences among saturated
    blues, where the old palette put four languages in near-identical blue-violets."""
    lab1, lab2 = np.asarray(lab1, dtype=np.float64), np.asarray(lab2, dtype=np.float64)
    L1, a1, b1 = lab1[..., 0], lab1[..., 1], lab1[..., 2]
    L2, a2, b2 = lab2[..., 0], lab2[..., 1], lab2[..., 2]
    c_bar = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_bar ** 7 / (c_bar ** 7 + 25.0 ** 7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    dl = L2 - L1
    dc = c2p - c1p
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(c1p * c2p == 0, 0, dh)
    dH = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))
    l_bar = (L1 + L2) / 2
    cp_bar = (c1p + c2p) / 2
    h_sum = h1p + h2p
    h_bar = np.where(np.abs(h1p - h2p) > 180, np.where(h_sum < 360, h_sum + 360, h_sum - 360), h_sum) / 2
    h_bar = np.where(c1p * c2p == 0, h_sum, h_bar)
    t = (1 - 0.17 * np.cos(np.radians(h_bar - 30)) + 0.24 * np.cos(np.radians(2 * h_bar))
         + 0.32 * np.cos(np.radians(3 * h_bar + 6)) - 0.20 * np.cos(np.radians(4 * h_bar - 63)))
    s_l = 1 + 0.015 * (l_bar - 50) ** 2 / np.sqrt(20 + (l_bar - 50) ** 2)
    s_c = 1 + 0.045 * cp_bar
    s_h = 1 + 0.015 * cp_bar * t
    r_c = 2 * np.sqrt(cp_bar ** 7 / (cp_bar ** 7 + 25.0 ** 7))
    r_t = -np.sin(np.radians(60 * np.exp(-(((h_bar - 275) / 25) ** 2)))) * r_c
    return np.sqrt((dl / s_l) ** 2 + (dc / s_c) ** 2 + (dH / s_h) ** 2 + r_t * (dc / s_c) * (dH / s_h))


def min_pairwise_ciede2000(colours, matrix: np.ndarray | None = None) -> float:
    """The smallest CIEDE2000 difference between any two of ``colours`` ('#rrggbb'), as seen with
    the deficiency ``matrix`` (None = normal vision)."""
    lab = linear_to_lab(simulate(linearise(hex_to_rgb(colours)), matrix))
    dist = ciede2000(lab[:, None], lab[None])
    dist[np.eye(len(lab), dtype=bool)] = np.inf
    return float(dist.min())
