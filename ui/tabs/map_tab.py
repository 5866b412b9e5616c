"""The Language map tab: a corpus laid out in 2-D by UMAP / PCA / t-SNE, drawn by our WebGL renderer,
with its scores, selection, density contours and the place of a typed sentence."""
from __future__ import annotations

import gradio as gr

from backend.analysis.projection import METHODS
from backend.core.settings import REPO_ROOT
from backend.data.corpus import bundled_corpus
from ui.figures.map import MAP_CLUSTER_COLUMNS, NEIGHBOUR_COLUMNS, SELECTION_COLUMNS
from ui.handlers.map import make_map_handlers
from ui.inputs import NumberInput
from ui.neutralisation import neutralise_inputs
from ui.tabs import UPLOAD_HINT, corpus_dropdown, model_choices

EXPLANATION = (REPO_ROOT / "docs" / "tabs" / "map.md").read_text(encoding="utf-8")
METHOD_LABELS = {"umap": "UMAP", "pca": "PCA", "tsne": "t-SNE (small sets)"}
RENDERER_JS = (REPO_ROOT / "ui" / "static" / "map_renderer.js").read_text(encoding="utf-8")
# Runs once when the component mounts (gr.HTML js_on_load): the renderer, then the glue that
# (re)draws when the points (``value``) or the overlays (``overlay``) change. The template's
# re-render may replace the holder, so the view is rebuilt whenever its holder left the page.
VIEW_JS = RENDERER_JS + """
let view = null;
function sync() {
  const payload = props.value;
  const holder = element.querySelector('.bsmap-root');
  if (!payload || !payload.data || !holder) {
    if (view) { view.destroy(); view = null; }
    return;
  }
  if (!view || view.payload.token !== payload.token || view.root !== holder || !holder.isConnected) {
    if (view) view.destroy();
    view = BabelscopeMap.create(holder, payload, {
      hover: (i) => server.map_point(payload.token, i),
      box: (box) => trigger('box_select', {box: box}),
    });
    element.bsmapView = view;
  }
  const overlay = props.overlay;
  view.setOverlay(overlay && overlay.token === payload.token ? overlay : {});
}
watch(['value', 'overlay'], sync);
sync();
"""


def render_map_tab(registry, similarity_text: gr.Textbox | None = None,
                   search_corpus: gr.Dropdown | None = None) -> None:
    h = make_map_handlers(registry)
    settings = registry.settings
    cap = settings.limits.max_map_points
    models = model_choices(settings)
    with gr.Tab("Language map", id="map"):
        with gr.Row():
            with gr.Column(scale=3):
                with gr.Row():
                    corpus = corpus_dropdown(registry, "map", UPLOAD_HINT)
                    model = gr.Dropdown(models, value=settings.default_model("embeddings"), label="Model",
                                        elem_id="map-model", allow_custom_value=True)
                with gr.Row():
                    method = gr.Radio([(METHOD_LABELS[m], m) for m in METHODS], value="umap", label="Projection",
                                      elem_id="map-method")
                    max_points = NumberInput(value=cap, precision=0, label="Max points", elem_id="map-max-points",
                                             info=f"At most {cap:,}; above it, points are sampled by language. "
                                                  f"t-SNE: at most {settings.limits.max_tsne_points:,}.")
                languages = gr.Dropdown(list(bundled_corpus().language_counts), multiselect=True, value=[],
                                        label="Only these languages (empty = all)", elem_id="map-languages",
                                        allow_custom_value=True)
                with gr.Row():
                    center = gr.Checkbox(label="Mean-centre each language (removes the language direction)",
                                         value=False, elem_id="map-center")
                    lines = gr.Checkbox(label="Translation lines", value=False, elem_id="map-lines")
                    density = gr.Checkbox(label="Density contours per language", value=False, elem_id="map-density")
                neutralise, rank = neutralise_inputs("map")
                marked = gr.Textbox(label="Mark meanings (ids, comma-separated)", elem_id="map-marked",
                                    placeholder="c006, c050  ·  territory:FR")
                run = gr.Button("Draw the map", variant="primary", elem_id="map-run")
            with gr.Column(scale=2):
                gr.Markdown(EXPLANATION, elem_id="map-explanation")
        view = gr.HTML(None, html_template='<div class="bsmap-root"></div>', js_on_load=VIEW_JS,
                       server_functions=[h["point"]], apply_default_css=False, elem_id="map-view",
                       label="Language map", overlay=None)
        scores = gr.Markdown(elem_id="map-scores")
        with gr.Row():
            place_text = gr.Textbox(label="Where does this sentence land? (any language)", elem_id="map-place-text",
                                    placeholder="Le chien dort sur le canapé.", scale=4)
            place = gr.Button("Place it on the map", elem_id="map-place", scale=1)
        neighbours = gr.Dataframe(label="Its nearest sentences on the map (ringed)", elem_id="map-neighbours",
                                  wrap=True, max_height=320, headers=NEIGHBOUR_COLUMNS)
        with gr.Group():
            with gr.Row():
                select_ids = gr.Textbox("", label="Select meanings (ids, comma-separated)", elem_id="map-select-ids",
                                        placeholder="c006, c050", scale=2)
                select_box = gr.Textbox("", label="…or a box: x_min, y_min, x_max, y_max (or drag one on the map)",
                                        elem_id="map-select-box", scale=2)
                select = gr.Button("Select", elem_id="map-select", scale=1)
            selection_summary = gr.Markdown(elem_id="map-selection-summary")
            selection_rows = gr.Dataframe(label="Selected sentences", elem_id="map-selection", wrap=True,
                                          max_height=360, headers=SELECTION_COLUMNS)
            with gr.Row():
                to_similarity = gr.Button(f"Send the selection to Similarity (at most {settings.limits.max_sentences})", size="sm",
                                          elem_id="map-to-similarity", visible=similarity_text is not None)
                to_search = gr.Button("Search within the selection (Search tab)", size="sm", elem_id="map-to-search",
                                      visible=search_corpus is not None)
        clusters = gr.Dataframe(label="Clusters (K-means on every point, HDBSCAN on a sample) and their language mix "
                                      "· click a row to select its points",
                                elem_id="map-clusters", wrap=True, max_height=420, headers=MAP_CLUSTER_COLUMNS)
        export = gr.File(label="Coordinates and labels (CSV)", elem_id="map-export")
        with gr.Accordion("JSON (the API's answers)", open=False):
            payload = gr.JSON(label="project_map", elem_id="map-json")
            select_json = gr.JSON(label="map_select", elem_id="map-select-json")
            place_json = gr.JSON(label="map_place", elem_id="map-place-json")
        state, token, placement, selection = gr.State(None), gr.State(None), gr.State(None), gr.State(None)

        settings_inputs = [corpus, model, method, languages, center, max_points]
        overlay_inputs = [state, token, lines, marked, density, placement]
        selection_outputs = [selection, selection_summary, selection_rows, select_json]
        # overlays redraw over the points already in the page: no loading veil over the map
        overlay = dict(fn=h["overlay"], inputs=overlay_inputs, outputs=view, api_visibility="private",
                       show_progress="hidden")
        corpus.change(h["corpus_change"], inputs=corpus, outputs=languages, api_visibility="private")
        run.click(h["run"], inputs=[*settings_inputs, neutralise, rank],
                  outputs=[state, token, placement, view, scores, clusters, export, payload], api_name="project_map"
                  ).then(**overlay)
        for toggle in (lines, density):
            toggle.change(**overlay)
        marked.submit(**overlay)
        select.click(h["select"], inputs=[state, select_ids, select_box, *settings_inputs], outputs=selection_outputs,
                     api_name="map_select")
        view.box_select(h["box"], inputs=state, outputs=[select_box, *selection_outputs], api_visibility="private")
        clusters.select(h["cluster"], inputs=state, outputs=selection_outputs, api_visibility="private")
        place.click(h["place"], inputs=[state, place_text, *settings_inputs], outputs=[placement, neighbours, place_json],
                    api_name="map_place").then(**overlay)
        gr.api(h["density"], api_name="map_density")
        if similarity_text is not None:
            to_similarity.click(h["to_similarity"], inputs=selection, outputs=similarity_text, api_visibility="private")
        if search_corpus is not None:
            to_search.click(h["to_search"], inputs=[state, selection], outputs=search_corpus,
                            api_visibility="private")
