"""Languages tab handler: the model's language distances beside URIEL typology."""
from __future__ import annotations

import gradio as gr

from backend.capabilities.languages import run_languages
from backend.core.languages import parse_language_list
from ui.errors import progress_callback, user_facing
from ui.figures import languages as figures
from ui.zerogpu import gpu


def make_languages_handler(registry):
    @gpu(duration=120)
    @user_facing
    def on_languages_run(corpus, model, distance, layer, languages, neutralise="none", rank=1,
                         progress=gr.Progress()):
        result = run_languages(registry, corpus, model, distance, layer, parse_language_list(languages),
                               neutralise, rank, progress_callback(progress))
        return (figures.languages_markdown(result), figures.distance_heatmap(result),
                figures.dendrogram_figure(result), figures.mantel_table(result), figures.mds_figure(result),
                result.to_dict())

    return on_languages_run
