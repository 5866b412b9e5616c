"""Sentiment tab handlers."""
from __future__ import annotations

import gradio as gr

from backend.sentiment import bundled_eval_set, evaluate_models, sentiment_from_text
from ui import formatting as fmt
from ui.errors import progress_callback, user_facing
from ui.zerogpu import gpu

NO_BASELINE = "none"


def make_sentiment_handler(registry):
    @gpu
    @user_facing
    def on_sentiment_classify(text, model, baseline, progress=gr.Progress()):
        baseline = None if not baseline or baseline == NO_BASELINE else baseline
        result = sentiment_from_text(text, registry, model, baseline, progress_callback(progress))
        return (
            fmt.sentiment_bar_chart(result),
            fmt.sentiment_table(result),
            fmt.sentiment_consistency_markdown(result),
            fmt.sentiment_json(result),
        )

    return on_sentiment_classify


def make_sentiment_eval_handler(registry):
    @gpu(duration=120)
    @user_facing
    def on_sentiment_evaluate(progress=gr.Progress()):
        model_ids = [spec.id for spec in registry.settings.allowed("sentiment")]
        evaluations = evaluate_models(registry, model_ids, progress=progress_callback(progress))
        data = bundled_eval_set()
        return (fmt.sentiment_eval_figure(evaluations), fmt.sentiment_eval_table(evaluations),
                fmt.sentiment_eval_json(evaluations, data.name))

    return on_sentiment_evaluate


