"""The Layers view and the neutralisation table: layer curves (one line per model) and a table.

Every label here is a model id from the allow-list, a method name or a number: no user string
reaches a Plotly label."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from backend.analysis.neutralisation import NeutralisationComparison
from backend.capabilities.layers import LayerCurves

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000", "#F0E442")
# Each title breaks before its note: on a phone one line was wider than the plot and was cut at both ends.
PANELS = ("Bitext P@1 (cosine)<br>with its 95% CI band", "Language silhouette<br>(lower = more language-neutral)",
          "Meaning silhouette<br>(higher = translations together)")


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def layer_figure(curves: list[LayerCurves]) -> go.Figure:
    """Three panels sharing the layer axis; one colour per model; the best-P@1 layer starred."""
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.09, subplot_titles=PANELS)
    for i, c in enumerate(curves):
        colour = COLOURS[i % len(COLOURS)]
        layers = list(c.layers)
        low = [ci[0] for ci in c.p_at_1_ci]
        high = [ci[1] for ci in c.p_at_1_ci]
        # The 95% Wilson band: mode "lines" (Plotly's default draws a marker at each of the polygon's
        # corners, in the next colour of its cycle) and opaque enough to see at n in the thousands.
        fig.add_trace(go.Scatter(x=layers + layers[::-1], y=high + low[::-1], fill="toself", mode="lines",
                                 fillcolor=_rgba(colour, 0.3), line={"width": 0.5, "color": _rgba(colour, 0.6)},
                                 hoverinfo="skip", name=f"95% CI of {c.model_id}", showlegend=False,
                                 legendgroup=c.model_id), row=1, col=1)
        fig.add_trace(go.Scatter(x=layers, y=list(c.p_at_1), mode="lines+markers", name=c.model_id,
                                 line={"color": colour}, legendgroup=c.model_id,
                                 customdata=list(zip(low, high)),
                                 hovertemplate="layer %{x}: P@1 %{y:.3f} (CI %{customdata[0]:.3f}–"
                                               "%{customdata[1]:.3f})<extra>" + c.model_id + "</extra>"),
                      row=1, col=1)
        best = c.best_layer
        fig.add_trace(go.Scatter(x=[best], y=[c.p_at_1[layers.index(best)]], mode="markers",
                                 marker={"symbol": "star", "size": 16, "color": colour,
                                         "line": {"width": 1, "color": "black"}},
                                 name=f"best layer of {c.model_id}: {best}", legendgroup=c.model_id,
                                 hovertemplate=f"best layer {best}<extra>{c.model_id}</extra>"), row=1, col=1)
        for row, values in ((2, c.silhouette_language), (3, c.silhouette_meaning)):
            fig.add_trace(go.Scatter(x=layers, y=[None if v is None else v for v in values], mode="lines+markers",
                                     line={"color": colour}, showlegend=False, legendgroup=c.model_id,
                                     hovertemplate="layer %{x}: %{y:.3f}<extra>" + c.model_id + "</extra>"),
                          row=row, col=1)
    fig.update_xaxes(title_text="layer (0 = embeddings)", dtick=1, row=3, col=1)
    fig.update_yaxes(range=[0, 1.02], row=1, col=1)
    fig.update_layout(height=810, margin={"l": 50, "r": 20, "t": 85, "b": 40}, hovermode="closest",
                      legend={"orientation": "h", "y": -0.08})
    return fig


def layers_markdown(curves: list[LayerCurves]) -> str:
    """One line per model: its best layer, its most language-neutral layer, and n."""
    lines = []
    for c in curves:
        best = c.best_layer
        neutral = c.most_neutral_layer
        note = "" if c.mean_pooled else " (its own embedding pools differently, so the last layer here is not it)"
        lines.append(f"- **{c.model_id}**: best P@1 at layer **{best}** of {c.layers[-1]} "
                     f"({c.p_at_1[c.layers.index(best)]:.3f}; last layer {c.p_at_1[-1]:.3f}); lowest language "
                     f"silhouette at layer {neutral if neutral is not None else '–'}; n = {c.n:,} retrievals "
                     f"over {c.n_rows:,} sentences{' (cached)' if c.from_cache else ''}{note}.")
    return "\n".join(lines)


TABLE_COLUMNS = ("method", "rank", "P@1 cosine", "95% CI (cosine)", "P@1 margin", "95% CI (margin)",
                 "language silhouette", "meaning silhouette", "n")


def _ci(pair) -> str:
    return "–" if not pair else f"{pair[0]:.3f}–{pair[1]:.3f}"


def _num(value) -> str:
    return "–" if value is None else f"{value:.4f}"


def comparison_table(result: NeutralisationComparison) -> pd.DataFrame:
    """One row per method and rank."""
    rows = [(r.method, "–" if r.rank is None else str(r.rank), _num(r.scores.p_at_1_cosine),
             _ci(r.scores.p_at_1_cosine_ci), _num(r.scores.p_at_1_margin), _ci(r.scores.p_at_1_margin_ci),
             _num(r.scores.silhouette_language), _num(r.scores.silhouette_meaning), f"{r.scores.n:,}")
            for r in result.rows]
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
