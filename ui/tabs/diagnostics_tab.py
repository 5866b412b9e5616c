"""The Diagnostics tab: bitext-mining P@1 between every pair of languages, hubs, tokenizer fertility."""
from __future__ import annotations

import gradio as gr

from backend.core.settings import REPO_ROOT
from backend.data.corpus import CLDR_TERRITORIES_ID
from ui.figures.diagnostics import CONFUSION_COLUMNS, LANGUAGE_COLUMNS
from ui.neutralisation import neutralise_inputs
from ui.tabs import model_choices
from ui.tabs.layers_tab import render_neutralisation_comparison

EXPLANATION = (REPO_ROOT / "docs" / "tabs" / "diagnostics.md").read_text(encoding="utf-8")
TERRITORIES_LABEL = "CLDR territory names (~260 places × 8 languages; harder than the bundled sentences)"


def render_diagnostics_tab(registry, handlers) -> None:
    from ui.handlers.corpus import corpus_choices

    on_bitext = handlers[3]
    settings = registry.settings
    models = model_choices(settings)
    with gr.Tab("Diagnostics", id="diagnostics"):
        with gr.Row():
            with gr.Column(scale=3):
                # The default is off the ceiling: on the bundled sentences P@1 is ~1 for every pair
                corpus = gr.Dropdown([(TERRITORIES_LABEL, CLDR_TERRITORIES_ID)] + corpus_choices(registry),
                                     value=CLDR_TERRITORIES_ID, label="Corpus",
                                     elem_id="diagnostics-corpus", allow_custom_value=True)
                languages = gr.Textbox("", label="Languages (comma list; empty = all)", elem_id="diagnostics-languages",
                                       placeholder="en, fr, de, zh",
                                       info=f"At most {settings.limits.max_bitext_languages}. "
                                            "For the CLDR atlas name a few, e.g. en, fr, sw, ja, hi.")
                with gr.Row():
                    model = gr.Dropdown(models, value=settings.default_model("embeddings"), label="Model",
                                        elem_id="diagnostics-model", allow_custom_value=True)
                    scoring = gr.Radio(["cosine", "margin"], value="margin", label="Scoring",
                                       elem_id="diagnostics-scoring")
                neutralise, rank = neutralise_inputs("diagnostics")
                run = gr.Button("Run bitext mining", variant="primary", elem_id="diagnostics-run")
            with gr.Column(scale=2):
                gr.Markdown(EXPLANATION, elem_id="diagnostics-explanation")
        heatmap = gr.Plot(label="P@1, row = source, column = target", elem_id="diagnostics-heatmap")
        warnings = gr.Markdown(elem_id="diagnostics-warnings")
        per_language = gr.Dataframe(label="Per language: alignment, hubness, tokenizer fertility",
                                    elem_id="diagnostics-languages-table", wrap=True, headers=LANGUAGE_COLUMNS)
        confusions = gr.Dataframe(label="Top confusions (what the model retrieved instead)",
                                  elem_id="diagnostics-confusions", wrap=True, max_height=420,
                                  headers=CONFUSION_COLUMNS)
        with gr.Accordion("JSON (the API's answer)", open=False):
            payload = gr.JSON(label="bitext", elem_id="diagnostics-json")
        run.click(on_bitext, inputs=[corpus, model, languages, scoring, neutralise, rank],
                  outputs=[heatmap, warnings, per_language, confusions, payload], api_name="bitext")
        render_neutralisation_comparison(registry, corpus, model, languages)
