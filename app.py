"""Babelscope: look inside cross-lingual models. `make run`, or `python app.py`."""
from backend.registry import build_registry
from ui.layout import build_app, launch_options, queue_options, server_options

registry = build_registry()  # loads nothing: models load on first use
demo = build_app(registry)

if __name__ == "__main__":
    settings = registry.settings
    # The Similarity tab's two default models and the language detector, loaded in the background while
    # the server starts (a worker process builds Lingua's models on the other core): the first answer
    # then waits on none of them. Set BABELSCOPE_WARMUP=0 to load everything on first use instead.
    if settings.warm_up:
        registry.warm_up((settings.default_model("embeddings"), settings.contrast_model()))
    # GRADIO_SERVER_NAME / GRADIO_SERVER_PORT choose where (docs/deploy.md)
    demo.queue(**queue_options(settings)).launch(**server_options(), **launch_options(settings))
