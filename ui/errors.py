"""The one place where backend errors become what the user sees."""
from __future__ import annotations

import functools
import logging

import gradio as gr

from backend.core.errors import BackendError

log = logging.getLogger("babelscope")


def as_toast_text(message: str) -> str:
    """The browser's toast renders a message as HTML, and messages quote the user's input: "<"
    becomes "&lt;", so "<img src=x onerror=…>" is shown as text and never becomes an element.
    Only "<" can open a tag; "> 0" and quotes stay as they are for API clients."""
    return message.replace("<", "&lt;")


def user_facing(fn):
    """BackendError -> gr.Error with its specific message; anything else is logged with its
    traceback and shown as a generic error, so the server keeps serving."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except BackendError as exc:
            raise gr.Error(as_toast_text(str(exc)), print_exception=False) from exc
        except Exception as exc:  # noqa: BLE001 - the UI must survive any bug
            log.exception("unexpected error in %s", fn.__name__)
            raise gr.Error(
                f"Something went wrong inside Babelscope ({type(exc).__name__}). "
                "It was logged; try again, or report it with the input that caused it.",
                print_exception=False,
            ) from exc

    return wrapper


def progress_callback(progress: gr.Progress):
    """Adapt gr.Progress to the backend's plain ``(fraction, description)`` callback."""
    return lambda fraction, desc: progress(fraction, desc=desc)
