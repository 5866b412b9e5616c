"""The Sentiment tab: negative / neutral / positive for sentences in any language, against VADER."""
from __future__ import annotations

import gradio as gr

from backend.core.catalogue import SENTIMENT_BASELINE
from backend.core.settings import REPO_ROOT
from backend.data.labelled_sets import bundled_eval_set
from ui.figures.sentiment import EVAL_COLUMNS, SENTIMENT_COLUMNS
from ui.handlers.sentiment import NO_BASELINE, make_sentiment_eval_handler, make_sentiment_handler
from ui.tabs import model_choices

EXPLANATION = (REPO_ROOT / "docs" / "tabs" / "sentiment.md").read_text(encoding="utf-8")
EXAMPLE_MEANINGS = ("s001", "s017", "s033", "s009")  # negative, neutral, positive, negative (a negation)


def example_text() -> str:
    """Four meanings of the labelled set in all its languages, as ``id|lang|text`` lines."""
    data = bundled_eval_set()
    return "\n".join(f"{i}|{lang}|{text}" for m in EXAMPLE_MEANINGS
                     for i, lang, text in zip(data.ids, data.langs, data.texts) if i == m)


def render_sentiment_tab(registry) -> None:
    settings = registry.settings
    models = model_choices(settings, "sentiment")
    with gr.Tab("Sentiment", id="sentiment"):
        with gr.Row():
            with gr.Column(scale=3):
                text = gr.Textbox(
                    label="Sentences for sentiment, one per line",
                    lines=10, max_lines=30, elem_id="sentiment-input",
                    placeholder="I loved every minute of it.\nDer Film war eine einzige Enttäuschung.\n"
                                "m1|fr|Le service était impeccable.\nm1|es|El servicio fue impecable.",
                    info=f"1 to {settings.limits.max_sentences} lines. `xx: ` sets the language; "
                         "`id|lang|text` also groups translations of one meaning.",
                )
                example = gr.Button("Example: 4 meanings × 8 languages", size="sm", elem_id="sentiment-example")
            with gr.Column(scale=2):
                model = gr.Dropdown(models, value=settings.default_model("sentiment"), label="Sentiment model",
                                    elem_id="sentiment-model", allow_custom_value=True)
                baseline = gr.Dropdown(models + [("No baseline", NO_BASELINE)], value=SENTIMENT_BASELINE,
                                       label="Baseline column", elem_id="sentiment-baseline", allow_custom_value=True)
                run = gr.Button("Classify sentiment", variant="primary", elem_id="sentiment-run")
                gr.Markdown(EXPLANATION, elem_id="sentiment-explanation")
        chart = gr.Plot(label="Probabilities", elem_id="sentiment-chart")
        table = gr.Dataframe(label="Labels (with the baseline's)", elem_id="sentiment-table", wrap=True,
                             max_height=420, headers=SENTIMENT_COLUMNS)
        consistency = gr.Markdown(elem_id="sentiment-consistency")
        with gr.Accordion("JSON (the API's answer)", open=False):
            payload = gr.JSON(label="sentiment", elem_id="sentiment-json")
        gr.Markdown("### Accuracy on the labelled set\n48 meanings × 8 languages, 16 per label, written by us "
                    "(`assets/sentiment_eval.tsv`), with idioms and negations.")
        evaluate = gr.Button("Evaluate every model", elem_id="sentiment-evaluate")
        eval_plot = gr.Plot(label="Accuracy per language", elem_id="sentiment-eval-chart")
        eval_table = gr.Dataframe(label="Accuracy per language (n, 95% Wilson interval)",
                                  elem_id="sentiment-eval-table", max_height=420,
                                  headers=EVAL_COLUMNS)
        with gr.Accordion("JSON (evaluation)", open=False):
            eval_payload = gr.JSON(label="sentiment_eval", elem_id="sentiment-eval-json")

        example.click(example_text, outputs=text, api_visibility="private", queue=False)
        run.click(make_sentiment_handler(registry), inputs=[text, model, baseline],
                  outputs=[chart, table, consistency, payload], api_name="sentiment")
        evaluate.click(make_sentiment_eval_handler(registry), inputs=None,
                       outputs=[eval_plot, eval_table, eval_payload], api_name="sentiment_eval")
