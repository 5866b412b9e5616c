"""Alignment tab: the word x word heatmap, the two-row alignment picture, the contributions to the
sentence cosine, and the per-layer curves of an evaluation.

Words are user strings: every one goes through ``escape_plotly`` (labels, hover text) or
``escape_markdown``. Axes are numeric with word tick labels, so a word that appears twice keeps two
rows. A right-to-left side (Arabic, Hebrew...) is laid out from the right in the picture; each word
is its own label, so the browser's bidi never reorders words across a line.
"""
from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from backend.capabilities.alignment import AlignmentEvaluation, PairAlignment
from ui.escaping import escape_markdown, escape_plotly
from ui.figures import plain_figure
from ui.figures.layers import COLOURS
from ui.figures.text import shorten

GREY = "#9a9a9a"
LINK = "#0072B2"
NO_WORD = "(special tokens)"


def _ticks(words) -> list[str]:
    return [escape_plotly(shorten(w, 24)) for w in words]


def alignment_heatmap(result: PairAlignment, title: str) -> go.Figure:
    """Cosine of word vectors, source words down, target words across; links ringed."""
    src, tgt = _ticks(result.source_words), _ticks(result.target_words)
    z = np.asarray(result.similarity, dtype=np.float64)
    hover = [[f"{src[i]} ↔ {tgt[j]}<br>cosine {z[i, j]:.3f}" for j in range(len(tgt))] for i in range(len(src))]
    traces = [dict(type="heatmap", z=z, x=list(range(len(tgt))), y=list(range(len(src))), hovertext=hover,
                   hoverinfo="text", colorscale="Viridis", colorbar=dict(title=dict(text="cosine"), thickness=12))]
    if result.alignments:
        traces.append(dict(type="scatter", x=[j for _, j in result.alignments], y=[i for i, _ in result.alignments],
                           mode="markers", name="link", hoverinfo="skip", showlegend=False,
                           marker=dict(symbol="square-open", size=14, color="white", line=dict(width=2.5))))
    height = max(320, min(900, 120 + 24 * len(src)))
    return plain_figure(traces, dict(
        title=dict(text=escape_plotly(title), x=0.5, font=dict(size=14)), height=height,
        margin=dict(l=10, r=10, t=40, b=10),
        xaxis=dict(tickmode="array", tickvals=list(range(len(tgt))), ticktext=tgt, tickangle=-60, side="bottom"),
        yaxis=dict(tickmode="array", tickvals=list(range(len(src))), ticktext=src, autorange="reversed"),
    ))


def _right_to_left(words) -> bool:
    """Most strong-direction letters of the side are right-to-left (bidi classes R and AL)."""
    rtl = ltr = 0
    for ch in "".join(words):
        kind = unicodedata.bidirectional(ch)
        rtl += kind in ("R", "AL")
        ltr += kind == "L"
    return rtl > ltr


def _positions(words, width: int) -> list[float]:
    n = len(words)
    step = (width - 1) / max(n - 1, 1) if n > 1 else 0.0
    xs = [k * step for k in range(n)] if n > 1 else [(width - 1) / 2]
    return [width - 1 - x for x in xs] if _right_to_left(words) else xs


def alignment_picture(result: PairAlignment, title: str) -> go.Figure:
    """Source words on top, target words below, a line per link; line opacity by the link's cosine
    (scaled over this pair's links), unaligned words grey."""
    width = max(len(result.source_words), len(result.target_words))
    xs, xt = _positions(result.source_words, width), _positions(result.target_words, width)
    sim = np.asarray(result.similarity, dtype=np.float64)
    values = [sim[i, j] for i, j in result.alignments]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    traces = []
    src, tgt = _ticks(result.source_words), _ticks(result.target_words)
    for (i, j), value in zip(result.alignments, values):
        opacity = 0.25 + 0.75 * ((value - low) / (high - low) if high > low else 1.0)
        traces.append(dict(type="scatter", x=[xs[i], xt[j]], y=[1, 0], mode="lines", showlegend=False,
                           line=dict(color=LINK, width=2.5), opacity=round(opacity, 3), hoverinfo="text",
                           hovertext=f"{src[i]} ↔ {tgt[j]}: cosine {value:.3f}"))
    linked_s = {i for i, _ in result.alignments}
    linked_t = {j for _, j in result.alignments}
    for y, labels, x, linked, position in ((1, src, xs, linked_s, "top center"),
                                           (0, tgt, xt, linked_t, "bottom center")):
        traces.append(dict(type="scatter", x=x, y=[y] * len(labels), mode="markers+text",
                           text=_staggered(labels, above=y == 1),
                           textposition=position, hoverinfo="text", hovertext=labels, showlegend=False,
                           textfont=dict(size=14, color=[LINK if k in linked else GREY for k in range(len(labels))]),
                           marker=dict(size=7, color=[LINK if k in linked else GREY for k in range(len(labels))])))
    return plain_figure(traces, dict(
        title=dict(text=escape_plotly(title), x=0.5, font=dict(size=14)), height=290,
        margin=dict(l=20, r=20, t=40, b=10), plot_bgcolor="white",
        xaxis=dict(visible=False, range=[-0.8, width - 0.2]), yaxis=dict(visible=False, range=[-0.9, 1.9]),
    ))


STAGGER_FROM = 6  # words a side from which every other label sits a line farther out


def _staggered(labels: list[str], above: bool) -> list[str]:
    """Every other label a line farther from its row when a side has many words: side by side, the
    labels of a 9-word sentence ran together on a phone ("Thewitnessdid")."""
    if len(labels) < STAGGER_FROM:
        return labels
    return [label if k % 2 == 0 else (f"{label}<br> " if above else f" <br>{label}") for k, label in enumerate(labels)]


def _pair_label(result: PairAlignment, i, j) -> str:
    left = NO_WORD if i is None else result.source_words[i]
    right = NO_WORD if j is None else result.target_words[j]
    return f"{shorten(left, 24)} ↔ {shorten(right, 24)}"


def contributions_figure(result: PairAlignment, k: int = 8) -> go.Figure:
    """The k word pairs adding most to the sentence cosine and the k adding least, as bars."""
    items = list(result.contributions)
    shown = items if len(items) <= 2 * k else items[:k] + items[-k:]
    labels = [escape_plotly(f"{n + 1}. " + _pair_label(result, c.i, c.j)) for n, c in enumerate(shown)]
    bar = dict(type="bar", orientation="h", x=[c.share for c in shown], y=labels,
               marker=dict(color=["#009E73" if c.share >= 0 else "#D55E00" for c in shown]),
               hovertemplate="%{y}: %{x:.4f}<extra></extra>")
    return plain_figure([bar], dict(
        # one short line just above the bars (the block's label says what they are): a long title was cut
        # at both ends, on a phone and beside the table
        title=dict(text=escape_plotly(f"{result.model_id}, layer {result.layer} · sentence cosine "
                                      f"{result.sentence_cosine:.3f}"),
                   x=0.5, font=dict(size=13), yref="paper", y=1, yanchor="bottom", pad=dict(b=12)),
        height=max(300, 70 + 22 * len(shown)), margin=dict(l=10, r=10, t=60, b=30),
        yaxis=dict(autorange="reversed", automargin=True), xaxis=dict(title=dict(text="share of the cosine")),
    ))


CONTRIBUTION_COLUMNS = ["#", "source word", "target word", "share of the cosine", "linked"]

def contributions_table(result: PairAlignment, limit: int = 200) -> pd.DataFrame:
    linked = set(result.alignments)
    rows = [[n + 1, NO_WORD if c.i is None else result.source_words[c.i],
             NO_WORD if c.j is None else result.target_words[c.j], round(c.share, 5),
             "yes" if (c.i, c.j) in linked else ""] for n, c in enumerate(result.contributions[:limit])]
    return pd.DataFrame(rows, columns=CONTRIBUTION_COLUMNS)


def alignment_markdown(results: list[PairAlignment]) -> str:
    lines = []
    for r in results:
        pairs = ", ".join(f"{escape_markdown(r.source_words[i])} ↔ {escape_markdown(r.target_words[j])}"
                          for i, j in r.alignments[:40])
        lines.append(f"- **{escape_markdown(r.model_id)}**, layer {r.layer} of {r.n_layers}, {r.method}: "
                     f"{len(r.alignments)} links; sentence cosine {r.sentence_cosine:.3f}. {pairs}")
    return "\n".join(lines)


# ---------------------------------------------------------------- evaluation curves


def _panels(result: AlignmentEvaluation) -> list[tuple[str, tuple | None]]:
    if result.f1 is not None:
        return [("Precision", result.precision), ("Recall", result.recall), ("F1", result.f1),
                ("AER (lower is better)", result.aer)]
    return [("Share of words aligned", result.aligned_share), ("Mean cosine of the links", result.mean_link_similarity)]


def eval_figure(results: list[AlignmentEvaluation]) -> go.Figure:
    """One panel per score by layer, one line per model; the best (or exported) layer starred."""
    from plotly.subplots import make_subplots

    titles = [t for t, _ in _panels(results[-1])]
    fig = make_subplots(rows=len(titles), cols=1, shared_xaxes=True, vertical_spacing=0.06, subplot_titles=titles)
    for n, result in enumerate(results):
        colour = COLOURS[n % len(COLOURS)]
        panels = dict(_panels(result))
        star = result.best_layer if result.best_layer is not None else result.export_layer
        for row, title in enumerate(titles, start=1):
            values = panels.get(title)
            if values is None:
                continue
            fig.add_trace(go.Scatter(x=list(result.layers), y=list(values), mode="lines+markers",
                                     name=f"{result.model_id} ({result.method})", line=dict(color=colour),
                                     legendgroup=result.model_id, showlegend=row == 1,
                                     hovertemplate="layer %{x}: %{y:.3f}<extra>" + result.model_id + "</extra>"),
                          row=row, col=1)
            fig.add_trace(go.Scatter(x=[star], y=[values[star]], mode="markers", showlegend=row == 1,
                                     name=f"best layer of {result.model_id}: {star}"
                                     if result.best_layer is not None else f"default layer of {result.model_id}: {star}",
                                     legendgroup=result.model_id,
                                     marker=dict(symbol="star", size=15, color=colour, line=dict(width=1, color="black")),
                                     hovertemplate=f"layer {star}<extra>{result.model_id}</extra>"), row=row, col=1)
    fig.update_xaxes(title_text="layer (0 = embeddings)", dtick=1, row=len(titles), col=1)
    fig.update_layout(height=220 * len(titles) + 80, margin=dict(l=50, r=20, t=40, b=40),
                      legend=dict(orientation="h", y=-0.08))
    return fig


def eval_markdown(results: list[AlignmentEvaluation]) -> str:
    lines = []
    for r in results:
        if r.f1 is not None:
            b = r.best_layer
            lines.append(f"- **{escape_markdown(r.model_id)}** ({r.method}, words={r.words}): best layer **{b}** of "
                         f"{r.layers[-1]} (AER {r.aer[b]:.3f}, F1 {r.f1[b]:.3f}, P {r.precision[b]:.3f}, "
                         f"R {r.recall[b]:.3f}); n = {r.n_pairs} pairs, {r.n_gold_sure} sure and "
                         f"{r.n_gold_possible} possible gold links, {r.n_links[b]} predicted.")
        else:
            e = r.export_layer
            lines.append(f"- **{escape_markdown(r.model_id)}** ({r.method}, words={r.words}): no gold; at its default "
                         f"layer {e}, {r.aligned_share[e]:.1%} of the words aligned, mean link cosine "
                         f"{r.mean_link_similarity[e]:.3f}; n = {r.n_pairs} pairs, {r.n_links[e]} links.")
    return "\n".join(lines)
