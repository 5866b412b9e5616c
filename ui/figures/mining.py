"""The Mining tab's figures and tables: margin histogram, gold P/R/F1 curve, pairs, summary."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from backend.capabilities.mining import MiningResult
from ui.escaping import escape_markdown
from ui.figures.text import language_tag

PAIR_COLUMNS = ["score", "source line", "target line", "source", "target", "in gold"]
TABLE_ROWS = 500
STAGES = {"read": "read the files (language ID)", "encode": "embed", "index": "build the indexes",
          "knn": "nearest neighbours", "margin": "margins", "select": "pairs and threshold"}


def threshold_text(result: MiningResult) -> str:
    """"1.02 (fixed)" or "1.0143 (auto: …)"."""
    if result.picked is None:
        return f"{result.threshold_used:g} (fixed)"
    return f"{result.threshold_used:.4f} ({result.picked.describe()})"


def _seconds(value: float) -> str:
    if value < 0.01:
        return f"{value * 1000:.2f} ms"  # the margins of a few hundred lines take well under 1 ms
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def timeline_markdown(result: MiningResult) -> str:
    """The stages in order with their times (ms below a second), their total, and what embedded."""
    parts = [f"{STAGES.get(stage, stage)} {_seconds(seconds)}" for stage, seconds in result.seconds.items()]
    total = sum(result.seconds.values())
    encoded = (f"{result.encoded_rows:,} distinct lines embedded by the **{result.engine}** embedding engine"
               if result.encoded_rows else "every vector read from the vector store (embedded by an earlier run)")
    return f"Time: {' → '.join(parts)} · total {_seconds(total)} · {encoded}"


def margin_histogram(result: MiningResult) -> go.Figure:
    """Every candidate's margin (the strategy's pairs before the threshold), the threshold used drawn
    on it (and, when auto picked it, the two modes it was picked between)."""
    fig = go.Figure(go.Histogram(x=result.candidate_scores, nbinsx=60, marker_color="#4c72b0",
                                 hovertemplate="margin %{x}<br>%{y} candidates<extra></extra>"))
    picked = result.picked
    name = "fixed threshold" if picked is None else f"auto threshold ({picked.method})"
    fig.add_vline(x=result.threshold_used, line_dash="dash", line_color="#c44e52",
                  annotation_text=f"{name} {result.threshold_used:.4g}", annotation_position="top right")
    for mode in (picked.modes if picked is not None else ()):
        fig.add_vline(x=mode, line_dash="dot", line_color="#999")
    fig.update_layout(title=dict(text="Margin scores of the candidate pairs", x=0.5),
                      xaxis_title="ratio margin", yaxis_title="candidates", height=340,
                      margin=dict(l=50, r=20, t=50, b=45), bargap=0.05)
    return fig


def gold_curve(result: MiningResult) -> go.Figure | None:
    """Precision, recall and F1 against the threshold (BUCC style); None without gold."""
    if result.gold is None:
        return None
    gold = result.gold
    thresholds = [c[0] for c in gold.curve]
    fig = go.Figure()
    for index, (name, colour) in enumerate((("precision", "#4c72b0"), ("recall", "#55a868"), ("F1", "#c44e52")),
                                           start=1):
        fig.add_trace(go.Scatter(x=thresholds, y=[c[index] for c in gold.curve], mode="lines", name=name,
                                 line=dict(color=colour), hovertemplate=f"{name} %{{y:.3f}} at %{{x:.4f}}<extra></extra>"))
    fig.add_vline(x=result.threshold_used, line_dash="dash", line_color="#888")
    fig.add_trace(go.Scatter(x=[gold.best_threshold], y=[gold.best_f1], mode="markers", name="best F1",
                             marker=dict(size=11, color="#c44e52", symbol="star")))
    # two short lines and a short axis title: on a phone one long line was cut
    # one short line just above the plot: a long one was cut on a phone, a second line hid under the label
    fig.update_layout(title=dict(text=f"Best F1 {gold.best_f1:.3f} at {gold.best_threshold:.4f}", x=0.5, yref="paper",
                                 y=1, yanchor="bottom", pad=dict(b=12)),
                      xaxis_title="threshold (pairs at or above it kept)", yaxis_title="score",
                      yaxis_range=[0, 1.02], height=360, margin=dict(l=50, r=20, t=70, b=45))
    return fig


def pairs_table(result: MiningResult, gold: frozenset | None = None) -> pd.DataFrame:
    rows = [[round(p.score, 4), p.source_line, p.target_line, p.source, p.target,
             ("✓" if (p.source_line, p.target_line) in gold else "✗") if gold else ""]
            for p in result.pairs[:TABLE_ROWS]]
    return pd.DataFrame(rows, columns=PAIR_COLUMNS)


def summary_markdown(result: MiningResult) -> str:
    src, tgt = result.source, result.target
    shown = f" (the best {TABLE_ROWS:,} below)" if len(result.pairs) > TABLE_ROWS else ""
    lines = [
        f"**{len(result.pairs):,} pairs**{shown} at margin ≥ {threshold_text(result)} · "
        f"{len(src):,} source lines ({language_tag(src.lang, src.lang_probability, src.lang_uncertain)}) × "
        f"{len(tgt):,} target lines ({language_tag(tgt.lang, tgt.lang_probability, tgt.lang_uncertain)}) · "
        f"{escape_markdown(result.model)} · strategy {result.strategy}, k={result.k}",
    ]
    if result.gold is not None:
        g = result.gold
        lines.append(f"Gold ({g.n_gold:,} pairs): precision {g.precision:.3f}, recall {g.recall:.3f}, "
                     f"F1 {g.f1:.3f} at this threshold · **best F1 {g.best_f1:.3f} at {g.best_threshold:.4f}**")
    for side, role in ((src, "source"), (tgt, "target")):
        dropped = []
        if side.skipped.count:
            dropped.append(escape_markdown(side.skipped.describe("line")))
        if side.n_duplicates:
            dropped.append(f"{side.n_duplicates:,} duplicate lines dropped")
        if dropped:
            lines.append(f"{role.capitalize()} ({escape_markdown(side.name)}): " + "; ".join(dropped))
    lines += [escape_markdown(note) for note in result.notes]
    lines.append(timeline_markdown(result))
    return "\n\n".join(lines)
