"""Image tab handlers."""
from __future__ import annotations

import gradio as gr

from backend.captioning import analyse_image
from ui import formatting as fmt
from ui.errors import progress_callback, user_facing
from ui.zerogpu import gpu


def make_image_handler(registry):
    @gpu
    @user_facing
    def on_image_caption(image, sentences, languages, progress=gr.Progress()):
        analysis = analyse_image(registry, image, sentences, languages or None,
                                 progress=progress_callback(progress))
        return (
            fmt.caption_markdown(analysis),
            fmt.nearest_table(analysis.hits),
            fmt.caption_similarity_table(analysis.similarity),
            fmt.caption_json(analysis),
        )

    return on_image_caption
