"""Language map handlers: draw the map, its overlays, hover, selection, placement and exports."""
from __future__ import annotations

import csv
import hashlib
import io
import re
import secrets
import tempfile
import time
from pathlib import Path

import gradio as gr

from backend.analysis.map_payload import density_contours, select_points, similarity_lines
from backend.capabilities.language_map import place_on_map, point_info, project_map
from backend.core.atomic_files import atomic_write
from backend.core.errors import InvalidInput
from ui.errors import progress_callback, user_facing
from ui.figures import map as fig
from ui.zerogpu import gpu

EXPORT_DIR = Path(tempfile.gettempdir()) / "babelscope-map-exports"
EXPORT_MAX_AGE_S = 3600  # Gradio copies a returned file into its own cache at once: ours can go soon after


def _marked(text: str | None) -> tuple[str, ...]:
    return tuple(x.strip() for x in re.split(r"[,\n]", text or "") if x.strip())


def _csv_file(result) -> str:
    """A new file per export, written atomically: two users (or two maps) never share one. Its name
    says what it holds (corpus, model, method, languages, max_points, centering); exports older than
    EXPORT_MAX_AGE_S are removed, so they don't pile up."""
    languages = ",".join(result.languages) or "all"
    if len(languages) > 40:
        languages = f"{len(result.languages)}langs-{hashlib.sha256(languages.encode()).hexdigest()[:8]}"
    stem = (f"map-{result.corpus_id}-{result.model_id}-{result.method}-{languages}-{result.max_points}"
            f"{'-centred' if result.centered else ''}")
    path = EXPORT_DIR / f"{re.sub(r'[^A-Za-z0-9_.,-]+', '_', stem)[:150]}-{secrets.token_hex(6)}.csv"
    atomic_write(path, fig.map_points_table(result).to_csv(index=False).encode("utf-8"))
    cutoff = time.time() - EXPORT_MAX_AGE_S
    for old in EXPORT_DIR.glob("*.csv"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            pass  # another export removed it first
    return str(path)


def _drawn_or_computed(registry, result, corpus, model, method, languages, center, max_points):
    """The session's map when it is the one these settings describe, else that map (from the layout
    cache when it was drawn before): API calls need not draw first."""
    from backend.core.languages import parse_language_list

    asked_points = registry.settings.limits.max_map_points if max_points in (None, "") else max_points
    if result is not None and (result.corpus_id, result.model_id, result.method, result.centered, result.languages,
                               str(result.max_points)) == (corpus, model or result.model_id, method, bool(center),
                                                           tuple(sorted(parse_language_list(languages))),
                                                           str(asked_points)):
        return result
    return project_map(registry, corpus, model, method, languages or [], bool(center), max_points)


def _selection_outputs(selection):
    return selection, fig.selection_markdown(selection), fig.selection_table(selection), selection.to_dict()


def make_map_handlers(registry):
    @gpu(duration=120)
    @user_facing
    def on_map_run(corpus, model, method, languages, center, max_points, neutralise="none", rank=1,
                   progress=gr.Progress()):
        result = project_map(registry, corpus, model, method, languages or [], bool(center), max_points,
                             progress_callback(progress), neutralise, rank)
        token = registry.maps.remember(result)
        view = gr.HTML(value=fig.map_view_value(result, token), overlay={"token": token})
        return (result, token, None, view, fig.map_scores_markdown(result), fig.map_clusters_table(result),
                _csv_file(result), {**result.to_dict(), "neutralise": result.neutralise, "rank": result.rank})

    @user_facing
    def on_map_overlay(result, token, lines, marked, density, placement):
        """Overlays of the drawn map: only the overlay prop travels, never the points again."""
        if result is None or token is None:
            return gr.update()
        contours = density_contours(result) if density else None
        return gr.HTML(overlay=fig.map_overlay(result, token, bool(lines), _marked(marked), contours, placement))

    @user_facing
    def map_point(args) -> dict:
        """Hover: the renderer asks for one point's text when the cursor rests on it. A server
        function gets the JS call's arguments as one list: [token, point index]."""
        if not isinstance(args, (list, tuple)) or len(args) != 2:
            raise InvalidInput("map_point takes [token, point index].")
        return point_info(registry.maps.recall(str(args[0])), args[1])

    @user_facing
    def on_map_select(result, ids, box, corpus, model, method, languages, center, max_points):
        result = _drawn_or_computed(registry, result, corpus, model, method, languages, center, max_points)
        return _selection_outputs(select_points(result, ids=ids, box=box))

    @user_facing
    def on_map_box(result, evt: gr.EventData):
        """A box dragged on the map (map coordinates, from the renderer)."""
        if result is None:
            raise InvalidInput("Draw the map first.")
        box = ", ".join(f"{v:.5g}" for v in evt._data["box"])
        return (box, *_selection_outputs(select_points(result, box=box)))

    @user_facing
    def on_map_cluster(result, evt: gr.SelectData):
        """A click on a row of the cluster table selects that cluster's points."""
        if result is None or evt.row_value is None:
            return gr.update(), gr.update(), gr.update(), gr.update()
        algorithm = "kmeans" if str(evt.row_value[0]).startswith("K-means") else "hdbscan"
        return _selection_outputs(select_points(result, cluster=int(evt.row_value[1]), algorithm=algorithm))

    @user_facing
    def on_map_place(result, text, corpus, model, method, languages, center, max_points):
        result = _drawn_or_computed(registry, result, corpus, model, method, languages, center, max_points)
        placement = place_on_map(registry, result, text)
        return placement, fig.neighbours_table(placement), placement.to_dict()

    @user_facing
    def on_map_to_similarity(selection):
        if selection is None:
            raise InvalidInput("Select some points first (drag a box on the map, or select meanings).")
        return similarity_lines(selection, registry.settings.limits.max_sentences)

    @user_facing
    def on_map_to_search(result, selection):
        """The selection becomes a corpus of its own, chosen in the Search tab: search within it."""
        if result is None or selection is None or selection.n_selected == 0:
            raise InvalidInput("Select some points first (drag a box on the map, or select meanings).")
        chosen = select_points(result, points=[p.point for p in selection.points])
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter="\t", lineterminator="\n")
        writer.writerow(["id", "lang", "text"])
        writer.writerows((p.id, p.lang, " ".join(p.text.split())) for p in chosen.points)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "map-selection.tsv"
            path.write_text(buffer.getvalue(), encoding="utf-8")
            corpus = registry.corpora.load_upload(path, name=f"Map selection: {chosen.n_selected:,} rows of "
                                                             f"{result.corpus_name}")
        from ui.handlers.corpus import corpus_choices

        return gr.update(choices=corpus_choices(registry), value=corpus.corpus_id)

    @user_facing
    def map_density(corpus: str = "bundled", model: str = "", method: str = "umap", languages: str = "",
                    center: bool = False, max_points: int = 0, density_languages: str = "") -> dict:
        """Per-language density contours (KDE, the densest half of each language's points) of a map,
        in map coordinates. ``max_points`` 0 = the cap; ``density_languages``: comma list, '' = all."""
        result = project_map(registry, corpus, model or None, method, languages, bool(center), max_points or None)
        return density_contours(result, density_languages).to_dict()

    @user_facing
    def on_map_corpus_change(corpus_id):
        return gr.update(choices=list(registry.corpora.get(corpus_id).language_counts), value=[])

    return {"run": on_map_run, "overlay": on_map_overlay, "point": map_point, "select": on_map_select,
            "box": on_map_box, "cluster": on_map_cluster, "place": on_map_place, "to_similarity": on_map_to_similarity,
            "to_search": on_map_to_search, "density": map_density, "corpus_change": on_map_corpus_change}
