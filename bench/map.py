"""The Language map at atlas scale: the figure's JSON size and its render time in headless Chromium.

    .venv/bin/python bench/map.py            # the whole CLDR atlas: 111,210 points (2-5 min, by load;
                                             # ~2 min more the first time, to embed the atlas)
    .venv/bin/python bench/map.py --quick    # 5 locales (en, ru, zh, hi, ar), 4,168 points

Ours is the app's own path, as ``ui/handlers/map.py`` runs it: ``backend.projection.project_map``
on the CLDR atlas with all-MiniLM-L6-v2, method "umap" (PCA-50 + FAISS k-NN graph), max_points =
``Limits.max_map_points`` (120,000, above the atlas's size: no sampling), then
``ui.formatting.map_figure``: one Scattergl trace per language, float32 coordinates that Plotly
sends as base64. ``gr.Plot`` sends ``fig.to_json()`` (its postprocess), so that string's UTF-8
size is ``map_100k_json_mb`` (MB = 1e6 bytes). In the SSE message (not compressed: Gradio's
compression middleware skips the queue stream) it is escaped once more: ``sse_bytes``. The
hover text's and the coordinates' shares are measured with Plotly's own serialiser.

The naive baseline draws the same points (the same float values), the same per-language traces,
hover text and layout, written as plain Plotly does without care: ``go.Scatter`` (SVG), the
coordinates as JSON lists of doubles. (Plotly >= 6 would base64 a numpy array by itself: lists
are what plotly < 6, or code that calls ``.tolist()``, sends.)

Render time: a page holding the plotly.js that the plotly package ships; in the page,
``performance.now()`` before ``Plotly.newPlot(div, data, layout)`` and after its promise resolves
plus two animation frames (so the WebGL paint has happened). ``JSON.parse`` of the string is timed
apart (``parse_ms``). Each drawing is on a fresh page; ours and naive alternate, 3 rounds, and
the medians are reported. A drawing counts only if the browser logged no error and the points are
on screen: every SVG point exists (naive), the WebGL canvas exists (ours), and the plot area's
screenshot has coloured pixels (both). WebGL here is SwiftShader (CPU): a real GPU draws faster.

The layout is timed in a warm process (numba compiles umap-learn's kernels once per server
process, on its first map) and never read from the layout cache; the embeddings are cached under
``.cache/bench/map`` after the first run (``embed_s`` is then ~0). ``layout_s`` is what the app
reports ("computed in ..."): the UMAP layout, the scores and the clusters; ``umap_s``,
``scores_s`` and ``clusters_s`` split it, timed inside that one call.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from chromium import plotly_browser
from common import BENCH_CACHE, machine, median, report  # noqa: E402 - also puts the repo on sys.path

from backend.corpus import CLDR_ID  # noqa: E402

# bench/umap.py would shadow umap-learn: this folder leaves sys.path before umap-learn is imported.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

MODEL = "all-MiniLM-L6-v2"  # the faster packaged encoder on CPU, as in the atlas-scale browser test
QUICK_LOCALES = ("en", "ru", "zh", "hi", "ar")  # five scripts: Latin, Cyrillic, Han, Devanagari, Arabic
ROUNDS = 3
CACHE_DIR = BENCH_CACHE / "map"
COLOURED = 40  # a pixel whose channels differ by more than this is a point, not background or grid

RENDER_JS = """async (json) => {
    const t0 = performance.now();
    const figure = JSON.parse(json);
    const t1 = performance.now();
    const div = document.getElementById('plot');
    await Plotly.newPlot(div, figure.data, figure.layout);
    await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
    const t2 = performance.now();
    const area = div.querySelector('.nsewdrag').getBoundingClientRect();
    return {parse_ms: t1 - t0, render_ms: t2 - t1,
            types: [...new Set(div._fullData.map(t => t.type))],
            gl_canvases: div.querySelectorAll('.gl-container canvas').length,
            svg_points: div.querySelectorAll('.scatterlayer path.point').length,
            area: {x: area.x, y: area.y, width: area.width, height: area.height}};
}"""
WEBGL_JS = """() => {
    const gl = document.createElement('canvas').getContext('webgl');
    if (!gl) return null;
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    return info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : 'webgl (renderer hidden)';
}"""


def _registry():
    from backend.config import load_settings
    from backend.registry import build_registry

    return build_registry(load_settings({**os.environ, "BABELSCOPE_CACHE_DIR": str(CACHE_DIR)}))


def _quick_corpus(registry) -> str:
    """The atlas rows of QUICK_LOCALES, stored as an upload (the atlas itself would embed every row)."""
    from backend.corpus import cldr_corpus

    atlas = cldr_corpus()
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n")
    writer.writerow(["id", "lang", "text"])
    writer.writerows(row for row in zip(atlas.ids, atlas.langs, atlas.texts, strict=True) if row[1] in QUICK_LOCALES)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "cldr-quick.tsv")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(buffer.getvalue())
        return registry.corpora.load_upload(path).corpus_id


def _warm_numba(vectors: np.ndarray) -> None:
    """An untimed layout of the first 5,000 points: numba compiles umap-learn's kernels on first
    use, and ``project`` takes the same (seeded or parallel) path for it as for the whole map."""
    from backend.projection import project

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


def naive_figure(figure):
    """``figure`` redrawn as plain Plotly: each trace a ``go.Scatter`` (SVG) with its x and y as
    lists of Python floats (the same values) and everything else (name, hover, marker) kept."""
    import plotly.graph_objects as go

    naive = go.Figure(layout=figure.layout)
    for trace in figure.data:
        props = trace.to_plotly_json()
        props.pop("type")
        props["x"] = np.asarray(trace.x, dtype=np.float64).tolist()
        props["y"] = np.asarray(trace.y, dtype=np.float64).tolist()
        naive.add_trace(go.Scatter(**props))
    return naive


def _coloured_pixels(png: bytes) -> float:
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)
    return float(np.mean(pixels.max(axis=2) - pixels.min(axis=2) > COLOURED))


def render(open_page, json_text: str, n_points: int, webgl: bool) -> dict:
    """One drawing of ``json_text`` on a fresh page; raises unless the points are on screen."""
    with open_page() as page:
        timing = page.page.evaluate(RENDER_JS, json_text)
        label = "ours (Scattergl)" if webgl else "naive (SVG Scatter)"
        page.check_clean(label)
        if webgl and (timing["types"] != ["scattergl"] or timing["gl_canvases"] == 0):
            raise RuntimeError(f"{label}: no WebGL canvas was drawn ({timing}).")
        if not webgl and timing["svg_points"] != n_points:
            raise RuntimeError(f"{label}: {timing['svg_points']:,} SVG points drawn of {n_points:,}.")
        page.page.mouse.move(0, 0)
        coloured = _coloured_pixels(page.page.screenshot(clip=timing["area"]))
        if coloured < 0.005:
            raise RuntimeError(f"{label}: the plot area is blank ({coloured:.2%} coloured pixels).")
        return {"parse_ms": timing["parse_ms"], "render_ms": timing["render_ms"], "coloured": coloured}


def _plotly_json_bytes(value) -> int:
    from plotly.io.json import to_json_plotly

    return len(to_json_plotly(value).encode("utf-8"))


def _median_of(runs: list[dict], key: str, digits: int = 0) -> float:
    return round(median([r[key] for r in runs]), digits)


def compute_map(registry, corpus_id: str, max_points: int) -> tuple:
    """The map as the handler computes it, from fresh (no layout cache), in a warm process.

    Returns (MapResult, figures): embedding, whole-call and per-stage seconds."""
    from backend import projection
    from backend.corpus_vectors import corpus_embeddings

    start = time.perf_counter()
    vectors = corpus_embeddings(registry, registry.corpora.get(corpus_id), MODEL)
    embed_s = time.perf_counter() - start
    _warm_numba(vectors)
    shutil.rmtree(CACHE_DIR / "layouts", ignore_errors=True)  # time the layout, not the layout cache
    start = time.perf_counter()
    with stage_timer(projection, ("project", "map_scores", "cluster_points")) as stages:
        result = projection.project_map(registry, corpus_id, MODEL, "umap", [], False, max_points)
    project_map_s = time.perf_counter() - start
    assert not result.from_cache and np.isfinite(result.coords).all()
    return result, {
        "embed_s": round(embed_s, 1), "project_map_s": round(project_map_s, 1), "layout_s": result.seconds,
        "umap_s": round(stages["project"], 1), "scores_s": round(stages["map_scores"], 1),
        "clusters_s": round(stages["cluster_points"], 1),
    }


def build_figures(result) -> tuple[str, str, dict]:
    """Our figure's JSON (as ``on_map_run`` hands it to ``gr.Plot``) and the naive one's, with sizes
    and build times."""
    import gradio as gr
    import orjson

    from ui.formatting import map_figure

    build, serialise = [], []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        figure = map_figure(result)
        build.append(time.perf_counter() - start)
        start = time.perf_counter()
        json_text = figure.to_json()
        serialise.append(time.perf_counter() - start)
    json_bytes = len(json_text.encode("utf-8"))
    points = [t for t in json.loads(json_text)["data"] if t.get("mode") == "markers"]
    assert all("bdata" in t["x"] for t in points) and sum(len(t["text"]) for t in points) == result.n_points
    # The parts as to_json writes them: it escapes < > / as \u003c \u003e \u002f (6 bytes each), so
    # each hover "<br>" costs 14 bytes, and base64's "/" (1 character in 64) 6.
    hover_bytes = sum(_plotly_json_bytes(t["text"]) for t in points)
    coord_bytes = sum(_plotly_json_bytes(t[axis]) for t in points for axis in ("x", "y"))

    start = time.perf_counter()
    naive_text = naive_figure(figure).to_json()
    naive_s = time.perf_counter() - start
    naive_bytes = len(naive_text.encode("utf-8"))
    assert "bdata" not in naive_text
    n = result.n_points
    return json_text, naive_text, {
        "json_bytes": json_bytes, "json_mb": round(json_bytes / 1e6, 2),
        "json_bytes_per_point": round(json_bytes / n, 1),
        "hover_text_bytes_per_point": round(hover_bytes / n, 1),
        "coordinate_bytes_per_point": round(coord_bytes / n, 1),
        "sse_bytes": len(orjson.dumps(gr.Plot().postprocess(figure).model_dump())),
        "figure_build_ms": round(median(build) * 1e3), "to_json_ms": round(median(serialise) * 1e3),
        "naive_json_bytes": naive_bytes, "naive_json_mb": round(naive_bytes / 1e6, 2),
        "naive_json_bytes_per_point": round(naive_bytes / n, 1),
        "naive_build_and_json_ms": round(naive_s * 1e3),
        "json_size_ratio": round(naive_bytes / json_bytes, 2),
    }


def time_renders(json_text: str, naive_text: str, n_points: int) -> dict:
    """ROUNDS drawings of each figure, alternating, each on a fresh page; medians."""
    ours, naive = [], []
    with plotly_browser() as open_page:
        with open_page() as page:
            renderer = page.page.evaluate(WEBGL_JS)
        if not renderer:
            raise RuntimeError("Chromium has no WebGL here: the map's Scattergl traces cannot be drawn.")
        for _ in range(ROUNDS):
            ours.append(render(open_page, json_text, n_points, webgl=True))
            naive.append(render(open_page, naive_text, n_points, webgl=False))
    render_ms, naive_render_ms = _median_of(ours, "render_ms"), _median_of(naive, "render_ms")
    return {
        "render_ms": render_ms, "render_ms_runs": [round(r["render_ms"]) for r in ours],
        "parse_ms": _median_of(ours, "parse_ms", 1),
        "coloured_pixel_share": round(median([r["coloured"] for r in ours]), 3),
        "naive_render_ms": naive_render_ms, "naive_render_ms_runs": [round(r["render_ms"]) for r in naive],
        "naive_parse_ms": _median_of(naive, "parse_ms", 1),
        "naive_coloured_pixel_share": round(median([r["coloured"] for r in naive]), 3),
        "render_speedup": round(naive_render_ms / render_ms, 2),
        "webgl_renderer": renderer, "rounds": ROUNDS,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"{len(QUICK_LOCALES)} locales (~4k points); reported under 'map_quick' only")
    args = parser.parse_args()
    print(f"load average at start: {machine()['load_average_1m']}", flush=True)
    registry = _registry()
    cap = registry.settings.limits.max_map_points
    corpus_id = _quick_corpus(registry) if args.quick else CLDR_ID
    result, timings = compute_map(registry, corpus_id, cap)
    json_text, naive_text, sizes = build_figures(result)
    renders = time_renders(json_text, naive_text, result.n_points)
    f = {"n_points": result.n_points, "n_languages": len(set(result.langs)), "max_map_points": cap,
         "model": MODEL, "method": "umap (fast path)", **sizes, **timings, **renders,
         "load_average_1m_after": round(os.getloadavg()[0], 2)}
    report(f, section="map_quick" if args.quick else "map")
    if not args.quick:
        if result.n_points >= 100_000:
            report({"map_100k_json_mb": f["json_mb"]})
        else:
            print(f"map_100k_json_mb not reported: the map had {result.n_points:,} points (max_map_points {cap:,}).")
    speed = f["render_speedup"]
    print(f"\n{f['n_points']:,} points: ours {f['json_mb']} MB vs naive {f['naive_json_mb']} MB "
          f"({f['json_size_ratio']}x smaller; {f['json_bytes_per_point']} vs {f['naive_json_bytes_per_point']} "
          f"bytes a point), render {f['render_ms']:.0f} ms vs {f['naive_render_ms']:.0f} ms "
          f"({f'{speed:.1f}x faster' if speed >= 1 else f'{1 / speed:.1f}x slower'})")


if __name__ == "__main__":
    main()
