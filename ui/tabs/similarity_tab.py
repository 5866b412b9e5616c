"""The Similarity tab: translation-free similarity between sentences in any languages."""
from __future__ import annotations

import gradio as gr

from backend.core.settings import REPO_ROOT
from backend.data.examples import similarity_example_sets
from ui.figures.similarity import PAIR_COLUMN_WIDTHS, PAIR_COLUMNS
from ui.handlers.similarity import NO_COMPARISON, make_similarity_handler
from ui.neutralisation import neutralise_inputs
from ui.tabs import model_choices

EXPLANATION = (REPO_ROOT / "docs" / "tabs" / "similarity.md").read_text(encoding="utf-8")


def render_similarity_tab(registry) -> gr.Textbox:
    """Render the tab; returns its sentences box, so other tabs can send text to it."""
    settings = registry.settings
    models = model_choices(settings)
    examples = similarity_example_sets()
    with gr.Tab("Similarity", id="similarity"):
        with gr.Row():
            with gr.Column(scale=3):
                text = gr.Textbox(
                    label="Sentences, one per line, in any languages",
                    lines=10, max_lines=30, elem_id="similarity-input",
                    placeholder="The dog is sleeping.\nDer Hund schläft.\n狗在睡觉。\nsw: Mbwa analala.",
                    info=f"2 to {settings.limits.max_sentences} lines. Optional `xx: ` prefix sets the language.",
                )
                with gr.Row():
                    buttons = [gr.Button(ex.name, size="sm", elem_id=f"similarity-example-{i}")
                               for i, ex in enumerate(examples)]
            with gr.Column(scale=2):
                model = gr.Dropdown(models, value=settings.default_model("embeddings"),
                                    label="Model", elem_id="similarity-model", allow_custom_value=True)
                compare = gr.Dropdown(models + [("No comparison", NO_COMPARISON)],
                                      value=settings.contrast_model(), label="Compare with",
                                      elem_id="similarity-compare", allow_custom_value=True)
                neutralise, rank = neutralise_inputs("similarity", "the bundled corpus (typed sentences are too few)")
                run = gr.Button("Compute similarity", variant="primary", elem_id="similarity-run")
                gr.Markdown(EXPLANATION, elem_id="similarity-explanation")
        with gr.Row():
            heat_a = gr.Plot(label="Model", elem_id="similarity-heatmap")
            heat_b = gr.Plot(label="Comparison model", elem_id="similarity-heatmap-compare")
        summary = gr.Markdown(label="Where the two models disagree", elem_id="similarity-summary")
        table = gr.Dataframe(label="Pairs, most confident match first (ratio margin)",
                             elem_id="similarity-pairs", wrap=True, max_height=420,
                             column_widths=PAIR_COLUMN_WIDTHS, headers=PAIR_COLUMNS)
        with gr.Accordion("JSON (the API's answer)", open=False):
            payload = gr.JSON(label="similarity", elem_id="similarity-json")

        for button, example in zip(buttons, examples):
            button.click(lambda t=example.text: t, outputs=text, api_visibility="private", queue=False)
        run.click(make_similarity_handler(registry), inputs=[text, model, compare, neutralise, rank],
                  outputs=[heat_a, heat_b, summary, table, payload], api_name="similarity")
    return text
