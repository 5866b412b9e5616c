"""What the map's browser renderer needs, and what it asks back: binary points, hover text,
selections, a typed sentence's place, and per-language density contours.

Binary points (``encode_points``): x and y quantised to uint16 over the layout's bounds (1/65,535
of the extent: far below a pixel at any zoom the renderer allows), then one language code and one
K-means cluster code per point, uint8 when they fit (uint16 otherwise). That is 6 bytes a point,
8 in the base64 the page receives, against ~55 for Plotly's JSON (hover text included). Hover
text is not shipped: the renderer asks for one point's text when the cursor rests on it.

Placement (``place_on_map``) is nearest-neighbour interpolation, not UMAP ``transform`` (the fast
UMAP path keeps no search index, and PCA and t-SNE maps have none): the sentence is embedded,
its k nearest map points are found by cosine in the uncentred embedding space, and it is put at
the similarity-weighted mean of the nearest ``PLACE_FROM`` of them. ``backend.analysis.projection`` places
points beyond its UMAP sample the same way.
"""
from __future__ import annotations

import base64
import math
import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from backend.core.errors import InvalidInput, LimitExceeded
from backend.core.languages import uncertain_counts
from backend.core.palette import language_colour

RENDERER = "webgl"  # ui/static/map_renderer.js draws every map, whatever its size
GRID = 65_535  # uint16 steps across the layout's extent
PLACE_K = 10
PLACE_FROM = 5  # the sentence sits at the weighted mean of this many nearest points
SELECT_ROWS = 2_000  # rows listed in a selection's answer (the mix and the count cover all)
DENSITY_GRID = 128
DENSITY_SIGMA = 2.0  # Gaussian kernel, in grid cells (1/64 of the extent)
DENSITY_MASS = 0.5  # each contour encloses the densest half of its language's points
DENSITY_MIN_POINTS = 10


# ---------------------------------------------------------------- binary points

def _code_dtype(n_codes: int) -> np.dtype:
    return np.dtype("<u1") if n_codes <= 256 else np.dtype("<u2")


def bytes_per_point(n_languages: int, n_clusters: int) -> int:
    """The binary payload's size a point: uint16 x and y, then the language and cluster codes."""
    return 4 + _code_dtype(n_languages).itemsize + _code_dtype(n_clusters).itemsize


@dataclass(frozen=True)
class PointPayload:
    """The renderer's points: ``data`` is x (uint16 n), y (uint16 n), language (uint8/16 n),
    cluster (uint8/16 n), little-endian, in that order; ``languages[code]`` names a language code."""

    n: int
    bounds: tuple[float, float, float, float]  # x_min, x_max, y_min, y_max of the uint16 grid
    languages: tuple[str, ...]
    colours: tuple[str, ...]  # per language code, from backend.core.palette
    lang_bytes: int
    cluster_bytes: int
    n_clusters: int
    data: bytes

    @property
    def bytes_per_point(self) -> int:
        return 4 + self.lang_bytes + self.cluster_bytes

    def to_dict(self) -> dict:
        """What the page receives: the bytes as base64 (4/3 of ``bytes_per_point`` on the wire)."""
        return {"n": self.n, "bounds": list(self.bounds), "languages": list(self.languages),
                "colours": list(self.colours), "lang_bytes": self.lang_bytes, "cluster_bytes": self.cluster_bytes,
                "n_clusters": self.n_clusters, "bytes_per_point": self.bytes_per_point,
                "data": base64.b64encode(self.data).decode("ascii")}


def layout_bounds(coords: np.ndarray) -> tuple[float, float, float, float]:
    coords = np.asarray(coords, dtype=np.float64)
    x0, y0 = coords.min(axis=0)
    x1, y1 = coords.max(axis=0)
    # a degenerate axis (all equal) still gets a non-zero extent
    return (float(x0), float(x1 if x1 > x0 else x0 + 1.0), float(y0), float(y1 if y1 > y0 else y0 + 1.0))


def quantise(coords: np.ndarray, bounds: tuple[float, float, float, float]) -> np.ndarray:
    """uint16 (n, 2) grid steps of float coordinates (n, 2) within ``bounds``."""
    x0, x1, y0, y1 = bounds
    coords = np.asarray(coords, dtype=np.float64)
    q = np.empty(coords.shape, dtype=np.uint16)
    q[:, 0] = np.clip(np.rint((coords[:, 0] - x0) / (x1 - x0) * GRID), 0, GRID)
    q[:, 1] = np.clip(np.rint((coords[:, 1] - y0) / (y1 - y0) * GRID), 0, GRID)
    return q


def dequantise(q: np.ndarray, bounds: tuple[float, float, float, float]) -> np.ndarray:
    x0, x1, y0, y1 = bounds
    q = np.asarray(q, dtype=np.float64)
    return np.stack([x0 + q[:, 0] / GRID * (x1 - x0), y0 + q[:, 1] / GRID * (y1 - y0)], axis=1)


def encode_points(coords: np.ndarray, langs: Sequence[str], clusters: np.ndarray | None = None) -> PointPayload:
    """The binary payload of a layout: coords float (n, 2), one language code per point, and
    optional non-negative cluster labels (n,). Languages are coded in sorted order."""
    coords = np.asarray(coords)
    n = len(coords)
    languages, lang_of = np.unique(np.asarray(langs), return_inverse=True)
    clusters = np.zeros(n, dtype=np.int64) if clusters is None else np.asarray(clusters, dtype=np.int64)
    n_clusters = int(clusters.max()) + 1 if n else 0
    lang_dtype, cluster_dtype = _code_dtype(len(languages)), _code_dtype(max(n_clusters, 1))
    bounds = layout_bounds(coords) if n else (0.0, 1.0, 0.0, 1.0)
    q = quantise(coords, bounds)
    data = b"".join((q[:, 0].astype("<u2").tobytes(), q[:, 1].astype("<u2").tobytes(),
                     lang_of.astype(lang_dtype).tobytes(), np.clip(clusters, 0, None).astype(cluster_dtype).tobytes()))
    codes = tuple(str(c) for c in languages)
    return PointPayload(n, bounds, codes, tuple(language_colour(c) for c in codes), lang_dtype.itemsize,
                        cluster_dtype.itemsize, n_clusters, data)


def decode_points(payload: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The inverse of ``PointPayload.to_dict`` (for tests and benchmarks): coords float64 (n, 2)
    on the uint16 grid, language codes (n,) and cluster codes (n,)."""
    raw = base64.b64decode(payload["data"])
    n = payload["n"]
    q = np.stack([np.frombuffer(raw, "<u2", n, 0), np.frombuffer(raw, "<u2", n, 2 * n)], axis=1)
    lang = np.frombuffer(raw, f"<u{payload['lang_bytes']}", n, 4 * n)
    cluster = np.frombuffer(raw, f"<u{payload['cluster_bytes']}", n, (4 + payload["lang_bytes"]) * n)
    return dequantise(q, tuple(payload["bounds"])), lang, cluster


# ---------------------------------------------------------------- the maps a server is showing


# ---------------------------------------------------------------- selection

@dataclass(frozen=True)
class SelectedPoint:
    point: int  # index in the map
    row: int  # row in the corpus
    id: str  # meaning id
    lang: str
    text: str
    x: float
    y: float
    language_probability: float = 1.0  # language ID's confidence; 1.0 where the corpus gave the language
    language_uncertain: bool = False


@dataclass(frozen=True)
class MapSelection:
    how: str  # "ids", "box", "cluster" or "points"
    n_selected: int
    points: tuple[SelectedPoint, ...]  # the first SELECT_ROWS, in map order
    meaning_ids: tuple[str, ...]  # distinct, sorted
    language_mix: tuple[tuple[str, int], ...]  # most frequent first
    # per language, the selected points whose label is uncertain (all of them, not only those listed)
    languages_uncertain: tuple[tuple[str, int], ...] = ()

    @property
    def n_uncertain(self) -> int:
        return sum(n for _, n in self.languages_uncertain)

    def to_dict(self) -> dict:
        """The ``/map_select`` API contract."""
        return {"how": self.how, "n_selected": self.n_selected, "ids": list(self.meaning_ids),
                "rows": [{"point": p.point, "row": p.row, "id": p.id, "lang": p.lang, "text": p.text,
                          "x": round(p.x, 5), "y": round(p.y, 5), "language_probability": p.language_probability,
                          "language_uncertain": p.language_uncertain} for p in self.points],
                "rows_truncated": self.n_selected > len(self.points),
                "language_mix": dict(self.language_mix),
                "n_uncertain": self.n_uncertain, "languages_uncertain": dict(self.languages_uncertain)}


def parse_box(box) -> tuple[float, float, float, float] | None:
    """(x_min, y_min, x_max, y_max) from four numbers (a list, or text like '0, 1.5, 3, 4'); None for empty."""
    if box is None or (isinstance(box, str) and not box.strip()):
        return None
    values = re.split(r"[\s,;\[\]()]+", box.strip()) if isinstance(box, str) else list(box)
    values = [v for v in values if v != ""]
    try:
        numbers = [float(v) for v in values]
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"A box is four numbers x_min, y_min, x_max, y_max; got {str(box)[:60]!r}.") from exc
    if len(numbers) != 4 or not all(math.isfinite(v) for v in numbers):
        raise InvalidInput(f"A box is four finite numbers x_min, y_min, x_max, y_max; got {str(box)[:60]!r}.")
    x0, y0, x1, y1 = numbers
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def parse_ids(ids) -> tuple[str, ...]:
    if ids is None:
        return ()
    if isinstance(ids, str):
        ids = re.split(r"[,\n]", ids)
    return tuple(dict.fromkeys(str(x).strip() for x in ids if str(x).strip()))


def select_points(result, ids=(), box=None, cluster: int | None = None, points=None,
                  algorithm: str = "kmeans") -> MapSelection:
    """The map's points with one of the meaning ``ids``, or inside ``box`` (map coordinates), or in
    ``cluster`` of ``algorithm`` ("kmeans", or "hdbscan": its sample's points), or at the given point
    indices; exactly one criterion."""
    wanted = parse_ids(ids)
    rect = parse_box(box)
    given = [name for name, v in (("ids", wanted), ("box", rect), ("cluster", cluster), ("points", points))
             if v not in (None, ())]
    if len(given) != 1:
        raise InvalidInput("Select by exactly one of: meaning ids (e.g. 'c006, c050'), a box "
                           "'x_min, y_min, x_max, y_max', or a cluster." + (f" Got {', '.join(given)}." if given else ""))
    coords = np.asarray(result.coords)
    if wanted:
        chosen = np.flatnonzero(np.isin(np.asarray(result.ids), list(wanted)))
    elif rect is not None:
        x0, y0, x1, y1 = rect
        chosen = np.flatnonzero((coords[:, 0] >= x0) & (coords[:, 0] <= x1) & (coords[:, 1] >= y0) & (coords[:, 1] <= y1))
    elif cluster is not None and algorithm == "hdbscan":
        if getattr(result, "hdbscan_points", None) is None:
            raise InvalidInput("This map keeps no HDBSCAN labels: draw it again.")
        chosen = np.sort(result.hdbscan_points[result.hdbscan_labels == int(cluster)])
    elif cluster is not None:
        chosen = np.flatnonzero(np.asarray(result.kmeans_labels) == int(cluster))
    else:
        chosen = np.unique(np.asarray(points, dtype=np.int64))
        if chosen.size and (chosen[0] < 0 or chosen[-1] >= result.n_points):
            raise InvalidInput(f"Point indices must lie in 0..{result.n_points - 1}.")
    langs = np.asarray(result.langs)[chosen]
    codes, counts = np.unique(langs, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    probabilities, uncertain = getattr(result, "probabilities", ()), getattr(result, "uncertain", ())
    listed = tuple(SelectedPoint(int(i), int(result.rows[i]), result.ids[i], result.langs[i], result.texts[i],
                                 float(coords[i, 0]), float(coords[i, 1]),
                                 float(probabilities[i]) if len(probabilities) else 1.0,
                                 bool(uncertain[i]) if len(uncertain) else False) for i in chosen[:SELECT_ROWS])
    doubtful = uncertain_counts([result.langs[i] for i in chosen], [uncertain[i] for i in chosen]) \
        if len(uncertain) else ()
    return MapSelection(given[0], int(chosen.size), listed,
                        tuple(sorted({result.ids[i] for i in chosen if result.ids[i]})),
                        tuple((str(codes[j]), int(counts[j])) for j in order),
                        doubtful)


def similarity_lines(selection: MapSelection, limit: int) -> str:
    """The selection as Similarity tab input: one 'lang: text' line per sentence (the prefix sets
    the language; an uncertain label gets none, so Similarity detects it again and shows its doubt),
    at most ``limit``."""
    if selection.n_selected > limit:
        raise LimitExceeded(f"The selection has {selection.n_selected:,} sentences; Similarity compares at most "
                            f"{limit}. Select a smaller region or fewer meanings.")
    return "\n".join(f"{'' if p.language_uncertain else p.lang + ': '}{' '.join(p.text.split())}"
                     for p in selection.points)


# ---------------------------------------------------------------- where a sentence lands

def interpolate(neighbour_coords: np.ndarray, similarities: np.ndarray) -> np.ndarray:
    """float (m, 2): each query at the mean of its neighbours' coords (m, k, 2), weighted by cosine
    similarity (m, k) clipped to >= 0 (all-zero weights fall back to the plain mean)."""
    weights = np.clip(np.asarray(similarities, dtype=np.float64), 0, None)
    weights[weights.sum(axis=1) == 0] = 1.0
    weights /= weights.sum(axis=1, keepdims=True)
    return np.einsum("mk,mkd->md", weights, np.asarray(neighbour_coords, dtype=np.float64))


@dataclass(frozen=True)
class Neighbour:
    point: int
    row: int
    id: str
    lang: str
    text: str
    distance: float  # cosine distance, 1 - cos
    x: float
    y: float


@dataclass(frozen=True)
class MapPlacement:
    text: str
    x: float
    y: float
    neighbours: tuple[Neighbour, ...]  # nearest first
    placement: str = f"nearest-neighbour interpolation (similarity-weighted mean of the {PLACE_FROM} nearest points)"

    def to_dict(self) -> dict:
        """The ``/map_place`` API contract."""
        return {"text": self.text, "x": round(self.x, 5), "y": round(self.y, 5), "placement": self.placement,
                "neighbours": [{"id": n.id, "lang": n.lang, "text": n.text, "distance": round(n.distance, 6),
                                "point": n.point, "row": n.row, "x": round(n.x, 5), "y": round(n.y, 5)}
                               for n in self.neighbours]}


def place_vector(result, query: np.ndarray, point_vectors: np.ndarray, text: str, k: int = PLACE_K) -> MapPlacement:
    """Place one L2-normalised query vector (d,) on ``result`` whose points have ``point_vectors`` (n, d)."""
    sims = np.asarray(point_vectors, dtype=np.float32) @ np.asarray(query, dtype=np.float32).ravel()
    k = min(k, len(sims))
    top = np.argpartition(-sims, k - 1)[:k]
    top = top[np.argsort(-sims[top], kind="stable")]
    coords = np.asarray(result.coords, dtype=np.float64)
    used = top[:PLACE_FROM]
    x, y = interpolate(coords[used][None], sims[used][None])[0]
    neighbours = tuple(Neighbour(int(i), int(result.rows[i]), result.ids[i], result.langs[i], result.texts[i],
                                 float(1.0 - sims[i]), float(coords[i, 0]), float(coords[i, 1])) for i in top)
    return MapPlacement(text, float(x), float(y), neighbours)


# ---------------------------------------------------------------- density per language

@dataclass(frozen=True)
class DensityContours:
    mass: float
    contours: tuple[tuple[str, tuple[np.ndarray, ...]], ...]  # (language, polylines float (m, 2)) pairs

    def to_dict(self, decimals: int = 4) -> dict:
        """The ``/map_density`` API contract: per language, polylines of [x, y] in map coordinates."""
        return {"mass": self.mass, "grid": DENSITY_GRID, "sigma_cells": DENSITY_SIGMA,
                "contours": {lang: [np.round(line, decimals).tolist() for line in lines]
                             for lang, lines in self.contours}}


def density_contours(result, languages: Sequence[str] = (), mass: float = DENSITY_MASS) -> DensityContours:
    """A Gaussian KDE per language on a DENSITY_GRID² grid over the layout, and its contour at the
    level that encloses the densest ``mass`` of that language's points (a highest-density region).
    ``languages``: those to draw (empty = every language with >= DENSITY_MIN_POINTS points)."""
    from contourpy import contour_generator
    from scipy.ndimage import gaussian_filter

    coords = np.asarray(result.coords, dtype=np.float64)
    langs = np.asarray(result.langs)
    x0, x1, y0, y1 = layout_bounds(coords)
    pad_x, pad_y = (x1 - x0) * 0.05, (y1 - y0) * 0.05
    edges_x = np.linspace(x0 - pad_x, x1 + pad_x, DENSITY_GRID + 1)
    edges_y = np.linspace(y0 - pad_y, y1 + pad_y, DENSITY_GRID + 1)
    centres_x, centres_y = (edges_x[:-1] + edges_x[1:]) / 2, (edges_y[:-1] + edges_y[1:]) / 2
    wanted = set(parse_ids(languages))
    out = []
    for lang in sorted(set(langs.tolist())):
        if wanted and lang not in wanted:
            continue
        rows = langs == lang
        if rows.sum() < DENSITY_MIN_POINTS:
            continue
        hist, _, _ = np.histogram2d(coords[rows, 0], coords[rows, 1], bins=[edges_x, edges_y])
        density = gaussian_filter(hist, DENSITY_SIGMA, mode="constant")
        flat = np.sort(density.ravel())[::-1]
        level = flat[min(int(np.searchsorted(np.cumsum(flat), mass * flat.sum())), flat.size - 1)]
        lines = contour_generator(centres_x, centres_y, density.T).lines(level)
        out.append((lang, tuple(np.asarray(line, dtype=np.float64) for line in lines if len(line) >= 3)))
    return DensityContours(mass, tuple(out))
