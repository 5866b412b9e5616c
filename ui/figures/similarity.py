"""Similarity tab: the cosine heatmaps, the pairs table and where two models disagree."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from backend.capabilities.similarity import ModelComparison, SimilarityResult
from ui.escaping import escape_markdown, escape_plotly, isolated_markdown
from ui.figures import plain_figure
from ui.figures.text import shorten


def similarity_heatmap(result: SimilarityResult, label: str) -> go.Figure:
    """Cosine heatmap; the diagonal is blank and each row's nearest neighbour is ringed."""
    n = len(result.sentences)
    ticks = [f"{i + 1}·{escape_plotly(lang)}" for i, lang in enumerate(result.languages)]
    z = result.matrix.astype(np.float64).copy()
    np.fill_diagonal(z, np.nan)
    safe = [escape_plotly(shorten(s)) for s in result.sentences]
    hover = [[f"<b>{ticks[i]}</b> {safe[i]}<br><b>{ticks[j]}</b> {safe[j]}<br>cosine {z[i, j]:.4f}"
              if i != j else "" for j in range(n)] for i in range(n)]
    off = z[~np.isnan(z)]
    nearest = np.nanargmax(z, axis=1)
    heatmap = dict(
        type="heatmap", z=z, x=ticks, y=ticks, hovertext=hover, hoverinfo="text", colorscale="Viridis",
        zmin=float(off.min()), zmax=float(off.max()), colorbar=dict(title=dict(text="cosine"), thickness=12),
    )
    rings = dict(  # each row's nearest neighbour
        type="scatter", x=[ticks[j] for j in nearest], y=ticks, mode="markers", hoverinfo="skip", showlegend=False,
        marker=dict(symbol="circle-open", size=10, color="white", line=dict(width=2)),
    )
    fig = plain_figure([heatmap, rings], dict(
        title=dict(text=escape_plotly(label), x=0.5, font=dict(size=14)),
        margin=dict(l=10, r=10, t=40, b=10), height=460,
        yaxis=dict(autorange="reversed", scaleanchor="x", constrain="domain"),
        xaxis=dict(tickangle=-60, constrain="domain"),
    ))
    return fig


PAIR_COLUMNS = ["#", "sentence A", "lang A", "sentence B", "lang B", "cosine",
                "rank of B for A", "rank of A for B", "margin", "mutual NN"]
# the two sentences get the room; codes and numbers stay on one line
PAIR_COLUMN_WIDTHS = ["4%", "25%", "6%", "25%", "6%", "7%", "7%", "7%", "6%", "7%"]
assert len(PAIR_COLUMN_WIDTHS) == len(PAIR_COLUMNS)


def similarity_pairs_table(result: SimilarityResult, limit: int = 200) -> pd.DataFrame:
    """Pairs, best margin first. Shown as plain text (no Markdown/HTML rendering)."""
    rows = [
        [k + 1, shorten(result.sentences[p.i]), result.languages[p.i], shorten(result.sentences[p.j]),
         result.languages[p.j], round(p.cosine, 4), p.rank_i_to_j, p.rank_j_to_i, round(p.margin, 4),
         "yes" if p.mutual_nearest else ""]
        for k, p in enumerate(result.pairs[:limit])
    ]
    return pd.DataFrame(rows, columns=PAIR_COLUMNS)


def comparison_markdown(cmp: ModelComparison, sentences: tuple[str, ...], languages: tuple[str, ...]) -> str:
    """One short paragraph on where two models disagree."""
    def pair(p) -> str:
        return (f"{p.i + 1}·{escape_markdown(languages[p.i])} “{isolated_markdown(shorten(sentences[p.i], 50))}” ↔ "
                f"{p.j + 1}·{escape_markdown(languages[p.j])} “{isolated_markdown(shorten(sentences[p.j], 50))}”")

    lines = [
        f"**Cross-language matches** (pairs in different languages that are each other's nearest "
        f"neighbour): **{escape_markdown(cmp.model_a)}** finds {cmp.mutual_a}, "
        f"**{escape_markdown(cmp.model_b)}** finds {cmp.mutual_b}, of at most {cmp.possible_cross_matches} "
        f"that these {len(sentences)} sentences can form (each sentence is in at most one such pair)."
    ]
    for name, only in ((cmp.model_a, cmp.only_a), (cmp.model_b, cmp.only_b)):
        if only:
            shown = "; ".join(pair(p) for p in only[:4])
            more = f" (and {len(only) - 4} more)" if len(only) > 4 else ""
            lines.append(f"- Only **{escape_markdown(name)}**: {shown}{more}")
    if not cmp.only_a and not cmp.only_b:
        lines.append("- The two models agree on every cross-language match.")
    return "\n".join(lines)
