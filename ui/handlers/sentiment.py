"""Sentiment tab handlers."""
from __future__ import annotations

import gradio as gr

from backend.capabilities.sentiment import SentimentEvaluation, evaluate_models, sentiment_from_text
from backend.data.labelled_sets import bundled_eval_set
from ui.errors import progress_callback, user_facing
from ui.figures import sentiment as fig
from ui.figures.text import uncertain_note
from ui.zerogpu import gpu

NO_BASELINE = "none"


def make_sentiment_handler(registry):
    @gpu
    @user_facing
    def on_sentiment_classify(text, model, baseline, progress=gr.Progress()):
        baseline = None if not baseline or baseline == NO_BASELINE else baseline
        result = sentiment_from_text(text, registry, model, baseline, progress_callback(progress))
        return (
            fig.sentiment_bar_chart(result),
            fig.sentiment_table(result),
            uncertain_note([(i + 1, p.lang, p.lang_probability, p.lang_uncertain)
                            for i, p in enumerate(result.predictions)]) + fig.sentiment_consistency_markdown(result),
            result.to_dict(),
        )

    return on_sentiment_classify


def make_sentiment_eval_handler(registry):
    @gpu(duration=120)
    @user_facing
    def on_sentiment_evaluate(progress=gr.Progress()):
        model_ids = [spec.id for spec in registry.settings.allowed("sentiment")]
        evaluations = evaluate_models(registry, model_ids, progress=progress_callback(progress))
        report = SentimentEvaluation(bundled_eval_set().name, tuple(evaluations))
        return fig.sentiment_eval_figure(evaluations), fig.sentiment_eval_table(evaluations), report.to_dict()

    return on_sentiment_evaluate


