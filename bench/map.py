"""The Language map at 100k and 1M points: payload bytes a point and time to first render in
headless Chromium, the app's WebGL renderer against Plotly Scattergl (the map's previous renderer)
measured in the same run.

    .venv/bin/python bench/map.py            # 100,000 and 1,000,000 synthetic clustered points (~5 min)
    .venv/bin/python bench/map.py --atlas    # the CLDR atlas map (111,210 points) and 1,000,890 points
                                             # (10-20 min by load; ~10 min more the first time, to embed
                                             # the atlas with all-MiniLM-L6-v2)
    .venv/bin/python bench/map.py --quick    # 20,000 synthetic clustered points, one round (~20 s)

Data. Default: points in 60 Gaussian clusters and 40 languages (what is timed, the payload and the
render, depends on the number of points, not on where they came from). ``--atlas``, 100k: the app's own path, ``backend.analysis.projection.project_map`` on the CLDR atlas with
all-MiniLM-L6-v2, method "umap" (PCA-50 + FAISS k-NN graph), every point (111,210). 1M: that
atlas map repeated 9 times with Gaussian noise (sd 0.4% of the layout's extent) on each copy's
coordinates, the same languages and K-means clusters: no model embeds a million strings in a
benchmark on 2 cores, and what is timed here (payload and render) depends on the number of points,
not on where they came from. ``--layout-1m`` also times the layout of 1M vectors (the atlas's
embeddings repeated with noise) through the fast path's sampling: UMAP on 150,000, the rest by
nearest-neighbour interpolation (``backend.analysis.projection.umap_layout``).

Ours: ``backend.analysis.map_payload.encode_points`` (uint16 x and y, uint8 language and cluster: 6 bytes a
point; base64 in the JSON that the page receives: 8) drawn by ``ui/static/map_renderer.js``.
Baseline: the map's previous renderer, one Plotly ``Scattergl`` trace per language with float32
base64 coordinates and per-point hover text (as ``map_figure`` built it), drawn with the plotly.js
that the plotly package ships. Time to first render: in the page, ``performance.now()`` before the
draw call (ours: decoding the base64, building the hover grid and GPU buffers; Plotly:
``JSON.parse`` then ``Plotly.newPlot``) and after two animation frames (so the WebGL paint has
happened). Each drawing is on a fresh page; ours and the baseline alternate; medians of the rounds.
A drawing counts only if the browser logged no error and the plot area's screenshot has coloured
pixels. WebGL here is SwiftShader (CPU): a real GPU draws faster. The machine is shared: the load
average is printed with the results.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from chromium import plotly_browser
from common import BENCH_CACHE, machine, median, report  # noqa: E402 - also puts the repo on sys.path

from backend.data.corpus import CLDR_ID  # noqa: E402

# bench/umap.py would shadow umap-learn: this folder leaves sys.path before umap-learn is imported.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

MODEL = "all-MiniLM-L6-v2"  # the faster packaged encoder on CPU, as in the atlas-scale browser test
ROUNDS = 3
ROUNDS_1M = 2
COPIES_1M = 9  # the atlas (111,210 points) x 9 = 1,000,890
NOISE = 0.004  # sd of the noise on each copy, as a share of the layout's extent
QUICK_POINTS = 20_000
CACHE_DIR = BENCH_CACHE / "map"
COLOURED = 40  # a pixel whose channels differ by more than this is a point, not background or grid
HOVER_CHARS = 60

OURS_JS = """async (json) => {
    const root = document.getElementById('map');
    root.replaceChildren();
    const t0 = performance.now();
    const payload = JSON.parse(json);
    const view = BabelscopeMap.create(root, payload, {});
    await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
    const t1 = performance.now();
    const area = view.stage.getBoundingClientRect();
    return {render_ms: t1 - t0, n: view.points.n, area: {x: area.x, y: area.y, width: area.width, height: area.height}};
}"""
PLOTLY_JS = """async (json) => {
    const t0 = performance.now();
    const figure = JSON.parse(json);
    const div = document.getElementById('plot');
    await Plotly.newPlot(div, figure.data, figure.layout);
    await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
    const t1 = performance.now();
    const area = div.querySelector('.nsewdrag').getBoundingClientRect();
    return {render_ms: t1 - t0, types: [...new Set(div._fullData.map(t => t.type))],
            n: div._fullData.reduce((s, t) => s + t._length, 0),
            area: {x: area.x, y: area.y, width: area.width, height: area.height}};
}"""
WEBGL_JS = """() => {
    const gl = document.createElement('canvas').getContext('webgl');
    if (!gl) return null;
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    return info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : 'webgl (renderer hidden)';
}"""


def _registry():
    from backend.core.settings import load_settings
    from backend.registry import build_registry

    return build_registry(load_settings({**os.environ, "BABELSCOPE_CACHE_DIR": str(CACHE_DIR)}))


def _warm_numba(vectors: np.ndarray) -> None:
    """An untimed layout of the first 5,000 points: numba compiles umap-learn's kernels on first use."""
    from backend.analysis.projection import project

    project(np.asarray(vectors[:5_000], dtype=np.float32), "umap")


@contextmanager
def stage_timer(module, names: tuple[str, ...]):
    """Yields a dict that collects the wall seconds of each call to ``module.<name>`` while the
    block runs: the stages of one real ``project_map`` call, without running them twice."""
    seconds: dict[str, float] = {}
    originals = {name: getattr(module, name) for name in names}

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - start
        return wrapper

    for name, fn in originals.items():
        setattr(module, name, timed(name, fn))
    try:
        yield seconds
    finally:
        for name, fn in originals.items():
            setattr(module, name, fn)


def compute_map(registry, max_points: int):
    """The atlas map as the handler computes it, from fresh (no layout cache), in a warm process."""
    from backend.capabilities import language_map as projection
    from backend.vectors.store import corpus_embeddings

    start = time.perf_counter()
    vectors = corpus_embeddings(registry, registry.corpora.get(CLDR_ID), MODEL)
    embed_s = time.perf_counter() - start
    _warm_numba(vectors)
    shutil.rmtree(CACHE_DIR / "layouts", ignore_errors=True)  # time the layout, not the layout cache
    start = time.perf_counter()
    with stage_timer(projection, ("project", "map_scores", "cluster_points")) as stages:
        result = projection.project_map(registry, CLDR_ID, MODEL, "umap", [], False, max_points)
    project_map_s = time.perf_counter() - start
    assert not result.from_cache and np.isfinite(result.coords).all()
    return result, vectors, {
        "embed_s": round(embed_s, 1), "project_map_s": round(project_map_s, 1), "layout_s": result.seconds,
        "umap_s": round(stages["project"], 1), "scores_s": round(stages["map_scores"], 1),
        "clusters_s": round(stages["cluster_points"], 1),
    }


def points_of(result) -> dict:
    return {"coords": np.asarray(result.coords, dtype=np.float32), "langs": np.asarray(result.langs),
            "clusters": np.asarray(result.kmeans_labels), "texts": list(result.texts), "ids": list(result.ids)}


def repeated(points: dict, copies: int, seed: int = 0) -> dict:
    """``points`` repeated ``copies`` times, each copy's coordinates with Gaussian noise."""
    rng = np.random.default_rng(seed)
    coords = np.concatenate([points["coords"]] * copies)
    coords = coords + rng.normal(0, NOISE, coords.shape) * np.ptp(points["coords"], axis=0)
    return {"coords": coords.astype(np.float32), "langs": np.tile(points["langs"], copies),
            "clusters": np.tile(points["clusters"], copies), "texts": points["texts"] * copies,
            "ids": points["ids"] * copies}


def synthetic(n: int, seed: int = 0) -> dict:
    """``n`` points in 60 Gaussian clusters, 40 languages (the bundled and app languages' codes)."""
    from backend.core.palette import ORDER

    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(60, 2)) * 8
    cluster = rng.integers(0, 60, n)
    langs = np.asarray(ORDER[:40])[rng.integers(0, 40, n)]
    return {"coords": (centres[cluster] + rng.normal(size=(n, 2))).astype(np.float32), "langs": langs,
            "clusters": cluster % 30, "texts": [f"sentence {i}" for i in range(n)], "ids": [f"m{i}" for i in range(n)]}


def ours_json(points: dict) -> tuple[str, dict]:
    """The renderer's payload as the page receives it (gr.HTML sends its value as JSON)."""
    from backend.analysis.map_payload import encode_points
    from backend.models.language_id import language_name

    language_name("en")  # imports and tables loaded before the clock starts
    start = time.perf_counter()
    payload = encode_points(points["coords"], points["langs"], points["clusters"]).to_dict()
    payload["names"] = [language_name(c) or c for c in payload["languages"]]
    text = json.dumps(payload)
    seconds = time.perf_counter() - start
    n = len(points["coords"])
    return text, {"bytes_per_point": payload["bytes_per_point"], "json_bytes": len(text),
                  "json_bytes_per_point": round(len(text) / n, 2), "encode_ms": round(seconds * 1e3)}


def plotly_json(points: dict) -> tuple[str, dict]:
    """The previous renderer's figure: a Scattergl per language, float32 base64 coordinates and
    per-point hover text (text and meaning id), as ``map_figure`` built it."""
    import html

    import plotly.graph_objects as go

    from backend.core.palette import language_colour

    go.Figure(go.Scattergl(x=[0.0], y=[0.0])).to_json()  # plotly's lazy imports, before the clock starts
    start = time.perf_counter()
    coords = np.round(points["coords"], 3).astype(np.float32)
    langs = points["langs"]
    fig = go.Figure()
    codes, counts = np.unique(langs, return_counts=True)
    for code in codes[np.argsort(-counts, kind="stable")]:
        rows = np.flatnonzero(langs == code)
        hover = [f"{html.escape(points['texts'][i][:HOVER_CHARS])}<br>{html.escape(points['ids'][i])}" for i in rows]
        fig.add_trace(go.Scattergl(x=coords[rows, 0], y=coords[rows, 1], mode="markers", name=str(code), text=hover,
                                   hovertemplate="%{text}<extra>" + str(code) + "</extra>",
                                   marker=dict(size=4 if len(coords) > 20_000 else 6, color=language_colour(code),
                                               opacity=0.8)))
    fig.update_layout(height=680, hovermode="closest", margin=dict(l=10, r=10, t=40, b=10),
                      xaxis=dict(showticklabels=False), yaxis=dict(showticklabels=False))
    text = fig.to_json()
    seconds = time.perf_counter() - start
    return text, {"plotly_json_bytes": len(text.encode("utf-8")),
                  "plotly_json_bytes_per_point": round(len(text.encode("utf-8")) / len(coords), 1),
                  "plotly_build_ms": round(seconds * 1e3)}


def _coloured_pixels(png: bytes) -> float:
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)
    return float(np.mean(pixels.max(axis=2) - pixels.min(axis=2) > COLOURED))


def render(open_page, script: str, json_text: str, n_points: int, label: str) -> dict:
    """One drawing on a fresh page; raises unless every point was taken and the area has colour."""
    with open_page() as page:
        timing = page.page.evaluate(script, json_text)
        page.check_clean(label)
        if timing["n"] != n_points or timing.get("types", ["scattergl"]) != ["scattergl"]:
            raise RuntimeError(f"{label}: drew {timing} for {n_points:,} points.")
        page.page.mouse.move(0, 0)
        coloured = _coloured_pixels(page.page.screenshot(clip=timing["area"]))
        if coloured < 0.005:
            raise RuntimeError(f"{label}: the plot area is blank ({coloured:.2%} coloured pixels).")
        return {"render_ms": timing["render_ms"], "coloured": coloured}


def measure(points: dict, rounds: int, baseline: bool = True) -> dict:
    """Payload sizes and render times of ours and (``baseline``) Plotly Scattergl, alternating."""
    n = len(points["coords"])
    ours_text, figures = ours_json(points)
    plotly_text = None
    if baseline:
        plotly_text, sizes = plotly_json(points)
        figures.update(sizes)
    ours, theirs = [], []
    with plotly_browser() as open_page:
        with open_page() as page:
            renderer = page.page.evaluate(WEBGL_JS)
        if not renderer:
            raise RuntimeError("Chromium has no WebGL here: the map cannot be drawn.")
        for _ in range(rounds):
            ours.append(render(open_page, OURS_JS, ours_text, n, "ours (WebGL, binary)"))
            if plotly_text is not None:
                theirs.append(render(open_page, PLOTLY_JS, plotly_text, n, "Plotly Scattergl"))
    figures.update({
        "n_points": n, "n_languages": len(set(points["langs"].tolist())),
        "render_ms": round(median([r["render_ms"] for r in ours])),
        "render_ms_runs": [round(r["render_ms"]) for r in ours],
        "coloured_pixel_share": round(median([r["coloured"] for r in ours]), 3),
        "webgl_renderer": renderer, "rounds": rounds,
    })
    if theirs:
        figures.update({
            "plotly_render_ms": round(median([r["render_ms"] for r in theirs])),
            "plotly_render_ms_runs": [round(r["render_ms"]) for r in theirs],
            "plotly_coloured_pixel_share": round(median([r["coloured"] for r in theirs]), 3),
            "payload_ratio": round(figures["plotly_json_bytes"] / figures["json_bytes"], 2),
        })
        figures["render_speedup"] = round(figures["plotly_render_ms"] / figures["render_ms"], 2)
    return figures


def layout_1m(vectors: np.ndarray) -> dict:
    """The fast path's layout of 1M vectors: the atlas's embeddings repeated with noise."""
    from backend.analysis.projection import UMAP_SAMPLE_MAX, pca_reduce, umap_layout
    from backend.core.normalise import l2_normalise

    rng = np.random.default_rng(0)
    reduced = pca_reduce(np.asarray(vectors, dtype=np.float32))
    big = np.concatenate([reduced] * COPIES_1M)
    big += rng.normal(0, 0.02, big.shape).astype(np.float32) * reduced.std(axis=0)
    big = l2_normalise(big)
    start = time.perf_counter()
    coords = umap_layout(big, fast=True)
    seconds = time.perf_counter() - start
    assert coords.shape == (len(big), 2) and np.isfinite(coords).all()
    return {"layout_1m_s": round(seconds, 1), "layout_1m_points": len(big), "layout_1m_umap_sample": UMAP_SAMPLE_MAX}


def _print(label: str, f: dict) -> None:
    line = (f"{label}: {f['n_points']:,} points: ours {f['bytes_per_point']} bytes a point "
            f"({f['json_bytes_per_point']} in the JSON), first render {f['render_ms']} ms")
    if "plotly_render_ms" in f:
        line += (f"; Plotly Scattergl {f['plotly_json_bytes_per_point']} bytes a point, {f['plotly_render_ms']} ms "
                 f"({f['render_speedup']}x)")
    print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_POINTS:,} synthetic points, one round")
    parser.add_argument("--atlas", action="store_true", help="the CLDR atlas map and 9 noisy copies of it")
    parser.add_argument("--layout-1m", action="store_true", help="with --atlas: also time the layout of 1M vectors")
    args = parser.parse_args()
    print(f"load average at start: {machine()['load_average_1m']}", flush=True)
    if args.quick:
        f = measure(synthetic(QUICK_POINTS), rounds=1)
        report({**f, "load_average_1m_after": round(os.getloadavg()[0], 2)}, section="map_quick")
        _print("quick", f)
        return
    if args.atlas:
        registry = _registry()
        result, vectors, timings = compute_map(registry, registry.settings.limits.max_map_points)
        atlas = points_of(result)
        f100k = {**measure(atlas, ROUNDS), **timings, "model": MODEL, "method": "umap (fast path)",
                 "data": "the CLDR atlas map"}
        big, data_1m = repeated(atlas, COPIES_1M), f"the atlas map x {COPIES_1M} with noise"
    else:
        f100k = {**measure(synthetic(100_000), ROUNDS), "data": "synthetic: 60 clusters, 40 languages"}
        big, data_1m = synthetic(1_000_000), "synthetic: 60 clusters, 40 languages"
    report({**f100k, "load_average_1m_after": round(os.getloadavg()[0], 2)}, section="map")
    f1m = measure(big, ROUNDS_1M)
    f1m["data"] = data_1m
    if args.atlas and args.layout_1m:
        f1m.update(layout_1m(vectors))
    report({**f1m, "load_average_1m_after": round(os.getloadavg()[0], 2)}, section="map_1m")
    report({"map_bytes_per_point": f1m["bytes_per_point"], "map_1m_render_ms": f1m["render_ms"],
            "map_100k_render_ms": f100k["render_ms"]})
    _print("100k", f100k)
    _print("1M", f1m)


if __name__ == "__main__":
    main()
