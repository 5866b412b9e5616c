"""One module per tab; each renders its components and wires its events."""
from backend.data.corpus import BUNDLED_ID

UPLOAD_HINT = "An upload from the Search tab works too: paste its corpus_id."


def model_choices(settings, capability: str = "embeddings") -> list[tuple[str, str]]:
    """(label, id) pairs for a model dropdown: the profile's allow-list, nothing else."""
    return [(spec.label, spec.id) for spec in settings.allowed(capability)]


def corpus_dropdown(registry, tab: str, info: str | None = None):
    """The corpus picker of a corpus-level tab: the bundled and prepared corpora, and any pasted upload id
    (``allow_custom_value``), starting on the bundled corpus; ``elem_id`` is ``<tab>-corpus``."""
    import gradio as gr

    from ui.handlers.corpus import corpus_choices

    return gr.Dropdown(corpus_choices(registry), value=BUNDLED_ID, label="Corpus", elem_id=f"{tab}-corpus",
                       allow_custom_value=True, info=info)
