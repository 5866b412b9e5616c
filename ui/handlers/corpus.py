"""Corpus, search and bitext-diagnostics handlers."""
from __future__ import annotations

import gradio as gr

from backend.capabilities.diagnostics import run_bitext
from backend.capabilities.search import search_corpus
from backend.core.errors import InvalidInput
from ui.errors import progress_callback, user_facing
from ui.figures import diagnostics as diag_fig
from ui.figures import search as search_fig
from ui.zerogpu import gpu


def corpus_choices(registry, extra: str | None = None) -> list[tuple[str, str]]:
    choices = [("Bundled parallel corpus (220 meanings × 8 languages)", "bundled"),
               ("CLDR name atlas (territory and language names, 150+ locales)", "cldr")]
    return choices + ([(f"Upload {extra}", extra)] if extra and extra not in ("bundled", "cldr") else [])


def make_corpus_handlers(registry):
    @user_facing
    def on_search_load_corpus(file, progress=gr.Progress()):
        if file is None:
            raise InvalidInput("No file was uploaded. Choose a CSV, TSV, JSONL, TXT, TMX, PO or MO file.")
        corpus = registry.corpora.load_upload(file, name=getattr(file, "orig_name", None))
        summary = corpus.summary()
        return summary, search_fig.corpus_markdown(summary), gr.update(
            choices=corpus_choices(registry, corpus.corpus_id), value=corpus.corpus_id)

    @user_facing
    def on_search_corpus_change(corpus_id):
        summary = registry.corpora.get(corpus_id).summary()
        return search_fig.corpus_markdown(summary), gr.update(choices=list(summary["languages"]), value=[])

    @gpu
    @user_facing
    def on_search_run(corpus, query, k, languages, model, csls, neutralise="none", rank=1, progress=gr.Progress()):
        result = search_corpus(registry, corpus, query, k, languages or [], model, bool(csls),
                               progress_callback(progress), neutralise, rank)
        return (search_fig.index_markdown(result), search_fig.search_hits_table(result),
                result.to_dict())

    @gpu(duration=120)
    @user_facing
    def on_diagnostics_run(corpus, model, languages, scoring, neutralise="none", rank=1, progress=gr.Progress()):
        result = run_bitext(registry, corpus, model, languages or "", scoring, progress_callback(progress),
                            neutralise, rank)
        return (diag_fig.bitext_heatmap(result), diag_fig.bitext_warnings_markdown(result),
                diag_fig.bitext_language_table(result), diag_fig.bitext_confusions_table(result),
                result.to_dict())

    return on_search_load_corpus, on_search_corpus_change, on_search_run, on_diagnostics_run
