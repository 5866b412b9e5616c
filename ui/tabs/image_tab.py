"""The Image tab: caption a picture, then compare the caption across languages."""
from __future__ import annotations

import gradio as gr

from backend.config import REPO_ROOT
from backend.errors import ModelUnavailable
from ui.formatting import escape_markdown
from ui.handlers.image import make_image_handler
from ui.tabs.speech_tab import language_filter

EXPLANATION = (REPO_ROOT / "docs" / "tabs" / "image.md").read_text(encoding="utf-8")


class UploadedImage(gr.Image):
    """gr.Image that hands the handler the uploaded file's path without opening it.

    Stock gr.Image opens every upload with Pillow before the handler runs, so a corrupt file or a
    decompression bomb fails inside Gradio with a message we do not control. backend.captioning
    decodes it instead, with the configured pixel cap. ``is_template`` keeps the stock front end.
    """

    is_template = True

    def preprocess(self, payload):
        if payload is None or (payload.url and payload.url.startswith("data:")):
            return super().preprocess(payload)
        return str(payload.path)


def caption_status(settings) -> str:
    """Which captioning model is configured, or plainly how to enable one."""
    try:
        model = settings.default_model("captioning")
    except ModelUnavailable as exc:
        return f"⚠️ **Captioning is off.** {escape_markdown(str(exc))} The other tabs work without it."
    return f"Captioning model: **{model}** (loads on first use)."


def render_image_tab(registry) -> None:
    settings = registry.settings
    with gr.Tab("Image", id="image"):
        gr.Markdown(caption_status(settings), elem_id="image-status")
        with gr.Row():
            with gr.Column(scale=3):
                image = UploadedImage(type="filepath", sources=["upload", "clipboard"], elem_id="image-input",
                                      label=f"Image (up to {settings.limits.max_image_pixels / 1e6:.0f} megapixels)")
                sentences = gr.Textbox(label="Sentences to compare with the caption, one per line, any languages",
                                       lines=4, elem_id="image-sentences",
                                       placeholder="Ein Hund liegt auf dem Sofa.\nUn chat dort au soleil.")
                languages = language_filter("image-languages")
                run = gr.Button("Caption and compare", variant="primary", elem_id="image-run")
            with gr.Column(scale=2):
                gr.Markdown(EXPLANATION, elem_id="image-explanation")
        caption = gr.Markdown(elem_id="image-caption")
        with gr.Row():
            hits = gr.Dataframe(label="Nearest corpus sentences in other languages", elem_id="image-hits", wrap=True)
            similar = gr.Dataframe(label="Your sentences against the caption", elem_id="image-similarity", wrap=True)
        with gr.Accordion("JSON (the API's answer)", open=False):
            payload = gr.JSON(label="caption", elem_id="image-json")
        run.click(make_image_handler(registry), inputs=[image, sentences, languages],
                  outputs=[caption, hits, similar, payload], api_name="caption")
