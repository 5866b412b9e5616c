"""Alignment tab handlers: one pair (two models side by side) and a file of pairs at every layer."""
from __future__ import annotations

from pathlib import Path

import gradio as gr

from backend.capabilities.alignment import align_eval, align_pair, default_layer, pharaoh_file
from ui.errors import progress_callback, user_facing
from ui.figures import alignment as figures
from ui.figures import plot_payload
from ui.zerogpu import gpu

NO_COMPARISON = "none"


def _path_and_name(file) -> tuple[str | None, str | None]:
    return (None, None) if file is None else (str(file), getattr(file, "orig_name", None) or Path(str(file)).name)


def make_alignment_handlers(registry):
    @gpu
    @user_facing
    def on_align(source, target, model=None, layer=None, method="argmax", words="auto", compare=NO_COMPARISON,
                 progress=gr.Progress()):
        """``compare``: a second model, aligned at its own best layer (not part of /align's JSON)."""
        main = align_pair(registry, source, target, model, layer, method, words, progress_callback(progress))
        other = (align_pair(registry, source, target, compare, None, method, words)
                 if compare and compare != NO_COMPARISON else None)
        shown = [r for r in (main, other) if r is not None]
        plots = [plot_payload(f(r, f"{r.model_id}, layer {r.layer}")) if r else None
                 for r in (main, other) for f in (figures.alignment_heatmap, figures.alignment_picture)]
        return (*plots, plot_payload(figures.contributions_figure(main)), figures.contributions_table(main),
                figures.alignment_markdown(shown), main.to_dict())

    @gpu(duration=120)
    @user_facing
    def on_align_eval(pairs, gold=None, model=None, method="argmax", words="spaces", shown=None,
                      progress=gr.Progress()):
        """Adds ``model``'s curves to those drawn in this session (``shown``, a gr.State: not in the API)."""
        (pairs_path, pairs_name), (gold_path, gold_name) = _path_and_name(pairs), _path_and_name(gold)
        result = align_eval(registry, pairs_path, gold_path, model, method, words, progress_callback(progress),
                            pairs_name, gold_name)
        kept = [r for r in (shown or []) if (r.f1 is None) == (result.f1 is None) and r.n_pairs == result.n_pairs
                and (r.model_id, r.method) != (result.model_id, result.method)]
        lines = [*kept, result]
        return (plot_payload(figures.eval_figure(lines)), figures.eval_markdown(lines), pharaoh_file(result),
                result.to_dict(), lines)

    def on_alignment_default_layer(model, method):
        """The layer field follows the model and method: their best layer on the bundled gold set
        (unchanged for a model not measured there)."""
        layer = default_layer(str(model), str(method))
        return gr.update() if layer is None else layer

    return on_align, on_align_eval, on_alignment_default_layer
