"""Language map handlers: draw the map, its overlays, hover, selection, placement and exports."""
from __future__ import annotations

import re

import gradio as gr

from backend.analysis.map_payload import density_contours, select_points, similarity_lines
from backend.capabilities.language_map import (
    current_map,
    export_map,
    place_on_map,
    point_info,
    project_map,
    selection_corpus,
)
from backend.core.errors import InvalidInput
from ui.errors import progress_callback, user_facing
from ui.figures import map as fig
from ui.zerogpu import gpu


def _marked(text: str | None) -> tuple[str, ...]:
    return tuple(x.strip() for x in re.split(r"[,\n]", text or "") if x.strip())


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
                export_map(result), result.to_dict())

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
        return point_info(registry.maps.recall(str(args[0])), args[1]).to_dict()

    @user_facing
    def on_map_select(result, ids, box, corpus, model, method, languages, center, max_points):
        result = current_map(registry, result, corpus, model, method, languages, center, max_points)
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
        result = current_map(registry, result, corpus, model, method, languages, center, max_points)
        placement = place_on_map(registry, result, text)
        return placement, fig.neighbours_table(placement, result), placement.to_dict()

    @user_facing
    def on_map_to_similarity(selection):
        if selection is None:
            raise InvalidInput("Select some points first (drag a box on the map, or select meanings).")
        return similarity_lines(selection, registry.settings.limits.max_sentences)

    @user_facing
    def on_map_to_search(result, selection):
        """The selection becomes a corpus of its own, chosen in the Search tab: search within it."""
        from ui.handlers.corpus import corpus_choices

        corpus = selection_corpus(registry, result, selection)
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
