"""Numeric inputs that refuse a malformed value with a specific message.

Stock gr.Number and gr.Slider fail on a non-number from the API (``"abc"``, ``true``) inside
Gradio's preprocessing, with an internal message naming the handler. These check the type first
and raise gr.Error naming the field. ``is_template`` keeps the stock front end.
"""
from __future__ import annotations

import gradio as gr

from ui.errors import as_toast_text


def _check_number(component, payload):
    if payload is not None and (isinstance(payload, bool) or not isinstance(payload, (int, float))):
        message = f"{component.label or 'This field'} must be a number, got {str(payload)[:30]!r}."
        raise gr.Error(as_toast_text(message), print_exception=False)


class NumberInput(gr.Number):
    is_template = True

    def preprocess(self, payload):
        _check_number(self, payload)
        return super().preprocess(payload)


class SliderInput(gr.Slider):
    is_template = True

    def preprocess(self, payload):
        if payload is None:
            raise gr.Error(f"{self.label or 'This field'} needs a value between {self.minimum:g} and "
                           f"{self.maximum:g}.", print_exception=False)
        _check_number(self, payload)
        return super().preprocess(payload)
