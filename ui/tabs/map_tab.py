"""The Language map tab: UMAP / PCA / t-SNE of a corpus, coloured by language, with its scores."""
from __future__ import annotations

import gradio as gr

from backend.config import REPO_ROOT
from backend.corpus import BUNDLED_ID, bundled_corpus
from backend.projection import METHODS
from ui.handlers.map import make_map_handlers
from ui.inputs import NumberInput
from ui.neutralisation import neutralise_inputs
from ui.tabs import model_choices

EXPLANATION = (REPO_ROOT / "docs" / "tabs" / "map.md").read_text(encoding="utf-8")
METHOD_LABELS = {"umap": "UMAP", "pca": "PCA", "tsne": "t-SNE (small sets)"}


def render_map_tab(registry) -> None:
    from ui.handlers.corpus import corpus_choices

    on_run, on_redraw, on_overlays, on_corpus_change = make_map_handlers(registry)
    settings = registry.settings
    cap = settings.limits.max_map_points
    models = model_choices(settings)
    with gr.Tab("Language map", id="map"):
        with gr.Row():
            with gr.Column(scale=3):
                with gr.Row():
                    corpus = gr.Dropdown(corpus_choices(registry), value=BUNDLED_ID, label="Corpus",
                                         elem_id="map-corpus", allow_custom_value=True,
                                         info="An upload from the Search tab works too: paste its corpus_id.")
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
                neutralise, rank = neutralise_inputs("map")
                marked = gr.Textbox(label="Mark meanings (ids, comma-separated)", elem_id="map-marked",
                                    placeholder="c006, c050  ·  territory:FR")
                run = gr.Button("Draw the map", variant="primary", elem_id="map-run")
            with gr.Column(scale=2):
                gr.Markdown(EXPLANATION, elem_id="map-explanation")
        plot = gr.Plot(label="Language map", elem_id="map-plot")
        scores = gr.Markdown(elem_id="map-scores")
        clusters = gr.Dataframe(label="Clusters (K-means on every point, HDBSCAN on a sample) and their language mix",
                                elem_id="map-clusters", wrap=True, max_height=420)
        export = gr.File(label="Coordinates and labels (CSV)", elem_id="map-export")
        with gr.Accordion("JSON (the API's answer)", open=False):
            payload = gr.JSON(label="project_map", elem_id="map-json")
        state = gr.State(None)

        corpus.change(on_corpus_change, inputs=corpus, outputs=languages, api_visibility="private")
        run.click(on_run, inputs=[corpus, model, method, languages, center, max_points, neutralise, rank],
                  outputs=[state, plot, scores, clusters, export, payload], api_name="project_map").then(
            on_overlays, inputs=[state, lines, marked], outputs=plot, api_visibility="private")
        lines.change(on_redraw, inputs=[state, lines, marked], outputs=plot, api_visibility="private")
        marked.submit(on_redraw, inputs=[state, lines, marked], outputs=plot, api_visibility="private")
