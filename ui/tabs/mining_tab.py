"""The Mining tab: find the translations in two monolingual piles of text (LASER-style margin mining)."""
from __future__ import annotations

import gradio as gr

from backend.analysis.margins import STRATEGIES
from backend.capabilities.mining import (
    DEFAULT_K,
    DEFAULT_MAX_LENGTH_RATIO,
    DEFAULT_STRATEGY,
    DEFAULT_THRESHOLD,
    MAX_K,
)
from backend.core.settings import REPO_ROOT
from backend.data.corpus import bundled_corpus
from ui.figures.mining import PAIR_COLUMNS
from ui.handlers.mining import DEFAULT_OPTIONS, make_mining_handlers
from ui.inputs import NumberInput, SliderInput
from ui.tabs import corpus_dropdown, model_choices

EXPLANATION = (REPO_ROOT / "docs" / "tabs" / "mining.md").read_text(encoding="utf-8").split("\n## ")[0]
SIDE_TYPES = [".txt", ".csv", ".tsv", ".jsonl"]


def render_mining_tab(registry) -> None:
    on_mine, on_example, on_corpus_side, on_corpus_change, on_options = make_mining_handlers(registry)
    settings = registry.settings
    bundled_langs = list(bundled_corpus().language_counts)
    with gr.Tab("Mining", id="mining"):
        with gr.Row():
            with gr.Column(scale=3):
                with gr.Row():
                    source = gr.File(label="Source side (TXT one per line; CSV, TSV, JSONL with a text column)",
                                     file_types=SIDE_TYPES, type="filepath", elem_id="mining-source")
                    target = gr.File(label="Target side", file_types=SIDE_TYPES, type="filepath",
                                     elem_id="mining-target")
                gold = gr.File(label="Gold pairs (optional TSV: source line, tab, target line; 1-based)",
                               file_types=[".tsv", ".txt"], type="filepath", elem_id="mining-gold")
                with gr.Row():
                    model = gr.Dropdown(model_choices(settings), value=settings.default_model("embeddings"),
                                        label="Model", elem_id="mining-model", allow_custom_value=True)
                    strategy = gr.Radio(list(STRATEGIES), value=DEFAULT_STRATEGY, label="Strategy",
                                        elem_id="mining-strategy")
                with gr.Row():
                    k = SliderInput(1, MAX_K, value=DEFAULT_K, step=1, label="k (neighbours for the margin)",
                                    elem_id="mining-k")
                    threshold = gr.Textbox(value=DEFAULT_THRESHOLD, label="Margin threshold: auto or a number",
                                           elem_id="mining-threshold", max_lines=1,
                                           info="auto picks it from this run's margins, between their two modes")
                with gr.Row():
                    drop_duplicates = gr.Checkbox(value=True, label="Drop duplicate lines",
                                                  elem_id="mining-drop-duplicates")
                    length_ratio = NumberInput(value=DEFAULT_MAX_LENGTH_RATIO, minimum=0,
                                               label="Drop pairs whose UTF-8 lengths differ more than × (0 = keep)",
                                               elem_id="mining-length-ratio")
                run = gr.Button("Mine translations", variant="primary", elem_id="mining-run")
                with gr.Accordion("Fill the sides: the bundled example, or one language of a corpus", open=True):
                    with gr.Row():
                        ex_source = gr.Dropdown(bundled_langs, value="fr", label="Example source language",
                                                elem_id="mining-example-source")
                        ex_target = gr.Dropdown(bundled_langs, value="zh", label="Example target language",
                                                elem_id="mining-example-target")
                        example = gr.Button("Load the bundled example", elem_id="mining-example")
                    with gr.Row():
                        corpus = corpus_dropdown(registry, "mining")
                        corpus_lang = gr.Dropdown(bundled_langs, value=None, label="Language",
                                                  elem_id="mining-corpus-lang", allow_custom_value=True)
                        use_source = gr.Button("Use as source", elem_id="mining-use-source")
                        use_target = gr.Button("Use as target", elem_id="mining-use-target")
            with gr.Column(scale=2):
                gr.Markdown(EXPLANATION, elem_id="mining-explanation")
        summary = gr.Markdown(elem_id="mining-summary")
        with gr.Row():
            histogram = gr.Plot(label="Margin histogram", elem_id="mining-histogram")
            curve = gr.Plot(label="Precision, recall, F1 (gold)", elem_id="mining-curve")
        pairs = gr.Dataframe(label="Mined pairs, best first", elem_id="mining-pairs", wrap=True, max_height=480,
                             headers=PAIR_COLUMNS)
        with gr.Row():
            tsv = gr.File(label="Pairs (TSV)", elem_id="mining-tsv")
            tmx = gr.File(label="Pairs (TMX 1.4, for translation tools)", elem_id="mining-tmx")
        with gr.Accordion("JSON (the API's answer)", open=False):
            payload = gr.JSON(label="mine", elem_id="mining-json")
        # The filters are tab options, not API parameters: /mine takes exactly the seven.
        options = gr.State(dict(DEFAULT_OPTIONS))
        for control in (drop_duplicates, length_ratio):
            control.change(on_options, inputs=[drop_duplicates, length_ratio], outputs=options,
                           api_visibility="private", queue=False)
        run.click(on_mine, inputs=[source, target, gold, model, strategy, k, threshold, options],
                  outputs=[summary, histogram, curve, pairs, tsv, tmx, payload], api_name="mine")
        example.click(on_example, inputs=[ex_source, ex_target], outputs=[source, target, gold],
                      api_visibility="private")
        corpus.change(on_corpus_change, inputs=corpus, outputs=corpus_lang, api_visibility="private")
        use_source.click(on_corpus_side, inputs=[corpus, corpus_lang], outputs=source, api_visibility="private")
        use_target.click(on_corpus_side, inputs=[corpus, corpus_lang], outputs=target, api_visibility="private")
