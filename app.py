"""Babelscope: look inside cross-lingual models. `make run`, or `python app.py`."""
from backend.registry import build_registry

registry = build_registry()  # loads nothing: models load on first use
WARM_UP = __name__ == "__main__" and registry.settings.warm_up  # BABELSCOPE_WARMUP=0: all on first use

if WARM_UP:
    # The language detector's worker processes start first thing, before Gradio is imported: Lingua's
    # quick mode answers within a second, and its full model builds (10-15 s) on the other core.
    registry.warm_up()

from ui.layout import build_app, launch_options, queue_options, server_options  # noqa: E402

demo = build_app(registry)

if __name__ == "__main__":
    if WARM_UP:
        # The Similarity tab's two default models load while the server starts (loading them during
        # the imports above fought those for the interpreter and came later overall).
        registry.warm_up((registry.settings.default_model("embeddings"), registry.settings.contrast_model()))
    # GRADIO_SERVER_NAME / GRADIO_SERVER_PORT choose where (docs/deploy.md)
    demo.queue(**queue_options(registry.settings)).launch(**server_options(), **launch_options(registry.settings))
