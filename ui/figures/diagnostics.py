"""Diagnostics tab: the bitext P@1 heatmap, per-language table, confusions and warnings."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ui.escaping import escape_markdown, escape_plotly
from ui.figures.text import shorten


def bitext_heatmap(result) -> go.Figure:
    langs = [escape_plotly(x) for x in result.languages]
    text = [[("" if i == j else f"{result.p_at_1[i, j]:.2f}") for j in range(len(langs))] for i in range(len(langs))]
    hover = [[("" if i == j else
               f"{langs[i]} → {langs[j]}<br>P@1 {result.p_at_1[i, j]:.3f} (n={result.n[i, j]})<br>"
               f"95% CI {result.ci_low[i, j]:.3f}–{result.ci_high[i, j]:.3f}")
              for j in range(len(langs))] for i in range(len(langs))]
    fig = go.Figure(go.Heatmap(
        z=result.p_at_1, x=langs, y=langs, zmin=0, zmax=1, colorscale="Viridis", text=text,
        texttemplate="%{text}" if len(langs) <= 16 else None, hovertext=hover, hoverinfo="text",
        colorbar=dict(title="P@1", thickness=12),
    ))
    fig.update_layout(
        title=dict(text=f"Bitext P@1 · {escape_plotly(result.model_id)} · {escape_plotly(result.scoring)} "
                        f"(mean {np.nanmean(result.p_at_1):.3f})", x=0.5, font=dict(size=14)),
        xaxis=dict(title="target language", side="bottom"), yaxis=dict(title="source language", autorange="reversed"),
        margin=dict(l=10, r=10, t=40, b=10), height=520,
    )
    return fig


LANGUAGE_COLUMNS = ["lang", "mean P@1", "hub skewness (N10)", "tokens / word", "tokens vs English", "top hub"]


def bitext_language_table(result) -> pd.DataFrame:
    rows = [[d.lang, d.mean_p_at_1, d.hub_skewness, d.tokens_per_word, d.token_ratio_to_english,
             f"{shorten(d.top_hubs[0][0], 60)} (×{d.top_hubs[0][1]})" if d.top_hubs else ""]
            for d in result.per_language]
    return pd.DataFrame(rows, columns=LANGUAGE_COLUMNS)


CONFUSION_COLUMNS = ["source → target", "sentence", "retrieved instead", "true translation", "score gap"]


def bitext_confusions_table(result) -> pd.DataFrame:
    rows = [[f"{c.source_lang} → {c.target_lang}", shorten(c.source), shorten(c.matched), shorten(c.expected),
             round(c.score_gap, 4)] for c in result.confusions]
    return pd.DataFrame(rows, columns=CONFUSION_COLUMNS)


def bitext_warnings_markdown(result) -> str:
    if not result.warnings:
        return "No tokenizer-fertility warnings: no language is both finely split and poorly aligned."
    return "**Tokenizer fertility warnings**\n" + "\n".join(f"- {escape_markdown(w)}" for w in result.warnings)
