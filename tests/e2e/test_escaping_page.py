"""ui.escaping in a real browser: Gradio's Markdown and Plotly show hostile text exactly as typed,
and nothing typed becomes an element. A small page of its own (no model), so it takes seconds."""
import plotly.graph_objects as go
import pytest
from playwright.sync_api import Page, expect

from tests.support.network import free_port
from ui.escaping import code_span, escape_markdown, escape_plotly

pytestmark = pytest.mark.browser

TEXTS = ["it's \"quoted\" & <b>bold</b>", "<img src=x onerror=alert(1)>", "**not bold** [l](javascript:alert(2))"]
IDS = ["m`1", "``m2", "<i>m3</i> & co"]


@pytest.fixture(scope="module")
def escaping_page_url():
    import gradio as gr

    md = "\n\n".join([f"TEXT{i}: {escape_markdown(t)} END" for i, t in enumerate(TEXTS)]
                     + [f"ID{i}: {code_span(m)} END" for i, m in enumerate(IDS)])
    labels = [escape_plotly(t) for t in TEXTS]
    fig = go.Figure(go.Bar(x=labels, y=[1, 2, 3], hovertext=labels, hoverinfo="text"))
    fig.update_layout(title=dict(text=escape_plotly(TEXTS[0])))
    with gr.Blocks() as demo:
        gr.Markdown(md, elem_id="escaping-markdown")
        gr.Plot(fig, elem_id="escaping-plot")
    demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True)
    yield demo.local_url
    demo.close()


def test_markdown_and_plotly_show_text_as_typed(page: Page, escaping_page_url):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(escaping_page_url)
    md = page.locator("#escaping-markdown")
    expect(md).to_contain_text("ID2:")
    shown = md.inner_text()
    for i, text in enumerate(TEXTS):
        assert f"TEXT{i}: {text} END" in shown, shown
    for i, meaning in enumerate(IDS):  # backticks in ids do not break the code span
        assert f"ID{i}: {meaning} END" in shown, shown
    assert md.locator("code").count() == len(IDS)
    assert md.locator("b, img, a, strong").count() == 0

    plot = page.locator("#escaping-plot .js-plotly-plot")
    expect(plot).to_be_visible(timeout=30_000)
    ticks = page.locator("#escaping-plot .xtick text").all_text_contents()
    assert ticks == TEXTS, ticks
    assert page.locator("#escaping-plot .gtitle").text_content() == TEXTS[0]
    page.wait_for_timeout(300)
    assert dialogs == [] and page.locator("img[src='x']").count() == 0
