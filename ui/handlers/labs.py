"""Transfer lab and distillation lab handlers."""
from __future__ import annotations

import gradio as gr

from backend.capabilities.distillation import DEFAULT_STUDENT, distill, parse_temperatures
from backend.capabilities.labs import transfer_lab, transfer_to_dict
from backend.core.errors import InvalidInput
from backend.data.labelled_sets import load_labelled_upload
from backend.data.sentences import split_lines
from ui.errors import progress_callback, user_facing
from ui.figures import labs as fig
from ui.zerogpu import gpu

NO_COMPARISON = "none"


MAX_SEED = 2**32 - 1  # numpy and scikit-learn take seeds in [0, 2**32)


def _seed(value) -> int:
    try:
        seed = int(value if value not in (None, "") else 0)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidInput(f"The seed must be a whole number, got {str(value)[:20]!r}.") from exc
    if not 0 <= seed <= MAX_SEED:
        raise InvalidInput(f"The seed must be between 0 and {MAX_SEED:,}, got {seed:.3g}.")
    return seed


def make_transfer_handler(registry):
    @gpu(duration=120)
    @user_facing
    def on_transfer_run(upload=None, model=None, compare_with=NO_COMPARISON, train_lang="en", test_lang="de", seed=0,
                        progress=gr.Progress()):
        # Defaults for Python callers; the API's come from the components (README: /transfer).
        model = model or registry.settings.default_model("embeddings")
        data = load_labelled_upload(upload, registry.settings)
        model_ids = [model] + ([compare_with] if compare_with and compare_with not in (NO_COMPARISON, model) else [])
        results = transfer_lab(data, registry, model_ids, train_lang, test_lang, _seed(seed), progress_callback(progress))
        other = results[1] if len(results) > 1 else None
        return (
            fig.transfer_heatmap(results[0]),
            gr.update(value=fig.transfer_heatmap(other) if other else None, visible=bool(other)),
            fig.few_shot_figure(results),
            fig.transfer_markdown(results),
            transfer_to_dict(results),
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
