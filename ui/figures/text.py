"""Short labels shared by the tabs' figures and tables."""
from __future__ import annotations

from backend.models.language_id import language_name


def shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def language_label(code: str) -> str:
    """"fr (French)"; the code alone when CLDR has no name for it."""
    name = language_name(code)
    return code if name == code else f"{code} ({name})"


def language_code(code: str | None, uncertain: bool = False) -> str:
    """"en", or "en?" when language ID was not sure (below its calibrated threshold): for tables and
    plot ticks, where there is no hover."""
    if code is None:
        return ""
    return f"{code}?" if uncertain else code


def language_tag(code: str | None, probability: float | None, uncertain: bool) -> str:
    """Markdown-safe HTML: the code (``xx?`` when uncertain) with language ID's confidence on hover."""
    from ui.escaping import escape_html

    if code is None:
        return ""
    hint = f"{language_name(code)}: language ID confidence {probability:.2f}" if probability is not None else code
    if uncertain:
        hint += " (uncertain: start the line with “" + code + ": ” or another code to set it)"
    return f'<span class="lang-tag" title="{escape_html(hint)}">{escape_html(language_code(code, uncertain))}</span>'


def uncertain_note(tags: list[tuple[int, str, float, bool]]) -> str:
    """A Markdown paragraph naming the uncertain labels, (number, code, probability, uncertain) per
    sentence, and how to set a language; "" when none is uncertain."""
    shown = [f"{n}·{language_tag(code, p, True)}" for n, code, p, uncertain in tags if uncertain]
    if not shown:
        return ""
    return (f"**Uncertain language labels** ({len(shown)} of {len(tags)}, shown as `xx?`; hover for the "
            f"confidence): {', '.join(shown)}. Short lines are hard to identify: start a line with a code and a "
            "colon (`en: `, `cy: `) to set its language.\n\n")
