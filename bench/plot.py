"""Draw how search and UMAP cost grows with n, from bench/results/latest.json, as a PNG.

    .venv/bin/python bench/plot.py                                # writes docs/performance_scaling.png
    .venv/bin/python bench/plot.py --out /tmp/scaling.png

Left: k=10 search, one query per call (the app's case), milliseconds a query: exact
``IndexFlatIP`` against the app's HNSW32 at the smallest efSearch with recall@10 >= 0.95 (the
``search_<n>`` figures of bench/search.py). Right: seconds to lay out n points: ``umap.UMAP()``
defaults against the app's fast path (the ``umap_<n>`` figures of bench/umap.py). Both axes are
logarithmic, so a straight line of slope 1 is cost proportional to n; a dotted guide of that slope
starts at each baseline's first point. Every size found in the file is drawn; nothing is measured
here. The figure is Plotly, saved to PNG by headless Chromium (bench/chromium.py): neither
matplotlib nor kaleido is a dependency.
"""
from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from chromium import save_png  # noqa: E402
from common import REPO_ROOT, RESULTS  # noqa: E402 - also puts the repo on sys.path

SIZES = ("10k", "30k", "100k", "1m")
OURS, BASELINE, GUIDE = "#1f77b4", "#d62728", "#9a9a9a"
OUT = REPO_ROOT / "docs" / "performance_scaling.png"
WIDTH, HEIGHT = 1100, 460


def _series(results: dict, prefix: str) -> list[dict]:
    """The per-size blocks ``<prefix>_<size>`` present in ``results``, smallest n first."""
    return [results[f"{prefix}_{size}"] for size in SIZES if f"{prefix}_{size}" in results]


def _ticks_125(low: float, high: float) -> list[float]:
    """1-2-5 ticks covering [low, high], for a log axis with readable labels."""
    first = math.floor(math.log10(low))
    ticks = [m * 10 ** e for e in range(first, math.ceil(math.log10(high)) + 1) for m in (1, 2, 5)]
    below = max((t for t in ticks if t <= low), default=ticks[0])
    above = min((t for t in ticks if t >= high), default=ticks[-1])
    return [t for t in ticks if below <= t <= above]


def _n_label(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1_000}k"


def scaling_figure(results: dict):
    """A two-panel log-log Plotly figure from the ``search_<n>`` and ``umap_<n>`` blocks."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    search, layout = _series(results, "search"), _series(results, "umap")
    if not search or not layout:
        missing = " and ".join(name for name, s in (("bench/search.py", search), ("bench/umap.py", layout)) if not s)
        raise SystemExit(f"{RESULTS} has no per-size figures from {missing}: run it first.")
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1, subplot_titles=(
        "Search, k=10, one query per call (384-d)", "UMAP layout (384-d)"))

    def line(col, points, key, name, colour, text=None, dash=None, symbol="circle"):
        fig.add_trace(go.Scatter(
            x=[p["n"] for p in points], y=[p[key] for p in points], name=name,
            mode="lines+markers+text" if text else "lines+markers", text=text,
            textfont=dict(size=11, color=colour),
            textposition=["bottom right"] * (len(points) - 1) + ["top left"],  # the last label inside the plot
            line=dict(color=colour, width=2.5, dash=dash), marker=dict(size=8, symbol=symbol)), row=1, col=col)

    def guide(col, points, key):
        first, last_n = points[0], points[-1]["n"]
        fig.add_trace(go.Scatter(x=[first["n"], last_n], y=[first[key], first[key] * last_n / first["n"]],
                                 mode="lines", line=dict(color=GUIDE, width=1.5, dash="dot"),
                                 name="∝ n (guide)", showlegend=col == 1), row=1, col=col)

    guide(1, search, "flat_single_ms")
    line(1, search, "flat_single_ms", "exact IndexFlatIP", BASELINE, symbol="square")
    line(1, search, "hnsw_single_ms", "HNSW32 (app), efSearch for recall@10 ≥ 0.95", OURS,
         text=[f"ef {p['ef_search']} · {p['flat_single_ms'] / p['hnsw_single_ms']:.0f}×" for p in search])
    guide(2, layout, "default_s")
    line(2, layout, "default_s", "umap.UMAP() defaults", BASELINE, symbol="square", dash="dash")
    line(2, layout, "fast_s", "app fast path: PCA-50 + FAISS k-NN graph", OURS, dash="dash",
         text=[f"{p['default_s'] / p['fast_s']:.1f}×" for p in layout])

    for col, points, keys, title in ((1, search, ("flat_single_ms", "hnsw_single_ms"), "ms per query"),
                                     (2, layout, ("default_s", "fast_s"), "seconds")):
        ns = [p["n"] for p in points]
        values = [p[k] for p in points for k in keys]
        # log axes, with a margin beyond the outer points for markers and labels
        fig.update_xaxes(type="log", tickvals=ns, ticktext=[_n_label(n) for n in ns], title_text="n (vectors)",
                         range=[math.log10(ns[0]) - 0.1, math.log10(ns[-1]) + 0.25], row=1, col=col)
        fig.update_yaxes(type="log", title_text=title, tickvals=_ticks_125(min(values), max(values)),
                         row=1, col=col)
    cpu = results.get("machine", {})
    fig.update_layout(
        template="plotly_white", font=dict(size=13), margin=dict(l=60, r=20, t=60, b=110),
        legend=dict(orientation="h", x=0.5, xanchor="center", y=-0.2, yanchor="top"),
        title=dict(text=f"Cost vs n on {cpu.get('cores', '?')} vCPUs ({cpu.get('cpu', 'CPU')}); "
                        "labels: speed-up of the app's path", x=0.5, font=dict(size=15)),
    )
    return fig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results", type=Path, default=RESULTS, help="the results file to read")
    parser.add_argument("--out", type=Path, default=OUT, help="the PNG to write")
    args = parser.parse_args()
    fig = scaling_figure(json.loads(args.results.read_text()))
    save_png(fig, args.out, WIDTH, HEIGHT)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()
