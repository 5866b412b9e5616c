"""The app factory: ``build_app(registry) -> gr.Blocks``. Building it loads no model."""
from __future__ import annotations

import os
from typing import Mapping

# Gradio's queue re-summarises its monitoring records (up to 10,000 past events, in a pandas groupby)
# after every event by default: measured here, a fifth of a warm Similarity answer's server time, and
# growing with uptime. Every 100 events is enough for the /monitoring page. Read when the Blocks
# are built, so this has to be set before build_app; an operator's own value wins.
os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "100")

import gradio as gr  # noqa: E402

from backend.core.settings import Settings  # noqa: E402
from ui.handlers.corpus import make_corpus_handlers
from ui.tabs.alignment_tab import render_alignment_tab
from ui.tabs.diagnostics_tab import render_diagnostics_tab
from ui.tabs.features_tab import render_features_tab
from ui.tabs.image_tab import render_image_tab
from ui.tabs.labs_tab import render_labs_tab
from ui.tabs.languages_tab import render_languages_tab
from ui.tabs.layers_tab import render_layers_tab
from ui.tabs.map_tab import render_map_tab
from ui.tabs.mining_tab import render_mining_tab
from ui.tabs.search_tab import render_search_tab
from ui.tabs.sentiment_tab import render_sentiment_tab
from ui.tabs.similarity_tab import render_similarity_tab
from ui.tabs.speech_tab import render_speech_tab

CSS = """
.gradio-container { max-width: 1400px !important; }
#babelscope-header h1 { margin-bottom: 0; }
/* Tables in the text font: Gradio draws them (a header <table> over rows of <div>s) in its
   monospace, which doubles a sentence's width and has no glyphs for most scripts anyway. */
.gradio-container .table-wrap, .gradio-container .table-wrap * { font-family: var(--font) !important; }
/* Column headers wrap between words, never inside one ("acti-vation"): Gradio's wrap class breaks
   anywhere. On a narrow screen every column keeps room for a word and the table scrolls sideways.
   Gradio's CSS scoper mangles :is() lists, hence one selector per element. */
.table-wrap th .header, .table-wrap th .cell-wrap, .table-wrap th .header-content {
  word-break: normal !important; overflow-wrap: normal !important; hyphens: manual;
}
/* Each table cell and each line typed in a box takes its direction from its own first strong
   character (like dir="auto"): an Arabic line reads right to left, an English one beside it does not. */
.table-wrap .body-cell, .gradio-container textarea { unicode-bidi: plaintext; }
@media (max-width: 760px) {
  .table-wrap th, .table-wrap .body-cell { min-width: 6.5em !important; }
}
/* Markdown tables (the map's scores) break between words only, never inside "1,760" or "before",
   and scroll sideways when that leaves them wider than the screen. */
.prose table { display: block; max-width: 100%; overflow-x: auto; }
.prose td, .prose th { word-break: normal !important; overflow-wrap: normal !important; }
/* A phone (tests/e2e/test_phone_width.py, 390 px): each field of a row takes the whole width. Side
   by side, two or three fields got ~140 px each: a dropdown cut its value ("Bundled paralle"), a
   checkbox's label wrapped a word a line. */
@media (max-width: 640px) {
  .form > .block { min-width: 100% !important; }
}
"""

HEADER = """# Babelscope
**Look inside cross-lingual models, without translating first.** Compare sentences across
languages and scripts and see what a multilingual model treats as "the same meaning".
"""


def build_app(registry) -> gr.Blocks:
    # delete_cache: Gradio removes uploaded temp files periodically, so a public demo's disk stays bounded.
    with gr.Blocks(title="Babelscope", delete_cache=registry.settings.upload_cleanup_seconds) as demo:
        gr.Markdown(HEADER, elem_id="babelscope-header")
        with gr.Tabs():
            # Sentence-level views first, then corpus-level, then the experiments and other inputs.
            similarity_text = render_similarity_tab(registry)
            corpus_handlers = make_corpus_handlers(registry)
            search_corpus = render_search_tab(registry, corpus_handlers)
            render_map_tab(registry, similarity_text, search_corpus)
            render_diagnostics_tab(registry, corpus_handlers)
            render_mining_tab(registry)
            render_features_tab(registry, corpus_handlers)
            render_layers_tab(registry)
            render_alignment_tab(registry)
            render_languages_tab(registry)
            render_sentiment_tab(registry)
            render_labs_tab(registry)
            render_speech_tab(registry, similarity_text)
            render_image_tab(registry)
        gr.Markdown(
            f"Profile **{registry.settings.profile}** · models load on first use · "
            "[API](?view=api) · source and docs in the repository README",
            elem_id="babelscope-footer",
        )
    return demo


# Soft's own font (a bundled Montserrat) draws a capital E like the letter Ɛ (U+0190, used in
# Ewe, Akan, Dinka...): wrong for a tool about languages. Noto covers every script the app shows
# (the Makefile installs it for the browser tests); the rest are common system fallbacks.
TEXT_FONTS = ("Noto Sans", "Segoe UI", "Helvetica Neue", "Arial", "sans-serif")


DEFAULT_PORT = 7860


def server_options(env: Mapping[str, str] | None = None) -> dict:
    """Where app.py serves: Gradio's own GRADIO_SERVER_NAME and GRADIO_SERVER_PORT (docs/deploy.md),
    else 127.0.0.1:7860. The port is passed explicitly so a busy port fails loudly instead of Gradio
    quietly taking the next free one."""
    env = os.environ if env is None else env
    raw = (env.get("GRADIO_SERVER_PORT") or "").strip() or str(DEFAULT_PORT)
    try:
        port = int(raw)
    except ValueError as exc:
        raise ValueError(f"GRADIO_SERVER_PORT must be a port number, got {raw[:20]!r}") from exc
    if not 1 <= port <= 65535:
        raise ValueError(f"GRADIO_SERVER_PORT must be between 1 and 65535, got {port}")
    return {"server_name": (env.get("GRADIO_SERVER_NAME") or "").strip() or "127.0.0.1", "server_port": port}


def queue_options(settings: Settings) -> dict:
    return {"max_size": settings.queue_max_size, "default_concurrency_limit": settings.concurrency_limit}


def launch_options(settings: Settings) -> dict:
    """Shared by app.py and the tests, so both serve the same app."""
    return {
        "theme": gr.themes.Soft(font=TEXT_FONTS),
        "css": CSS,
        "max_file_size": settings.limits.max_upload_bytes,
        "ssr_mode": False,
        "show_error": True,
    }
