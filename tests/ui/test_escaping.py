"""ui.escaping: what reaches HTML, Markdown and Plotly labels is inert and reads as typed."""
import html
import re

import pytest

from ui.escaping import code_span, escape_html, escape_markdown, escape_plotly, isolated_markdown

NASTY = ["<img src=x onerror=alert(1)>", "a & b", 'say "hi"', "it's", "`tick`", "``", "a`b``c", "**bold** _i_",
         "[x](javascript:alert(1))", "line1\nline2", "%{x} %{text}", "plain"]


@pytest.mark.parametrize("text", NASTY)
def test_html_escape_round_trips_and_leaves_no_tag(text):
    out = escape_html(text)
    assert "<" not in out and ">" not in out and '"' not in out
    assert html.unescape(out) == text


@pytest.mark.parametrize("text", NASTY)
def test_markdown_escape_leaves_no_markup_and_one_line(text):
    out = escape_markdown(text)
    assert "<" not in out and "\n" not in out
    # every Markdown punctuation mark is backslashed; undoing that and the entities gives the text back
    assert html.unescape(re.sub(r"\\(.)", r"\1", out)) == text.replace("\n", " ")


@pytest.mark.parametrize("text", NASTY + ["لديّ اجتماع مع مديري", "</bdi><b>x</b>"])
def test_isolated_markdown_is_one_isolate_around_the_escaped_text(text):
    out = isolated_markdown(text)
    assert out == f"<bdi>{escape_markdown(text)}</bdi>"
    assert out.count("<") == 2 and out.count(">") == 2  # only the isolate's own tags: the text cannot close it


def _code_span_content(span: str) -> str:
    """The content of a CommonMark code span: strip the fences and one pad space each side."""
    fence = re.match(r"`+", span).group(0)
    assert span.endswith(fence) and len(span) > 2 * len(fence)
    inner = span[len(fence):-len(fence)]
    if inner.startswith(" ") and inner.endswith(" ") and inner.strip():
        inner = inner[1:-1]
    return inner


@pytest.mark.parametrize("text", NASTY)
def test_code_span_cannot_be_closed_early_by_backticks(text):
    span = code_span(text)
    fence = re.match(r"`+", span).group(0)
    inner = span[len(fence):-len(fence)]
    # no run of backticks inside is as long as the fence, so only the final fence closes the span
    assert all(len(run) != len(fence) for run in re.findall(r"`+", inner))
    assert "\n" not in span
    assert _code_span_content(span) == text.replace("\n", " ")


def test_code_span_examples():
    assert code_span("m1") == "`m1`"
    assert code_span("a`b") == "``a`b``"
    assert code_span("`x`") == "`` `x` ``"
    assert code_span("a``b`c") == "```a``b`c```"
    assert code_span("") == ""


@pytest.mark.parametrize("text", NASTY)
def test_plotly_escape_uses_only_entities_plotly_decodes(text):
    out = escape_plotly(text)
    assert "<" not in out and ">" not in out
    # Plotly decodes &amp; &lt; &gt; and numeric entities, not &quot; or &#x27;
    assert "&quot;" not in out and "&#x27;" not in out
    decoded = out.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert decoded == text


def test_plotly_template_escape_stops_substitution():
    out = escape_plotly("%{x}<b>", template=True)
    assert "%{" not in out and out == "%&#123;x}&lt;b&gt;"
