"""Layers view and neutralisation-comparison handlers."""
from __future__ import annotations

import gradio as gr

from backend.capabilities.layers import LayerCurves, run_layers
from backend.capabilities.neutralisation import compare_methods
from backend.core.languages import parse_language_list
from ui.errors import progress_callback, user_facing
from ui.figures import layers as figures
from ui.zerogpu import gpu


def _same_view(curves: LayerCurves, corpus_id: str, languages: tuple[str, ...]) -> bool:
    return curves.corpus_id == corpus_id and curves.languages == languages


def make_layers_handlers(registry):
    @gpu(duration=120)
    @user_facing
    def on_layers_run(corpus, model, languages, shown, progress=gr.Progress()):
        """Adds ``model``'s curves to those this session already drew for the same corpus and
        languages (``shown``, a gr.State: not part of the API)."""
        curves = run_layers(registry, corpus, model, parse_language_list(languages), progress_callback(progress))
        kept = [c for c in (shown or []) if _same_view(c, curves.corpus_id, curves.languages)
                and c.model_id != curves.model_id]
        lines = [*kept, curves]
        return figures.layer_figure(lines), figures.layers_markdown(lines), curves.to_dict(), lines

    @gpu(duration=120)
    @user_facing
    def on_neutralisation_compare(corpus, model, languages, progress=gr.Progress()):
        result = compare_methods(registry, corpus, model, parse_language_list(languages), progress_callback(progress))
        return figures.comparison_table(result), result.to_dict()

    return on_layers_run, on_neutralisation_compare
