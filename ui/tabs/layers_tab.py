"""The Layers tab: at which depth each model is most language-neutral (curves by layer)."""
from __future__ import annotations

import gradio as gr

from backend.core.settings import REPO_ROOT
from ui.figures.layers import TABLE_COLUMNS
from ui.handlers.layers import make_layers_handlers
from ui.tabs import UPLOAD_HINT, corpus_dropdown, model_choices

EXPLANATION = (REPO_ROOT / "docs" / "tabs" / "layers.md").read_text(encoding="utf-8").split("\n## ")[0]


def render_layers_tab(registry) -> None:
    on_run = make_layers_handlers(registry)[0]
    settings = registry.settings
    models = model_choices(settings, "layers")
    with gr.Tab("Layers", id="layers"):
        with gr.Row():
            with gr.Column(scale=3):
                corpus = corpus_dropdown(registry, "layers", UPLOAD_HINT)
                languages = gr.Textbox("", label="Languages (comma list; empty = all)", elem_id="layers-languages",
                                       placeholder="en, fr, de, zh",
                                       info=f"At most {settings.limits.max_bitext_languages}; above "
                                            f"{settings.limits.max_layer_rows:,} sentences a sample keeps whole "
                                            "translation sets. For the CLDR atlas name a few.")
                model = gr.Dropdown(models, value=models[0][1] if models else None, label="Model",
                                    elem_id="layers-model", allow_custom_value=True,
                                    info="Each run adds this model's line; change the corpus or languages to start over.")
                run = gr.Button("Add this model's layer curves", variant="primary", elem_id="layers-run")
            with gr.Column(scale=2):
                gr.Markdown(EXPLANATION, elem_id="layers-explanation")
        plot = gr.Plot(label="Scores by layer, one line per model", elem_id="layers-plot")
        summary = gr.Markdown(elem_id="layers-summary")
        with gr.Accordion("JSON (the API's answer)", open=False):
            payload = gr.JSON(label="layers", elem_id="layers-json")
        shown = gr.State([])
        run.click(on_run, inputs=[corpus, model, languages, shown], outputs=[plot, summary, payload, shown],
                  api_name="layers")


def render_neutralisation_comparison(registry, corpus, model, languages) -> None:
    """The Diagnostics tab's table: each neutralisation method and rank on the corpus in view."""
    on_compare = make_layers_handlers(registry)[1]
    with gr.Accordion("Language neutralisation: which method removes language without removing meaning?",
                      open=True, elem_id="diagnostics-neutralisation"):
        gr.Markdown("Each row fits one method on the chosen corpus and languages (language labels only, never "
                    "the meanings), then scores it: bitext P@1 pooled over every language pair, and the "
                    "silhouettes by language (lower = more neutral) and by meaning (higher = translations "
                    "together). See the Layers tab's notes for what each method removes.")
        compare = gr.Button("Compare neutralisation methods", elem_id="diagnostics-compare")
        table = gr.Dataframe(label="One row per method and rank", elem_id="diagnostics-neutralisation-table",
                             wrap=True, headers=list(TABLE_COLUMNS))
        with gr.Accordion("JSON (the API's answer)", open=False):
            payload = gr.JSON(label="compare_neutralisation", elem_id="diagnostics-neutralisation-json")
    compare.click(on_compare, inputs=[corpus, model, languages], outputs=[table, payload],
                  api_name="compare_neutralisation")
