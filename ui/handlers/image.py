"""Image tab handlers."""
from __future__ import annotations

import gradio as gr

from backend.capabilities.captioning import analyse_image
from backend.capabilities.image_reading import read_image
from ui.errors import progress_callback, user_facing
from ui.figures import image as fig
from ui.figures.nearest import nearest_table
from ui.zerogpu import gpu


def make_image_handler(registry):
    @gpu
    @user_facing
    def on_image_ocr(image, sentences=None, languages=None, progress=gr.Progress()):
        reading = read_image(registry, image, sentences, languages or None, progress=progress_callback(progress))
        return (
            fig.reading_markdown(reading),
            fig.annotated_picture(reading),
            reading.text,
            fig.nearest_by_source(reading),
            fig.similarity_by_source(reading),
            reading.to_dict(),
        )

    return on_image_ocr


def make_caption_handler(registry):
    """The older caption-only endpoint (``/caption``), kept for API clients."""
    @gpu
    @user_facing
    def on_image_caption(image, sentences=None, languages=None, progress=gr.Progress()):
        analysis = analyse_image(registry, image, sentences, languages or None,
                                 progress=progress_callback(progress))
        return (
            fig.caption_markdown(analysis),
            nearest_table(analysis.hits),
            fig.caption_similarity_table(analysis.similarity),
            analysis.to_dict(),
        )

    return on_image_caption
