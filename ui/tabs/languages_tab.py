"""The Languages tab: the model's language distances beside URIEL typology, with Mantel tests."""
from __future__ import annotations

import gradio as gr

from backend.core.settings import REPO_ROOT
from ui.figures.languages import MANTEL_COLUMNS
from ui.handlers.languages import make_languages_handler
from ui.neutralisation import neutralise_inputs
from ui.tabs import UPLOAD_HINT, corpus_dropdown, model_choices

EXPLANATION = (REPO_ROOT / "docs" / "tabs" / "languages.md").read_text(encoding="utf-8").split("\n## ")[0]


def render_languages_tab(registry) -> None:
    on_run = make_languages_handler(registry)
    settings = registry.settings
    models = model_choices(settings)
    with gr.Tab("Languages", id="languages"):
        with gr.Row():
            with gr.Column(scale=3):
                corpus = corpus_dropdown(registry, "languages", UPLOAD_HINT)
                with gr.Row():
                    model = gr.Dropdown(models, value=settings.default_model("embeddings"), label="Model",
                                        elem_id="languages-model", allow_custom_value=True)
                    distance = gr.Radio([("centroid (1 − cos of language means)", "centroid"),
                                         ("retrieval (1 − bitext P@1)", "retrieval")], value="centroid",
                                        label="Model distance", elem_id="languages-distance")
                    # a text box: an empty gr.Number shows and sends 0, the embedding layer
                    layer = gr.Textbox("", label="Layer (empty = sentence vector; 0 = embeddings)",
                                       elem_id="languages-layer", placeholder="sentence vector")
                languages = gr.Textbox("", label="Languages (comma list; empty = all)", elem_id="languages-languages",
                                       placeholder="en, fr, de, ru, zh, ar, hi, sw",
                                       info=f"At most {settings.limits.max_distance_languages}; languages "
                                            "without URIEL data are listed and left out.")
                neutralise, rank = neutralise_inputs("languages")
                run = gr.Button("Compare with typology", variant="primary", elem_id="languages-run")
            with gr.Column(scale=2):
                gr.Markdown(EXPLANATION, elem_id="languages-explanation")
        summary = gr.Markdown(elem_id="languages-summary")
        mantel = gr.Dataframe(label="How far the model's distances follow each URIEL distance (Mantel tests)",
                              elem_id="languages-mantel", headers=MANTEL_COLUMNS, wrap=True)
        heatmap = gr.Plot(label="Model distances, in clustering order", elem_id="languages-heatmap")
        dendrograms = gr.Plot(label="Dendrograms: the model (left) and URIEL genetic (right)",
                              elem_id="languages-dendrograms")
        mds = gr.Plot(label="MDS of the model distances", elem_id="languages-mds")
        with gr.Accordion("JSON (the API's answer)", open=False):
            payload = gr.JSON(label="languages", elem_id="languages-json")
        run.click(on_run, inputs=[corpus, model, distance, layer, languages, neutralise, rank],
                  outputs=[summary, heatmap, dendrograms, mantel, mds, payload], api_name="languages")
