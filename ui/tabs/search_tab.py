"""The Search tab: corpora (bundled, CLDR, uploads), a FAISS index, cross-lingual search."""
from __future__ import annotations

import gradio as gr

from backend.core.settings import REPO_ROOT
from backend.data.corpus import bundled_corpus
from ui.figures.search import HIT_COLUMNS
from ui.inputs import SliderInput
from ui.neutralisation import neutralise_inputs
from ui.tabs import corpus_dropdown, model_choices

EXPLANATION = (REPO_ROOT / "docs" / "tabs" / "search.md").read_text(encoding="utf-8")
UPLOAD_TYPES = [".csv", ".tsv", ".jsonl", ".txt", ".tmx", ".po", ".mo"]


def render_search_tab(registry, handlers) -> gr.Dropdown:
    """Returns the corpus dropdown: the Language map sends a selection there."""
    on_load, on_corpus_change, on_search, _ = handlers
    settings = registry.settings
    models = model_choices(settings)
    with gr.Tab("Search", id="search"):
        with gr.Row():
            with gr.Column(scale=3):
                corpus = corpus_dropdown(registry, "search")
                corpus_info = gr.Markdown(elem_id="search-corpus-info")
                query = gr.Textbox(label="Query, in any language", lines=2, elem_id="search-query",
                                   value="Il a neigé toute la nuit et les routes sont encore fermées.")
                with gr.Row():
                    k = SliderInput(1, settings.limits.max_search_k, value=10, step=1, label="k (results)",
                                  elem_id="search-k")
                    languages = gr.Dropdown(list(bundled_corpus().language_counts), multiselect=True, value=[],
                                            label="Only these languages (empty = all)", elem_id="search-languages",
                                            allow_custom_value=True)
                with gr.Row():
                    model = gr.Dropdown(models, value=settings.default_model("embeddings"), label="Model",
                                        elem_id="search-model", allow_custom_value=True)
                    csls = gr.Checkbox(label="Hubness correction (CSLS)", value=False, elem_id="search-csls")
                neutralise, rank = neutralise_inputs("search")
                run = gr.Button("Search", variant="primary", elem_id="search-run")
            with gr.Column(scale=2):
                upload = gr.File(label="Upload a corpus (CSV, TSV, JSONL, TXT, TMX, PO, MO)", file_types=UPLOAD_TYPES,
                                 elem_id="search-upload")
                with gr.Accordion("Uploaded corpus (load_corpus JSON)", open=False):
                    upload_json = gr.JSON(label="load_corpus", elem_id="search-upload-json")
                gr.Markdown(EXPLANATION, elem_id="search-explanation")
        index_info = gr.Markdown(elem_id="search-index-info")
        hits = gr.Dataframe(label="Nearest sentences", elem_id="search-hits", wrap=True, max_height=520, headers=HIT_COLUMNS)
        with gr.Accordion("JSON (the API's answer)", open=False):
            payload = gr.JSON(label="search", elem_id="search-json")

        upload.upload(on_load, inputs=upload, outputs=[upload_json, corpus_info, corpus], api_name="load_corpus")
        corpus.change(on_corpus_change, inputs=corpus, outputs=[corpus_info, languages], api_visibility="private")
        run.click(on_search, inputs=[corpus, query, k, languages, model, csls, neutralise, rank],
                  outputs=[index_info, hits, payload], api_name="search")
    return corpus
