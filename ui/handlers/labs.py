"""Transfer lab and distillation lab handlers."""
from __future__ import annotations

import gradio as gr

from backend.capabilities.distillation import DEFAULT_STUDENT, distill, parse_temperatures
from backend.capabilities.labs import run_transfer
from backend.core.errors import InvalidInput
from backend.core.validation import whole_number
from backend.data.sentences import split_lines
from ui.errors import progress_callback, user_facing
from ui.figures import labs as fig
from ui.zerogpu import gpu

NO_COMPARISON = "none"


MAX_SEED = 2**32 - 1  # numpy and scikit-learn take seeds in [0, 2**32)


def _seed(value) -> int:
    seed = whole_number(0 if value in (None, "") else value, "The seed")
    if not 0 <= seed <= MAX_SEED:
        raise InvalidInput(f"The seed must be between 0 and {MAX_SEED:,}, got {seed:.3g}.")
    return seed


def make_transfer_handler(registry):
    @gpu(duration=120)
    @user_facing
    def on_transfer_run(upload=None, model=None, compare_with=NO_COMPARISON, train_lang="en", test_lang="de", seed=0,
                        progress=gr.Progress()):
        # Defaults for Python callers; the API's come from the components (README: /transfer).
        compare_with = None if compare_with == NO_COMPARISON else compare_with
        lab = run_transfer(registry, upload, model, compare_with, train_lang, test_lang, _seed(seed),
                           progress_callback(progress))
        results, other = lab.results, (lab.results[1] if len(lab.results) > 1 else None)
        return (
            fig.transfer_heatmap(results[0]),
            gr.update(value=fig.transfer_heatmap(other) if other else None, visible=bool(other)),
            fig.few_shot_figure(results),
            fig.transfer_markdown(results),
            lab.to_dict(),
        )

    return on_transfer_run


def make_distill_handler(registry):
    @gpu(duration=120)
    @user_facing
    def on_distill_run(target_lang="de", temperatures="1, 2, 4", n_gold=0, seed=0, unlabelled=None,
                       student=DEFAULT_STUDENT, progress=gr.Progress()):
        texts = None
        if unlabelled and unlabelled.strip():
            texts = [line for _, line in split_lines(unlabelled, registry.settings)]
        result = distill(registry, target_lang, parse_temperatures(temperatures, registry.settings), _seed(seed),
                         int(n_gold or 0), texts, student_kind=student, progress=progress_callback(progress))
        return (fig.distill_figure(result), fig.distill_markdown(result), fig.distill_table(result),
                fig.distill_p_at_1_figure(result), result.to_dict())

    return on_distill_run
