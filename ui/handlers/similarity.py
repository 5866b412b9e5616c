"""Similarity tab handlers."""
from __future__ import annotations

from dataclasses import replace

import gradio as gr

from backend.capabilities.similarity import analyse_similarity
from backend.models.language_id import FAST
from ui.errors import progress_callback, user_facing
from ui.figures import plot_payload
from ui.figures import similarity as fig
from ui.figures.text import language_code, uncertain_note
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


def detector_line(analysis) -> str:
    """Says when the languages came from the language detector's quick first pass."""
    if analysis.language_detector != FAST:
        return ""
    return ("**Languages** were detected by Lingua's quick first pass (its low-accuracy trigram ranking, "
            "the 4 likeliest languages then re-ranked by their full models): the full model of every language "
            "is still loading (the first seconds after the app starts). Run again in a moment for its full "
            "guesses, or give a language with an `xx:` prefix.\n\n")


def uncertain_line(analysis) -> str:
    return uncertain_note([(i + 1, lang, p, u) for i, (lang, p, u) in enumerate(
        zip(analysis.main.languages, analysis.language_probabilities, analysis.language_uncertain))])


def shown_languages(analysis):
    """The main result with "xx?" for the uncertain labels, for the figures (the JSON keeps the codes)."""
    flags = analysis.language_uncertain or (False,) * len(analysis.main.languages)
    return replace(analysis.main, languages=tuple(language_code(lang, u) for lang, u in zip(analysis.main.languages, flags)))


def make_similarity_handler(registry):
    @gpu
    @user_facing
    def on_similarity_compute(text, model, compare_with, neutralise="none", rank=1, progress=gr.Progress()):
        compare_with = compare_with if compare_with and compare_with != NO_COMPARISON else None
        analysis = analyse_similarity(text, registry, model, compare_with, progress_callback(progress), neutralise, rank)
        main, other, cmp = shown_languages(analysis), analysis.other, analysis.comparison
        other = other and replace(other, languages=main.languages)
        return (
            plot_payload(fig.similarity_heatmap(main, model_line(main))),
            gr.update(value=plot_payload(fig.similarity_heatmap(other, model_line(other))) if other else None,
                      visible=bool(other)),
            detector_line(analysis) + uncertain_line(analysis) + neutralisation_line(main) + (fig.comparison_markdown(cmp, main.sentences, main.languages) if cmp else ""),
            fig.similarity_pairs_table(main),
            analysis.to_dict(),
        )

    return on_similarity_compute
