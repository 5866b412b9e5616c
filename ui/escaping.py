"""Every user string that reaches HTML, Markdown or a Plotly label goes through one of these.

- ``escape_html``: text inside HTML.
- ``escape_markdown``: literal text inside Gradio Markdown (``& < >`` as entities, then Markdown
  punctuation backslashed, on one line).
- ``code_span``: a Markdown code span that no backtick in the text can close early.
- ``isolated_markdown``: a user's sentence inside Markdown prose, escaped and in a ``<bdi>``, so an
  Arabic or Hebrew sentence keeps its own direction and does not reorder the words around it.
- ``escape_plotly``: Plotly titles, axis and tick labels, legend names and hover text. Plotly
  renders a subset of HTML there (``<b>``, ``<br>``, ``<a href>``, ...) and decodes only a few named
  entities (``&lt;`` ``&gt;`` ``&amp;``, not ``&quot;``) and numeric ones, so ``html.escape`` would show
  a quote as ``&quot;``.
"""
from __future__ import annotations

import html
import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")
_BACKTICKS = re.compile(r"`+")


def escape_html(text: str) -> str:
    return html.escape(str(text), quote=True)


def escape_markdown(text: str) -> str:
    """Literal text inside Markdown: ``&``, ``<``, ``>`` as entities, then Markdown punctuation
    backslashed. Quotes stay as they are: ``&#x27;`` would have its ``#`` backslashed and show as typed."""
    text = html.escape(str(text), quote=False)
    return _MD_SPECIAL.sub(r"\\\1", text).replace("\r", " ").replace("\n", " ")


def isolated_markdown(text: str) -> str:
    """``escape_markdown(text)`` as a bidirectional isolate: ``<bdi>`` (HTML5) takes its direction from
    its first strong character, like ``dir="auto"``, and neither takes nor gives direction to what is
    beside it. Without it "13·en “I have a meeting” ↔ 17·ar “لديّ اجتماع”; 1·en ..." shows the Arabic,
    its closing quote, the separator and the next pair's number reordered as one right-to-left run."""
    return f"<bdi>{escape_markdown(text)}</bdi>"


def code_span(text: str) -> str:
    """``text`` as a Markdown code span (CommonMark): fenced by one backtick more than the longest
    run of backticks inside it, padded with a space where it starts or ends with a backtick, and on
    one line (a blank line would end the paragraph, and the span with it). Not HTML-escaped: Gradio's
    Markdown (marked) escapes a code span's content itself, so ``&lt;`` there would show as typed,
    and ``<b>`` shows literally (checked in tests/e2e/test_escaping_page.py)."""
    text = " ".join(str(text).splitlines())
    if not text:
        return ""
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(text)), default=0) + 1)
    pad = " " if text[0] == "`" or text[-1] == "`" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def escape_plotly(text: str, template: bool = False) -> str:
    """Literal text in a Plotly label or hover text: ``&``, ``<`` and ``>`` as entities Plotly decodes.

    ``template``: the text goes into a ``hovertemplate``/``texttemplate``, where ``%{...}`` would be
    substituted: its brace is written as a numeric entity, which Plotly decodes after substitution."""
    text = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("%{", "%&#123;") if template else text
