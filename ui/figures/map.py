"""Language map tab: the WebGL map, its scores, the cluster table and the CSV export."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ui.escaping import escape_markdown
from ui.figures.text import language_code, language_label, shorten

MAP_LINE_MEANINGS = 150  # translation lines are drawn for a sample of meanings: more is a hairball


def map_view_value(result, token: str) -> dict:
    """What the map's WebGL renderer (ui/static/map_renderer.js) receives: the binary points
    (backend.analysis.map_payload.encode_points, base64), each language code's colour and name, a title and
    the token its hover asks back with. Strings reach the page through textContent, never as HTML.
    ``uncertain``: a bit per point (numpy packbits, base64), set where language ID was not sure of
    the point's language; the renderer draws those faded. Absent when no label is uncertain."""
    import base64

    from backend.analysis.map_payload import encode_points

    payload = encode_points(result.coords, result.langs, result.kmeans_labels).to_dict()
    if any(result.uncertain):
        bits = np.packbits(np.asarray(result.uncertain, dtype=bool))
        payload["uncertain"] = base64.b64encode(bits.tobytes()).decode("ascii")
    centred = "mean-centred per language" if result.centered else "not centred"
    sampled = f" · sampled from {result.n_available:,}" if result.sampled else ""
    return {**payload, "names": [language_label(code) for code in payload["languages"]], "token": token,
            "title": f"{result.method.upper()} of {result.corpus_name} · {result.model_id} · {centred} · "
                     f"{result.n_points:,} points{sampled}"}


def translation_paths(result) -> list[list[int]]:
    """Point indices of a path through each sampled meaning's translations (by language code), for
    MAP_LINE_MEANINGS meanings shared by at least two points."""
    ids, langs = np.asarray(result.ids), np.asarray(result.langs)
    meanings, counts = np.unique(ids[ids != ""], return_counts=True)
    shared = meanings[counts >= 2]
    if shared.size > MAP_LINE_MEANINGS:
        shared = np.sort(np.random.default_rng(0).choice(shared, MAP_LINE_MEANINGS, replace=False))
    paths = []
    for meaning in shared:
        rows = np.flatnonzero(ids == meaning)
        paths.append(rows[np.argsort(langs[rows], kind="stable")].tolist())
    return paths


def map_overlay(result, token: str | None, lines: bool = False, marked: tuple[str, ...] = (),
                density=None, placement=None) -> dict:
    """The renderer's overlays for the map ``token``: translation lines, rings on ``marked`` meanings,
    density contours (backend DensityContours), and a placed sentence with its neighbours."""
    overlay: dict = {"token": token}
    if lines:
        overlay["lines"] = translation_paths(result)
    wanted = [m for m in marked if m]
    if wanted:
        overlay["marked"] = np.flatnonzero(np.isin(np.asarray(result.ids), wanted)).tolist()
    if density is not None:
        overlay["density"] = density.to_dict()["contours"]
    if placement is not None:
        overlay["query"] = {"x": placement.x, "y": placement.y, "neighbours": [n.point for n in placement.neighbours]}
    return overlay


SELECTION_COLUMNS = ["point", "language", "meaning id", "text"]


def selection_table(selection) -> pd.DataFrame:
    """The selected sentences (the first SELECT_ROWS), plain text; an uncertain language as "xx?"."""
    return pd.DataFrame([[p.point, language_code(p.lang, p.language_uncertain), p.id, p.text]
                         for p in selection.points], columns=SELECTION_COLUMNS)


def selection_markdown(selection) -> str:
    """How many points, by which criterion, and the language mix."""
    if selection.n_selected == 0:
        return "**No points selected.** Drag a larger box, or check the meaning ids."
    doubtful = dict(selection.languages_uncertain)

    def share(lang: str, n: int) -> str:
        unsure = f", {doubtful[lang]:,} uncertain" if doubtful.get(lang) else ""
        return f"{escape_markdown(language_label(lang))} {n:,} ({n / selection.n_selected:.0%}{unsure})"

    mix = " · ".join(share(lang, n) for lang, n in selection.language_mix[:12])
    more = f" · and {len(selection.language_mix) - 12} more" if len(selection.language_mix) > 12 else ""
    listed = (f" The table lists the first {len(selection.points):,}." if selection.n_selected > len(selection.points)
              else "")
    unsure = (f"\n\n**{selection.n_uncertain:,} of them {'has' if selection.n_uncertain == 1 else 'have'} an "
              "uncertain language label** (`xx?` in the table: "
              "language ID was not sure; they are counted under that language above). In the uploaded file, start "
              "such a line with its code and a colon (`fr: `) to set it." if selection.n_uncertain else "")
    return (f"**{selection.n_selected:,} points selected** (by {selection.how}), "
            f"{len(selection.meaning_ids):,} meanings.{listed}\n\nLanguage mix: {mix}{more}{unsure}")


NEIGHBOUR_COLUMNS = ["rank", "language", "meaning id", "text", "cosine distance"]


def neighbours_table(placement, result=None) -> pd.DataFrame:
    """The placed sentence's nearest points; with the map ``result``, an uncertain language as "xx?"."""
    def lang(n) -> str:
        return language_code(n.lang, result is not None and result.language_uncertain(n.point))

    return pd.DataFrame([[k + 1, lang(n), n.id, n.text, round(n.distance, 4)] for k, n in enumerate(placement.neighbours)],
                        columns=NEIGHBOUR_COLUMNS)


def _score(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def map_scores_markdown(result) -> str:
    """Silhouettes before/after centering with their n, trustworthiness, and a sampling note."""
    s = result.scores
    shown = "after" if result.centered else "before"
    n_meaning = s.n_scored if s.n_meaning is None else s.n_meaning
    lines = [
        "| silhouette (cosine) | n | before centering | after centering |",
        "|---|---|---|---|",
        f"| by **language** (high = the model sorts by language) | {s.n_scored:,} | "
        f"{_score(s.silhouette_language_raw)} | {_score(s.silhouette_language_centered)} |",
        f"| by **meaning** (high = translations group together; rows with a meaning id) | {n_meaning:,} | "
        f"{_score(s.silhouette_meaning_raw)} | {_score(s.silhouette_meaning_centered)} |",
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
    """K-means then HDBSCAN clusters, largest first; plain text (no HTML rendering). A language's
    uncertain labels are marked in the mix ("fr 12, 3 uncertain")."""
    uncertain = np.asarray(result.uncertain, dtype=bool) if any(result.uncertain) else None
    langs = np.asarray(result.langs)
    members = {"kmeans": (np.arange(result.n_points), np.asarray(result.kmeans_labels)),
               "hdbscan": (np.asarray(result.hdbscan_points if result.hdbscan_points is not None else [], dtype=np.int64),
                           np.asarray(result.hdbscan_labels if result.hdbscan_labels is not None else [], dtype=np.int64))}

    def doubt(algorithm: str, cluster: int, lang: str) -> str:
        if uncertain is None:
            return ""
        points, labels = members[algorithm]
        inside = points[labels == cluster]
        k = int(np.sum(uncertain[inside] & (langs[inside] == lang)))
        return f", {k} uncertain" if k else ""

    rows = []
    for algorithm in ("kmeans", "hdbscan"):
        for c in [c for c in result.clusters if c.algorithm == algorithm][:limit // 2]:
            mix = (" · ".join(f"{lang} {n}{doubt(algorithm, c.cluster, lang)}" for lang, n in c.languages[:6])
                   + (" …" if len(c.languages) > 6 else ""))
            rows.append([("K-means" if algorithm == "kmeans" else f"HDBSCAN (n={result.hdbscan_n:,})"), c.cluster,
                         c.size, shorten(c.label, 70), c.label_lang, mix, c.top_share,
                         "⚠ one language" if c.one_language else ""])
    return pd.DataFrame(rows, columns=MAP_CLUSTER_COLUMNS)
