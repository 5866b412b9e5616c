"""Languages tab: the model-distance heatmap in clustering order, the model and genetic dendrograms
side by side, the Mantel table, the MDS layout and a summary. Language codes can come from an
upload, so every label goes through ui/escaping."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from backend.capabilities.languages import LanguageDistances
from backend.core.palette import palette
from ui.escaping import escape_markdown, escape_plotly

NO_FAMILY = "no family in URIEL"
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "cross", "x", "star", "triangle-down", "hexagon",
           "pentagon", "hourglass", "bowtie", "triangle-left", "triangle-right", "star-square", "diamond-wide")
TYPOLOGY_HELP = {"genetic": "shared family lineage", "syntactic": "word order and syntax (WALS, SSWL)",
                 "phonological": "sound-system features", "inventory": "phoneme inventory (PHOIBLE)",
                 "geographic": "where the language is spoken", "featural": "all typological features"}


def _labels(result: LanguageDistances) -> list[str]:
    return [escape_plotly(x) for x in result.languages]


def family_colours(result: LanguageDistances) -> dict[str, str]:
    """One colour per family, biggest family first (so the first colours go to the common ones)."""
    names = [f or NO_FAMILY for f in result.families]
    ordered = sorted(set(names), key=lambda f: (-names.count(f), f))
    colours = palette()
    return {f: ("#9e9e9e" if f == NO_FAMILY else colours[i % len(colours)]) for i, f in enumerate(ordered)}


def distance_heatmap(result: LanguageDistances) -> go.Figure:
    """The model's distances, rows and columns in the order of its average-linkage clustering."""
    order = list(result.order)
    labels = _labels(result)
    z = result.model_distance[np.ix_(order, order)]
    names = [labels[i] for i in order]
    hover = [[f"{names[a]} – {names[b]}: {z[a, b]:.4f}" if np.isfinite(z[a, b]) else f"{names[a]} – {names[b]}: undefined"
              for b in range(len(order))] for a in range(len(order))]
    small = len(order) <= 16
    fig = go.Figure(go.Heatmap(z=z, x=names, y=names, colorscale="Viridis_r", hovertext=hover, hoverinfo="text",
                               text=np.round(z, 2) if small else None, texttemplate="%{text}" if small else None,
                               colorbar={"title": "distance", "thickness": 12}))
    what = "1 − cos of centroids" if result.distance == "centroid" else "1 − symmetric P@1"
    fig.update_layout(title={"text": f"{escape_plotly(result.model_id)}: {what}, in clustering order",
                             "x": 0.5, "font": {"size": 14}},
                      yaxis={"autorange": "reversed"}, height=max(420, min(900, 14 * len(order) + 160)),
                      margin={"l": 10, "r": 10, "t": 40, "b": 10})
    fig.update_xaxes(tickfont={"size": 9 if small else 7})
    fig.update_yaxes(tickfont={"size": 9 if small else 7})
    return fig


def _dendrogram(fig, tree, result, colours, col: int) -> None:
    from scipy.cluster.hierarchy import dendrogram

    indices, link = tree
    labels = _labels(result)
    if len(indices) < 2:
        fig.add_annotation(text="fewer than two languages", showarrow=False, row=1, col=col)
        return
    drawn = dendrogram(np.asarray(link), no_plot=True)
    xs, ys = [], []
    for x, y in zip(drawn["icoord"], drawn["dcoord"]):
        xs += [*x, None]
        ys += [*y, None]
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line={"color": "#555", "width": 1}, hoverinfo="skip",
                             showlegend=False), row=1, col=col)
    leaves = [indices[i] for i in drawn["leaves"]]
    for family in dict.fromkeys(result.families[i] or NO_FAMILY for i in leaves):
        at = [(5 + 10 * p, i) for p, i in enumerate(leaves) if (result.families[i] or NO_FAMILY) == family]
        fig.add_trace(go.Scatter(x=[x for x, _ in at], y=[0] * len(at), mode="markers",
                                 marker={"color": colours[family], "size": 9, "line": {"width": 0.5, "color": "#222"}},
                                 name=escape_plotly(family), legendgroup=family, showlegend=col == 1,
                                 text=[f"{labels[i]} · {escape_plotly(family)}" for _, i in at],
                                 hoverinfo="text"), row=1, col=col)
    fig.update_xaxes(tickvals=[5 + 10 * p for p in range(len(leaves))], ticktext=[labels[i] for i in leaves],
                     tickangle=-90, tickfont={"size": 9 if len(leaves) <= 40 else 6}, row=1, col=col)


def dendrogram_figure(result: LanguageDistances) -> go.Figure:
    """Model clustering (left) and URIEL genetic clustering (right), leaves coloured by family."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.06, subplot_titles=(
        f"Model: {escape_plotly(result.model_id)}<br>({escape_plotly(result.distance)})",
        "Genetic: URIEL<br>family features"))  # two lines each: on a phone one line ran into the other
    colours = family_colours(result)
    _dendrogram(fig, result.model_tree, result, colours, 1)
    _dendrogram(fig, result.genetic_tree, result, colours, 2)
    fig.update_yaxes(title_text="average-linkage height (distance)", row=1, col=1)
    # the family legend under the trees, not beside them: on a phone beside them it left each tree
    # ~100 px and the two titles ran into each other
    fig.update_layout(height=620, margin={"l": 50, "r": 10, "t": 110, "b": 10}, hovermode="closest",
                      legend={"title": "family", "orientation": "h", "yanchor": "top", "y": -0.12, "x": 0})
    return fig


MANTEL_COLUMNS = ["typology", "what it measures", "Pearson r [95% CI]", "p", "Spearman r", "n languages",
                  "n pairs", "r, script controlled", "p, script controlled"]


def _r(value) -> str:
    return "–" if value is None else f"{value:+.3f}"


def _p(value) -> str:
    return "–" if value is None else ("< 0.001" if value < 0.001 else f"{value:.4f}")


def mantel_table(result: LanguageDistances) -> pd.DataFrame:
    """One row per typology, the one the model tracks best (highest Pearson r) first."""
    rows = []
    for name, m in result.mantel.items():
        partial = result.partial_mantel_script.get(name)
        if m is None:
            rows.append((name, TYPOLOGY_HELP[name], "– (fewer than 3 languages with data)", "–", "–", "–", "–",
                         "–", "–"))
            continue
        ci = f" [{m.pearson_r_ci[0]:+.2f}, {m.pearson_r_ci[1]:+.2f}]" if m.pearson_r_ci else ""
        rows.append((name, TYPOLOGY_HELP[name], _r(m.pearson_r) + ci, _p(m.p_value), _r(m.spearman_r),
                     str(m.n_languages), str(m.n_pairs), _r(partial.pearson_r if partial else None),
                     _p(partial.p_value if partial else None)))
    key = {name: (m.pearson_r if m and m.pearson_r is not None else -9) for name, m in result.mantel.items()}
    rows.sort(key=lambda r: -key[r[0]])
    return pd.DataFrame(rows, columns=MANTEL_COLUMNS)


def mds_figure(result: LanguageDistances) -> go.Figure:
    """The model distances laid out in 2-D (metric MDS): colour = family, marker shape = script."""
    indices = list(result.model_tree[0])
    labels = _labels(result)
    colours = family_colours(result)
    scripts = list(dict.fromkeys(result.scripts[i] or "?" for i in indices))
    fig = go.Figure()
    for family in dict.fromkeys(result.families[i] or NO_FAMILY for i in indices):
        at = [p for p, i in enumerate(indices) if (result.families[i] or NO_FAMILY) == family]
        fig.add_trace(go.Scatter(
            x=result.mds[at, 0], y=result.mds[at, 1], mode="markers+text", name=escape_plotly(family),
            text=[labels[indices[p]] for p in at], textposition="top center", textfont={"size": 9},
            marker={"color": colours[family], "size": 11, "line": {"width": 0.5, "color": "#222"},
                    "symbol": [SYMBOLS[scripts.index(result.scripts[indices[p]] or "?") % len(SYMBOLS)] for p in at]},
            hovertext=[f"{labels[indices[p]]} · {escape_plotly(family)} · script "
                       f"{escape_plotly(result.scripts[indices[p]] or '?')}" for p in at], hoverinfo="text"))
    shapes = ", ".join(f"{escape_plotly(s)} {SYMBOLS[k % len(SYMBOLS)]}" for k, s in enumerate(scripts[:12]))
    # three short lines (a phone cut one long one at both ends)
    fig.update_layout(title={"text": f"MDS of the model distances<br>colour = family · shape = script<br>"
                                     f"<span style='font-size:10px'>{shapes}</span>",
                             "x": 0.5, "font": {"size": 12}},
                      height=580, margin={"l": 10, "r": 10, "t": 80, "b": 10}, legend={"title": "family"},
                      xaxis={"zeroline": False, "showticklabels": False},
                      yaxis={"zeroline": False, "showticklabels": False, "scaleanchor": "x"})
    return fig


def languages_markdown(result: LanguageDistances) -> str:
    """Which typology the model follows best, with and without the script control, and what is missing."""
    lines = []
    best = result.best_typology
    if best:
        m, partial = result.mantel[best], result.partial_mantel_script.get(best)
        lines.append(f"**{escape_markdown(result.model_id)}** follows **{best}** distances most closely: "
                     f"Pearson r = {_r(m.pearson_r)} (p {_p(m.p_value)}, {m.n_languages} languages, "
                     f"{m.n_pairs} pairs); with script held fixed, r = {_r(partial.pearson_r if partial else None)} "
                     f"(p {_p(partial.p_value if partial else None)}).")
    scripts = len({s for s in result.scripts})
    lines.append(f"{len(result.languages)} languages with URIEL data in {scripts} script(s), "
                 f"{result.n_rows:,} sentences read; p-values from {_permutations(result):,} permutations "
                 "of the languages (one-sided), intervals a 95% bootstrap over languages.")
    if result.missing:
        lines.append("Without URIEL data (left out): " + escape_markdown(", ".join(result.missing)[:600]) + ".")
    lines += [f"**Note:** {escape_markdown(w)}" for w in result.warnings]
    return "\n\n".join(lines)


def _permutations(result: LanguageDistances) -> int:
    return next((m.permutations for m in result.mantel.values() if m), 0)
