"""The Image tab: read the text in a picture (OCR, offline) and caption it when a model is
configured, then compare both across languages."""
from __future__ import annotations

import gradio as gr

from backend.core.errors import ModelUnavailable
from backend.core.settings import REPO_ROOT
from scripts.render_image_examples import EXAMPLES, EXAMPLES_DIR
from ui.escaping import escape_markdown
from ui.figures.image import NEAREST_BY_SOURCE_COLUMNS, SCRIPT_LIMIT, SIMILARITY_COLUMNS
from ui.handlers.image import make_caption_handler, make_image_handler
from ui.tabs.speech_tab import language_filter

EXPLANATION = (REPO_ROOT / "docs" / "tabs" / "image.md").read_text(encoding="utf-8")
# What each example is, and a sentence to compare with it (a translation, in another language).
EXAMPLE_LABELS = {"sign_zh.png": ("A sign in Chinese", "Our chemistry class starts in five minutes."),
                  "menu_ja.png": ("A menu in Japanese", "Le thé est gratuit."),
                  "notice_de.png": ("A notice in German", "The lift is out of order today."),
                  "poster_mixed.png": ("A poster in five languages", "Journée portes ouvertes à la bibliothèque"),
                  "sign_five.png": ("One notice, five languages", "Closed on Mondays.")}


class UploadedImage(gr.Image):
    """gr.Image that hands the handler the uploaded file's path without opening it.

    Stock gr.Image opens every upload with Pillow before the handler runs, so a corrupt file or a
    decompression bomb fails inside Gradio with a message we do not control. backend.data.images
    decodes it instead, with the configured pixel cap. ``is_template`` keeps the stock front end.
    """

    is_template = True

    def preprocess(self, payload):
        if payload is None or (payload.url and payload.url.startswith("data:")):
            return super().preprocess(payload)
        return str(payload.path)


def caption_status(settings) -> str:
    """What reads the picture: OCR always; which captioning model, or calmly how to enable one."""
    ocr = f"Text in pictures is read offline by PP-OCRv5. {escape_markdown(SCRIPT_LIMIT)}"
    try:
        model = settings.default_model("captioning")
    except ModelUnavailable as exc:
        return f"{ocr}\n\nℹ️ **Captioning is off**: the text is still read. {escape_markdown(str(exc))}"
    return f"{ocr}\n\nCaptioning model: **{escape_markdown(model)}** (loads on first use)."


def render_image_tab(registry) -> None:
    settings = registry.settings
    with gr.Tab("Image", id="image"):
        gr.Markdown(caption_status(settings), elem_id="image-status")
        # Outputs are built first (unrendered) so that the examples can sit beside the inputs.
        message = gr.Markdown(elem_id="image-message", render=False)
        boxes = gr.AnnotatedImage(label="Text found in the picture", elem_id="image-boxes", format="png",
                                  render=False)
        text = gr.Textbox(label="Text read from the picture (withheld lines are left out)", lines=6,
                          interactive=False, elem_id="image-text", render=False)
        hits = gr.Dataframe(label="Nearest corpus sentences in other languages", elem_id="image-hits", wrap=True,
                            headers=NEAREST_BY_SOURCE_COLUMNS, render=False)
        similar = gr.Dataframe(label="Your sentences against the picture's text", elem_id="image-similarity",
                               wrap=True, headers=SIMILARITY_COLUMNS, render=False)
        payload = gr.JSON(label="ocr", elem_id="image-json", render=False)
        outputs = [message, boxes, text, hits, similar, payload]
        handler = make_image_handler(registry)
        with gr.Row():
            with gr.Column(scale=3):
                image = UploadedImage(type="filepath", sources=["upload", "clipboard"], elem_id="image-input",
                                      format="png",
                                      label=f"Image (up to {settings.limits.max_image_pixels / 1e6:.0f} megapixels)")
                sentences = gr.Textbox(label="Sentences to compare with the picture's text, one per line, any languages",
                                       lines=3, elem_id="image-sentences", value="",
                                       placeholder="Ein Hund liegt auf dem Sofa.\nUn chat dort au soleil.")
                gr.Examples([[str(EXAMPLES_DIR / name), EXAMPLE_LABELS[name][1]] for name, *_ in EXAMPLES],
                            inputs=[image, sentences], outputs=outputs, fn=handler, run_on_click=True,
                            cache_examples=False, api_visibility="private", elem_id="image-examples",
                            example_labels=[EXAMPLE_LABELS[name][0] for name, *_ in EXAMPLES],
                            label="Examples: click one to read it (rendered by scripts/render_image_examples.py)")
                languages = language_filter("image-languages")
                run = gr.Button("Read and compare", variant="primary", elem_id="image-run")
            with gr.Column(scale=2):
                gr.Markdown(EXPLANATION, elem_id="image-explanation")
        message.render()
        with gr.Row():
            boxes.render()
            text.render()
        with gr.Row():
            hits.render()
            similar.render()
        with gr.Accordion("JSON (the API's answer)", open=False):
            payload.render()

        run.click(handler, inputs=[image, sentences, languages], outputs=outputs, api_name="ocr")
        # The caption-only endpoint of the first release, for API clients: no button of its own.
        caption_only = gr.Button(visible=False, elem_id="image-caption-api")
        caption_only.click(make_caption_handler(registry), inputs=[image, sentences, languages],
                           outputs=[message, hits, similar, payload], api_name="caption")
