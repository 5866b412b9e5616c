"""Short labels shared by the tabs' figures and tables."""
from __future__ import annotations

from backend.models.language_id import language_name


def shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def language_label(code: str) -> str:
    """"fr (French)"; the code alone when CLDR has no name for it."""
    name = language_name(code)
    return code if name == code else f"{code} ({name})"
