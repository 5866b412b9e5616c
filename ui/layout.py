"""The app factory: ``build_app(registry) -> gr.Blocks``. Building it loads no model."""
from __future__ import annotations

import gradio as gr

from backend.config import Settings
from ui.tabs.similarity_tab import render_similarity_tab

CSS = """
.gradio-container { max-width: 1400px !important; }
#babelscope-header h1 { margin-bottom: 0; }
"""

HEADER = """# Babelscope
**Look inside cross-lingual models, without translating first.** Compare sentences across
languages and scripts and see what a multilingual model treats as "the same meaning".
"""


def build_app(registry) -> gr.Blocks:
    with gr.Blocks(title="Babelscope") as demo:
        gr.Markdown(HEADER, elem_id="babelscope-header")
        with gr.Tabs():
            render_similarity_tab(registry)
        gr.Markdown(
            f"Profile **{registry.settings.profile}** · models load on first use · "
            "[API](?view=api) · source and docs in the repository README",
            elem_id="babelscope-footer",
        )
    return demo


def queue_options(settings: Settings) -> dict:
    return {"max_size": settings.queue_max_size, "default_concurrency_limit": settings.concurrency_limit}


def launch_options(settings: Settings) -> dict:
    """Shared by app.py and the tests, so both serve the same app."""
    return {
        "theme": gr.themes.Soft(),
        "css": CSS,
        "max_file_size": settings.limits.max_upload_bytes,
        "ssr_mode": False,
        "show_error": True,
    }
