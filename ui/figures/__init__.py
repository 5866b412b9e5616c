"""Pure functions from backend results to what a tab shows: Plotly figures, pandas tables and
Markdown, one module per tab. Every user string is escaped with ``ui.escaping`` on its way in.
The API's JSON is not here: it is each result's ``to_dict()``."""
from __future__ import annotations

import os
from typing import Iterable

import plotly.graph_objects as go


def plain_figure(traces: Iterable[dict], layout: dict) -> go.Figure:
    """A Plotly figure from plain trace and layout dicts (each trace with its ``type``).

    plotly.py validates every property as it is set: 7 ms for one 10×10 heatmap, most of the
    Similarity tab's figure time on its hot path. Built from dicts without that pass it takes under
    1 ms and serialises to the same JSON. The tests set ``BABELSCOPE_VALIDATE_FIGURES=1``, so a
    misspelt property still fails there.
    """
    validate = os.environ.get("BABELSCOPE_VALIDATE_FIGURES", "0") == "1"
    return go.Figure({"data": list(traces), "layout": layout}, _validate=validate)


def plot_payload(fig: go.Figure):
    """``fig`` as Gradio's Plot payload, serialised once here. Handed a Figure, Gradio deep-copies it
    inside a ``gr.update`` and serialises it with validation; on the Similarity hot path that cost
    as much as building the figure."""
    from gradio.components.plot import PlotData

    return PlotData(type="plotly", plot=fig.to_json(validate=False))
