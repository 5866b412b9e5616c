"""Sentiment tab: probability bars, the table, consistency across translations, the evaluation."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from backend.models.sentiment import LABELS
from ui.escaping import code_span, escape_markdown, escape_plotly
from ui.figures.text import language_code, shorten

_SENTIMENT_COLOURS = {"negative": "#d62728", "neutral": "#9e9e9e", "positive": "#2ca02c"}


def sentiment_bar_chart(result) -> go.Figure:
    """Stacked horizontal bars: each sentence's probability of each label."""
    ticks = [f"{i + 1}·{escape_plotly(language_code(p.lang, p.lang_uncertain))}" for i, p in enumerate(result.predictions)]
    safe = [escape_plotly(shorten(p.text, 70)) for p in result.predictions]
    fig = go.Figure()
    for k, label in enumerate(LABELS):
        values = [p.probabilities[k] for p in result.predictions]
        fig.add_trace(go.Bar(
            y=ticks, x=values, name=label, orientation="h", marker_color=_SENTIMENT_COLOURS[label],
            hovertext=[f"{t} {s}<br>{label}: {v:.3f}" for t, s, v in zip(ticks, safe, values)], hoverinfo="text",
        ))
    fig.update_layout(
        barmode="stack", title=dict(text=escape_plotly(result.model_id), x=0.5, font=dict(size=14)),
        xaxis=dict(range=[0, 1], title="probability"), yaxis=dict(autorange="reversed"),
        height=max(260, 26 * len(ticks) + 110), margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h"),
    )
    return fig


SENTIMENT_COLUMNS = ["#", "sentence", "lang", "label", "P(negative)", "P(neutral)", "P(positive)", "VADER label",
                     "meaning"]


def sentiment_table(result) -> pd.DataFrame:
    rows = [[i + 1, shorten(p.text), language_code(p.lang, p.lang_uncertain), p.label, *(round(v, 3) for v in p.probabilities),
             p.baseline_label or "", p.meaning_id or ""] for i, p in enumerate(result.predictions)]
    return pd.DataFrame(rows, columns=SENTIMENT_COLUMNS)


def sentiment_consistency_markdown(result) -> str:
    """Per meaning: the label each translation got; meanings where languages disagree are flagged."""
    if not result.meanings:
        return ("*Consistency across translations*: start lines with `id|lang|text` (e.g. `m1|de|Das war toll.`) "
                "to group translations of one meaning.")
    lines = [f"**Consistency across translations**: {sum(m.agree for m in result.meanings)} of "
             f"{len(result.meanings)} meanings get one label in every language "
             f"(score {result.consistency:.2f})."]
    for m in result.meanings:
        labels = ", ".join(f"{lang}: {label}" for lang, label in zip(m.langs, m.labels))
        flag = "" if m.agree else "⚠️ **languages disagree**: "
        lines.append(f"- {flag}{code_span(m.meaning_id[:40])}: {escape_markdown(labels)}")
    return "\n".join(lines)


def sentiment_eval_figure(evaluations) -> go.Figure:
    """Accuracy per language for each model, with 95% Wilson intervals."""
    fig = go.Figure()
    for ev in evaluations:
        if ev.error:
            continue
        langs = [escape_plotly(a.lang) for a in ev.per_language]
        acc = [a.accuracy for a in ev.per_language]
        fig.add_trace(go.Bar(
            x=langs, y=acc, name=escape_plotly(ev.model_id),
            error_y=dict(type="data", symmetric=False, array=[a.high - a.accuracy for a in ev.per_language],
                         arrayminus=[a.accuracy - a.low for a in ev.per_language]),
            hovertext=[f"{escape_plotly(ev.model_id)} {lang}: {a.correct}/{a.n} = {a.accuracy:.2f} "
                       f"(95% CI {a.low:.2f}–{a.high:.2f})" for lang, a in zip(langs, ev.per_language)],
            hoverinfo="text",
        ))
    fig.add_hline(y=1 / 3, line_dash="dot", annotation_text="chance (3 balanced labels)")
    fig.update_layout(barmode="group", yaxis=dict(range=[0, 1], title="accuracy"), height=360,
                      title=dict(text="Accuracy per language on the labelled set", x=0.5, font=dict(size=14)),
                      margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h"))
    return fig


EVAL_COLUMNS = ["model", "lang", "n", "accuracy", "95% interval", "note"]


def sentiment_eval_table(evaluations) -> pd.DataFrame:
    rows = []
    for ev in evaluations:
        if ev.error:
            rows.append([ev.model_id, "—", 0, None, "", ev.error])
            continue
        rows += [[ev.model_id, a.lang, a.n, round(a.accuracy, 3), f"{a.low:.2f}–{a.high:.2f}", ""]
                 for a in ev.per_language]
    return pd.DataFrame(rows, columns=EVAL_COLUMNS)
