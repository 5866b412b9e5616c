"""One error family for everything a user can cause.

Each message says what was wrong and what to do about it; the UI shows it verbatim
(``ui.errors.user_facing`` is the one place that turns these into ``gr.Error``).
"""


class BackendError(Exception):
    """Base class: a problem the user can fix or must know about."""


class InvalidInput(BackendError):
    """The input is malformed: empty, binary, unparsable, wrong shape."""


class LimitExceeded(BackendError):
    """The input is well-formed but over a configured cap."""


class ModelUnavailable(BackendError):
    """A model id is not allowed, or it could not be loaded (e.g. no network for a Hub id)."""


def model_load_failed(model_id: str, source: str, exc: BaseException, alternative: str) -> ModelUnavailable:
    """The error for a model whose files could not be fetched or read. ``source`` is a Hub id, a
    local directory or "packaged:<module>"; ``alternative`` says what works instead."""
    from pathlib import Path

    local = source.startswith("packaged:") or Path(source).expanduser().exists()
    if local:
        return ModelUnavailable(f"Could not load {model_id!r} from {source!r} ({type(exc).__name__}): its files "
                                f"are missing or unreadable. {alternative}")
    return ModelUnavailable(
        f"Could not load {model_id!r}: it could not be downloaded from the Hugging Face Hub or read from the "
        f"local cache ({type(exc).__name__}). Hub models need network access on first use (unset "
        f"HF_HUB_OFFLINE) or a local copy. {alternative}"
    )
