"""Babelscope: look inside cross-lingual models. `make run`, or `python app.py`."""
from backend.registry import build_registry
from ui.layout import build_app, launch_options, queue_options

registry = build_registry()  # loads nothing: models load on first use
demo = build_app(registry)

if __name__ == "__main__":
    demo.queue(**queue_options(registry.settings)).launch(
        server_port=7860, **launch_options(registry.settings)
    )
