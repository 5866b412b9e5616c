"""The Labs tab: the cross-lingual transfer lab and the distillation lab."""
from __future__ import annotations

import gradio as gr

from backend.capabilities.distillation import DEFAULT_STUDENT, STUDENT_KINDS
from backend.core.settings import REPO_ROOT
from backend.data.labelled_sets import bundled_eval_set
from ui.figures.labs import DISTILL_COLUMNS
from ui.handlers.labs import NO_COMPARISON, make_distill_handler, make_transfer_handler
from ui.inputs import NumberInput, SliderInput
from ui.tabs import model_choices

EXPLANATION = (REPO_ROOT / "docs" / "tabs" / "labs.md").read_text(encoding="utf-8")


def explanation_parts(text: str = EXPLANATION) -> tuple[str, str, str]:
    """The page's lead paragraph, then its transfer and distillation sections. The lead opens the
    tab; each section folds under its lab's controls (all of it above them was ~1,400 px of prose
    before the first control)."""
    lead, rest = text.split("\n**Transfer lab.**", 1)
    transfer, distillation = rest.split("\n**Distillation lab.**", 1)
    return lead.strip(), "**Transfer lab.**" + transfer.rstrip(), "**Distillation lab.**" + distillation.rstrip()


def render_labs_tab(registry) -> None:
    settings = registry.settings
    embedders = model_choices(settings)
    langs = list(bundled_eval_set().languages)
    lead, transfer_notes, distill_notes = explanation_parts()
    with gr.Tab("Labs", id="labs"):
        gr.Markdown(lead, elem_id="labs-explanation")
        gr.Markdown("## Transfer lab: train on one language, test on another")
        with gr.Row():
            with gr.Column():
                upload = gr.File(label="Labelled set (CSV/TSV with columns text, label, lang; empty = bundled)",
                                 file_types=[".csv", ".tsv", ".txt"], type="filepath", elem_id="transfer-upload")
                seed = NumberInput(value=0, precision=0, label="Seed", elem_id="transfer-seed")
            with gr.Column():
                model = gr.Dropdown(embedders, value=settings.default_model("embeddings"), label="Embedding model",
                                    elem_id="transfer-model", allow_custom_value=True)
                compare = gr.Dropdown(embedders + [("No comparison", NO_COMPARISON)], value=settings.contrast_model(),
                                      label="Compare with", elem_id="transfer-compare", allow_custom_value=True)
            with gr.Column():
                train_lang = gr.Dropdown(langs, value="en", label="Training language", elem_id="transfer-train-lang",
                                         allow_custom_value=True)
                test_lang = gr.Dropdown(langs, value="de", label="Test language", elem_id="transfer-test-lang",
                                        allow_custom_value=True)
                run = gr.Button("Run transfer experiment", variant="primary", elem_id="transfer-run")
        with gr.Accordion("How it works: the transfer lab", open=False, elem_id="transfer-how"):
            gr.Markdown(transfer_notes, elem_id="transfer-explanation")
        with gr.Row():
            heat_a = gr.Plot(label="Zero-shot transfer", elem_id="transfer-heatmap")
            heat_b = gr.Plot(label="Comparison model", elem_id="transfer-heatmap-compare")
        few_shot = gr.Plot(label="Few-shot curve", elem_id="transfer-few-shot")
        summary = gr.Markdown(elem_id="transfer-summary")
        with gr.Accordion("JSON (the API's answer)", open=False):
            payload = gr.JSON(label="transfer", elem_id="transfer-json")

        gr.Markdown("## Distillation lab: a small student for one language")
        with gr.Row():
            with gr.Column():
                target = gr.Dropdown(langs, value="de", label="Target language",
                                     elem_id="distill-lang", allow_custom_value=True)
                temps = gr.Textbox(value="1, 2, 4", label="Temperatures T (comma-separated, > 0)",
                                   elem_id="distill-temperatures")
            with gr.Column():
                n_gold = SliderInput(0, 24, value=0, step=1, label="Gold labels per fold", elem_id="distill-gold")
                d_seed = NumberInput(value=0, precision=0, label="Seed", elem_id="distill-seed")
                student = gr.Radio(list(STUDENT_KINDS), value=DEFAULT_STUDENT, label="Student", elem_id="distill-student")
                d_run = gr.Button("Distil the student", variant="primary", elem_id="distill-run")
            unlabelled = gr.Textbox(value="", label="Unlabelled target-language text (optional, one per line; "
                                          "empty = the bundled corpus)", lines=6, elem_id="distill-unlabelled")
        with gr.Accordion("How it works: the distillation lab", open=False, elem_id="distill-how"):
            gr.Markdown(distill_notes, elem_id="distill-explanation")
        d_plot = gr.Plot(label="Accuracy and agreement vs T", elem_id="distill-chart")
        d_summary = gr.Markdown(elem_id="distill-summary")
        d_table = gr.Dataframe(label="The student on each language (out of fold, 95% intervals)",
                               elem_id="distill-table", headers=DISTILL_COLUMNS)
        d_p_at_1 = gr.Plot(label="Bitext P@1: static vectors vs the teacher", elem_id="distill-p-at-1")
        with gr.Accordion("JSON (the API's answer)", open=False):
            d_payload = gr.JSON(label="distill", elem_id="distill-json")

        run.click(make_transfer_handler(registry), inputs=[upload, model, compare, train_lang, test_lang, seed],
                  outputs=[heat_a, heat_b, few_shot, summary, payload], api_name="transfer")
        d_run.click(make_distill_handler(registry), inputs=[target, temps, n_gold, d_seed, unlabelled, student],
                    outputs=[d_plot, d_summary, d_table, d_p_at_1, d_payload], api_name="distill")
