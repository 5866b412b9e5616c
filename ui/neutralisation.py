"""The neutralisation control shared by Similarity, Search, Map and Diagnostics (backend.analysis.neutralisation)."""
from __future__ import annotations

import gradio as gr

from backend.analysis.neutralisation import DEFAULT_RANK, MAX_RANK
from ui.inputs import NumberInput

CHOICES = [("none", "none"), ("center", "center"), ("LIR", "lir"), ("LSAR", "lsar")]


def neutralise_inputs(tab: str, fitted_on: str = "the corpus in view") -> tuple[gr.Radio, gr.Number]:
    """A method radio and a rank box, elem_ids "<tab>-neutralise" and "<tab>-rank"."""
    with gr.Row():
        method = gr.Radio(CHOICES, value="none", label="Neutralise the language", elem_id=f"{tab}-neutralise",
                          info=f"Remove the 'which language' signal, fitted on {fitted_on}. "
                               "See the Layers tab's notes.")
        rank = NumberInput(value=DEFAULT_RANK, precision=0, minimum=1, maximum=MAX_RANK,
                           label="Rank (directions removed; LIR and LSAR)", elem_id=f"{tab}-rank")
    return method, rank
