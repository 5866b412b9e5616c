"""The Mining tab's figures and tables: margin histogram, gold P/R/F1 curve, pairs, summary."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from backend.capabilities.mining import MiningResult
from ui.escaping import escape_markdown
from ui.figures.text import language_tag

PAIR_COLUMNS = ["score", "source line", "target line", "source", "target", "in gold"]
TABLE_ROWS = 500


def margin_histogram(result: MiningResult) -> go.Figure:
    """Every candidate's margin (the strategy's pairs before the threshold), threshold drawn on it."""
    fig = go.Figure(go.Histogram(x=result.candidate_scores, nbinsx=60, marker_color="#4c72b0",
                                 hovertemplate="margin %{x}<br>%{y} candidates<extra></extra>"))
    fig.add_vline(x=result.threshold, line_dash="dash", line_color="#c44e52",
                  annotation_text=f"threshold {result.threshold:g}", annotation_position="top right")
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
    fig.add_vline(x=result.threshold, line_dash="dash", line_color="#888")
    fig.add_trace(go.Scatter(x=[gold.best_threshold], y=[gold.best_f1], mode="markers", name="best F1",
                             marker=dict(size=11, color="#c44e52", symbol="star")))
    fig.update_layout(title=dict(text=f"Against {gold.n_gold:,} gold pairs: best F1 {gold.best_f1:.3f} "
                                      f"at {gold.best_threshold:.4f}", x=0.5),
                      xaxis_title="margin threshold (pairs at or above it are kept)", yaxis_title="score",
                      yaxis_range=[0, 1.02], height=340, margin=dict(l=50, r=20, t=50, b=45))
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
        f"**{len(result.pairs):,} pairs**{shown} at margin ≥ {result.threshold:g} · "
        f"{len(src):,} source lines ({language_tag(src.lang, src.lang_probability, src.lang_uncertain)}) × "
        f"{len(tgt):,} target lines ({language_tag(tgt.lang, tgt.lang_probability, tgt.lang_uncertain)}) · "
        f"{escape_markdown(result.model)} · strategy {result.strategy}, "
        f"k={result.k} · engine **{result.engine}**",
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
    timing = ", ".join(f"{stage} {seconds:.2f} s" for stage, seconds in result.seconds.items())
    lines.append(f"Time: {timing}")
    return "\n\n".join(lines)
