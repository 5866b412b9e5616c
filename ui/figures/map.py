"""Language map tab: the WebGL map, its scores, the cluster table and the CSV export."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ui.escaping import escape_plotly
from ui.figures.text import language_label, shorten

MAP_LINE_MEANINGS = 150  # translation lines are drawn for a sample of meanings: more is a hairball
MAP_HOVER_CHARS = 60


def _map_palette() -> list[str]:
    from plotly.colors import qualitative as q

    return [*q.Plotly, *q.D3, *q.Dark24, *q.Light24, *q.Alphabet]


def _coords_f32(values: np.ndarray) -> np.ndarray:
    """float32, 3 decimals: Plotly sends float32 arrays as base64 (4 bytes a value), not JSON text."""
    return np.round(np.asarray(values, dtype=np.float32), 3).astype(np.float32)


def map_figure(result, lines: bool = False, marked: tuple[str, ...] = ()) -> go.Figure:
    """A Scattergl per language (largest first); optional grey lines between translations of a sample
    of meanings, and open rings around the points of ``marked`` meaning ids. Hover: text, meaning id,
    language (in the trace name: not repeated per point)."""
    coords = _coords_f32(result.coords)
    langs, ids = np.asarray(result.langs), np.asarray(result.ids)
    texts = result.texts
    fig = go.Figure()
    if lines:
        x, y, n_lines = _translation_lines(coords, ids, langs)
        fig.add_trace(go.Scattergl(x=x, y=y, mode="lines", hoverinfo="skip", opacity=0.45,
                                   line=dict(color="#7f7f7f", width=1),
                                   name=f"translation lines ({n_lines} meanings)"))
    palette = _map_palette()
    codes, counts = np.unique(langs, return_counts=True)
    for n, code in enumerate(codes[np.argsort(-counts, kind="stable")]):
        rows = np.flatnonzero(langs == code)
        hover = [f"{escape_plotly(shorten(texts[i], MAP_HOVER_CHARS))}<br>{escape_plotly(ids[i])}" for i in rows]
        fig.add_trace(go.Scattergl(
            x=coords[rows, 0], y=coords[rows, 1], mode="markers", name=escape_plotly(language_label(str(code))),
            text=hover, hovertemplate="%{text}<extra>" + escape_plotly(str(code), template=True) + "</extra>",
            marker=dict(size=4 if len(coords) > 20_000 else 6, color=palette[n % len(palette)], opacity=0.8),
        ))
    marked_set = {m for m in marked if m}
    if marked_set:
        rows = np.flatnonzero(np.isin(ids, list(marked_set)))
        fig.add_trace(go.Scattergl(
            x=coords[rows, 0], y=coords[rows, 1], mode="markers", name=f"marked meanings ({len(rows)} points)",
            text=[f"{escape_plotly(shorten(texts[i], MAP_HOVER_CHARS))}<br>{escape_plotly(ids[i])} · "
                  f"{escape_plotly(langs[i])}" for i in rows],
            hovertemplate="%{text}<extra>marked</extra>",
            marker=dict(symbol="circle-open", size=14, color="black", line=dict(width=2)),
        ))
    centred = "mean-centred per language" if result.centered else "not centred"
    sampled = f" · sampled from {result.n_available:,}" if result.sampled else ""
    fig.update_layout(
        title=dict(text=f"{result.method.upper()} of {escape_plotly(result.corpus_name)} · "
                        f"{escape_plotly(result.model_id)} · {centred} · {result.n_points:,} points{sampled}",
                   x=0.5, font=dict(size=14)),
        legend=dict(title=dict(text="Language"), itemsizing="constant"),
        xaxis=dict(showticklabels=False, zeroline=False, title=None),
        yaxis=dict(showticklabels=False, zeroline=False, title=None),
        margin=dict(l=10, r=10, t=40, b=10), height=680, hovermode="closest", uirevision="map",
    )
    return fig


def _translation_lines(coords: np.ndarray, ids: np.ndarray, langs: np.ndarray):
    """x, y (float32 with NaN gaps) of a path through each sampled meaning's points, by language."""
    meanings, counts = np.unique(ids[ids != ""], return_counts=True)
    shared = meanings[counts >= 2]
    if shared.size > MAP_LINE_MEANINGS:
        shared = np.sort(np.random.default_rng(0).choice(shared, MAP_LINE_MEANINGS, replace=False))
    xs, ys = [], []
    for meaning in shared:
        rows = np.flatnonzero(ids == meaning)
        rows = rows[np.argsort(langs[rows], kind="stable")]
        xs += [*coords[rows, 0], np.nan]
        ys += [*coords[rows, 1], np.nan]
    return np.asarray(xs, dtype=np.float32), np.asarray(ys, dtype=np.float32), int(shared.size)


def _score(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def map_scores_markdown(result) -> str:
    """Silhouettes before/after centering with their n, trustworthiness, and a sampling note."""
    s = result.scores
    shown = "after" if result.centered else "before"
    lines = [
        f"| silhouette (cosine, n = {s.n_scored:,}) | before centering | after centering |",
        "|---|---|---|",
        f"| by **language** (high = the model sorts by language) | {_score(s.silhouette_language_raw)} | "
        f"{_score(s.silhouette_language_centered)} |",
        f"| by **meaning** (high = translations group together) | {_score(s.silhouette_meaning_raw)} | "
        f"{_score(s.silhouette_meaning_centered)} |",
        "",
        f"The map shows the embeddings **{shown}** centering. Trustworthiness of the 2-D layout "
        f"(k = {s.trust_k}, n = {s.n_trust:,}): **{s.trustworthiness:.3f}** (1 = every 2-D neighbour is a "
        f"true neighbour).",
    ]
    if result.sampled:
        lines.append(f"\n**Sampled**: {result.n_points:,} of {result.n_available:,} rows, stratified by language "
                     f"(max_points {result.max_points:,}).")
    where = "loaded from the layout cache" if result.from_cache else f"computed in {result.seconds:.1f} s"
    lines.append(f"\nLayout {where}.")
    return "\n".join(lines)


MAP_CLUSTER_COLUMNS = ["algorithm", "cluster", "size", "most central sentence", "its language", "language mix",
                       "top language share", "one language?"]


def map_clusters_table(result, limit: int = 60) -> pd.DataFrame:
    """K-means then HDBSCAN clusters, largest first; plain text (no HTML rendering)."""
    rows = []
    for algorithm in ("kmeans", "hdbscan"):
        for c in [c for c in result.clusters if c.algorithm == algorithm][:limit // 2]:
            mix = " · ".join(f"{lang} {n}" for lang, n in c.languages[:6]) + (" …" if len(c.languages) > 6 else "")
            rows.append([("K-means" if algorithm == "kmeans" else f"HDBSCAN (n={result.hdbscan_n:,})"), c.cluster,
                         c.size, shorten(c.label, 70), c.label_lang, mix, c.top_share,
                         "⚠ one language" if c.one_language else ""])
    return pd.DataFrame(rows, columns=MAP_CLUSTER_COLUMNS)


def map_points_table(result) -> pd.DataFrame:
    """The CSV export: one row per point."""
    coords = np.asarray(result.coords, dtype=np.float64)
    return pd.DataFrame({"x": np.round(coords[:, 0], 5), "y": np.round(coords[:, 1], 5), "lang": result.langs,
                         "meaning_id": result.ids, "text": result.texts, "kmeans_cluster": result.kmeans_labels,
                         "corpus_row": result.rows})
