"""Similarity tab handlers."""
from __future__ import annotations

import gradio as gr

from backend.similarity import compare_models, similarity_from_text
from ui import formatting as fmt
from ui.errors import progress_callback, user_facing
from ui.zerogpu import gpu

NO_COMPARISON = "none"


def model_line(result) -> str:
    """The heatmap's title: the model and the engine that ran it (escaped by the figure)."""
    return f"{result.model_id} ({result.engine})" if result.engine else result.model_id


def neutralisation_line(result) -> str:
    """Says what was removed and that the fit is the reference corpus's (typed sentences are too few)."""
    if result.neutralise == "none":
        return ""
    return f"**Neutralised:** {result.neutralisation}. A few typed sentences are too few to fit on.\n\n"


def make_similarity_handler(registry):
    @gpu
    @user_facing
    def on_similarity_compute(text, model, compare_with, neutralise="none", rank=1, progress=gr.Progress()):
        model_ids = [model] + ([compare_with] if compare_with and compare_with != NO_COMPARISON else [])
        sentences, results = similarity_from_text(text, registry, model_ids, progress_callback(progress),
                                                  neutralise, rank)
        main, other = results[0], (results[1] if len(results) > 1 else None)
        cmp = compare_models(main, other) if other else None
        return (
            fmt.similarity_heatmap(main, model_line(main)),
            gr.update(value=fmt.similarity_heatmap(other, model_line(other)) if other else None, visible=bool(other)),
            neutralisation_line(main) + (fmt.comparison_markdown(cmp, main.sentences, main.languages) if cmp else ""),
            fmt.similarity_pairs_table(main),
            {**fmt.similarity_json(main, [s.lang_source for s in sentences], other, cmp),
             "neutralise": main.neutralise, "rank": main.rank, "neutralisation": main.neutralisation},
        )

    return on_similarity_compute
