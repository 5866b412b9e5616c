"""The Alignment tab: which words a model matches across languages, at which layer."""
from __future__ import annotations

import gradio as gr

from backend.analysis.word_alignment import METHODS
from backend.capabilities.alignment import default_layer, gold_example_files
from backend.core.settings import REPO_ROOT
from ui.figures.alignment import CONTRIBUTION_COLUMNS
from ui.handlers.alignment import NO_COMPARISON, make_alignment_handlers
from ui.inputs import NumberInput
from ui.tabs import model_choices

EXPLANATION = (REPO_ROOT / "docs" / "tabs" / "alignment.md").read_text(encoding="utf-8").split("\n## ")[0]
EXAMPLE = ("The witness did not tell the truth.", "Le témoin n'a pas dit la vérité.")


def render_alignment_tab(registry) -> None:
    on_align, on_eval, on_default_layer = make_alignment_handlers(registry)
    settings = registry.settings
    models = model_choices(settings, "layers")
    default = models[0][1] if models else None
    with gr.Tab("Alignment", id="alignment"):
        with gr.Row():
            with gr.Column(scale=3):
                source = gr.Textbox(EXAMPLE[0], label="Source sentence", elem_id="alignment-source")
                target = gr.Textbox(EXAMPLE[1], label="Target sentence", elem_id="alignment-target")
                with gr.Row():
                    model = gr.Dropdown(models, value=default, label="Model", elem_id="alignment-model",
                                        allow_custom_value=True)
                    compare = gr.Dropdown(models + [("No comparison", NO_COMPARISON)],
                                          value=settings.contrast_model(), label="Compare with (at its best layer)",
                                          elem_id="alignment-compare", allow_custom_value=True)
                with gr.Row():
                    layer = NumberInput(default_layer(default, "argmax") if default else None,
                                        label="Layer (set to the model's best on the bundled gold set)",
                                        minimum=0, step=1, elem_id="alignment-layer")
                    method = gr.Radio(list(METHODS), value="argmax", label="Method", elem_id="alignment-method")
                    words = gr.Radio(["auto", "spaces"], value="auto", label="Words", elem_id="alignment-words",
                                     info="auto: punctuation apart, one unit per Han/kana/Thai character; "
                                          "spaces: split on single spaces exactly")
                run = gr.Button("Align the words", variant="primary", elem_id="alignment-run")
            with gr.Column(scale=2):
                gr.Markdown(EXPLANATION, elem_id="alignment-explanation")
        summary = gr.Markdown(elem_id="alignment-summary")
        with gr.Row():
            heat_a = gr.Plot(label="Word cosine, links ringed", elem_id="alignment-heatmap")
            heat_b = gr.Plot(label="Comparison model", elem_id="alignment-heatmap-compare")
        with gr.Row():
            picture_a = gr.Plot(label="Alignment", elem_id="alignment-picture")
            picture_b = gr.Plot(label="Comparison model's alignment", elem_id="alignment-picture-compare")
        with gr.Row():
            bars = gr.Plot(label="Word pairs adding most and least to the sentence cosine",
                           elem_id="alignment-contributions")
            table = gr.Dataframe(label="Every word pair's share of the sentence cosine, largest first",
                                 elem_id="alignment-contributions-table", headers=CONTRIBUTION_COLUMNS, wrap=True, max_height=420)
        with gr.Accordion("JSON (the API's answer)", open=False):
            payload = gr.JSON(label="align", elem_id="alignment-json")
        for control in (model, method):
            control.change(on_default_layer, inputs=[model, method], outputs=layer, api_visibility="private",
                           queue=False)
        run.click(on_align, inputs=[source, target, model, layer, method, words, compare],
                  outputs=[heat_a, picture_a, heat_b, picture_b, bars, table, summary, payload], api_name="align")

        gr.Markdown("### A file of pairs, every layer\nTSV, one pair a line: `source<TAB>target`. Gold links "
                    "(optional): Pharaoh, one line a pair, `i-j` sure and `i?j` possible, 0-based word indexes "
                    "(pre-tokenised pairs with words = spaces). The example is the bundled gold set.")
        with gr.Row():
            pairs = gr.File(label="Sentence pairs (TSV)", file_types=[".tsv", ".txt"], type="filepath",
                            elem_id="alignment-pairs")
            gold = gr.File(label="Gold links (Pharaoh, optional)", file_types=[".txt", ".tsv"], type="filepath",
                           elem_id="alignment-gold")
            with gr.Column():
                eval_model = gr.Dropdown(models, value=default, label="Model", elem_id="alignment-eval-model",
                                         allow_custom_value=True)
                eval_method = gr.Radio(list(METHODS), value="argmax", label="Method", elem_id="alignment-eval-method")
                eval_words = gr.Radio(["spaces", "auto"], value="spaces", label="Words",
                                      elem_id="alignment-eval-words")
        with gr.Row():
            example = gr.Button("Load the bundled gold set (40 pairs, en-de/fr/es/zh)", size="sm",
                                elem_id="alignment-eval-example")
            run_eval = gr.Button("Add this model's layer curves", variant="primary", elem_id="alignment-eval-run")
        curves = gr.Plot(label="Scores by layer, one line per model", elem_id="alignment-eval-plot")
        eval_summary = gr.Markdown(elem_id="alignment-eval-summary")
        export = gr.File(label="Links at the best layer (Pharaoh)", elem_id="alignment-eval-file")
        with gr.Accordion("JSON (the API's answer)", open=False):
            eval_payload = gr.JSON(label="align_eval", elem_id="alignment-eval-json")
        shown = gr.State([])
        example.click(gold_example_files, outputs=[pairs, gold], api_visibility="private",
                      queue=False)
        run_eval.click(on_eval, inputs=[pairs, gold, eval_model, eval_method, eval_words, shown],
                       outputs=[curves, eval_summary, export, eval_payload, shown], api_name="align_eval")
