"""Tables as a person sees them in Chromium, before any run and on a phone: the real column names
(not Gradio's placeholder "1 2 3"), no empty rows, the text font, and headers that wrap between
words, never inside one."""
import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

TABS = ("Similarity", "Search", "Diagnostics", "Mining", "Sentiment", "Labs", "Speech")

# Per visible table: its header texts, any body cells, the header's font, and every header word
# whose text runs over more than one line (measured with a Range over the word).
MEASURE = """root => [...root.querySelectorAll('.table-wrap')].filter(t => t.offsetParent !== null).map(t => {
  const broken = [];
  for (const th of t.querySelectorAll('th')) {
    const walker = document.createTreeWalker(th, NodeFilter.SHOW_TEXT);
    for (let node; (node = walker.nextNode());) {
      for (const m of node.data.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(node, m.index); range.setEnd(node, m.index + m[0].length);
        const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
        if (tops.size > 1) broken.push(m[0]);
      }
    }
  }
  const th = t.querySelector('th .header') || t.querySelector('th');
  return {id: t.closest('[id]') ? t.closest('[id]').id : '', headers: [...t.querySelectorAll('th')].map(h => h.innerText.trim()),
          bodyCells: t.querySelectorAll('.body-cell').length, font: th ? getComputedStyle(th).fontFamily : '',
          wordBreak: th ? getComputedStyle(th).wordBreak : '', broken};
})"""


def open_tab(page: Page, name: str) -> None:
    """Click a tab by its label; on a phone most tabs sit behind Gradio's "More tabs" menu."""
    expect(page.get_by_role("tab").first).to_be_visible()
    tab = page.get_by_role("tab", name=name)
    if tab.count():
        tab.first.click()
        return
    page.get_by_role("button", name="More tabs").click()
    page.locator(".overflow-dropdown button").filter(has_text=name).first.click()


@pytest.mark.parametrize("width", [1280, 390])
def test_empty_tables_show_their_columns_in_the_text_font_and_whole_words(page: Page, app_url, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(app_url)
    seen = 0
    for tab in TABS:
        open_tab(page, tab)
        # the tab's own tables (the other tabs' are hidden)
        page.wait_for_function("[...document.querySelectorAll('.table-wrap')].some(t => t.offsetParent !== null)")
        for table in page.locator("body").evaluate(MEASURE):
            seen += 1
            headers = [h for h in table["headers"] if h]
            assert headers and not all(h.isdigit() for h in headers), (tab, table)  # not "1 2 3"
            assert table["bodyCells"] == 0, (tab, table)  # no placeholder rows
            assert "Mono" not in table["font"] and "monospace" not in table["font"], (tab, table)
            assert table["wordBreak"] != "break-all" and table["broken"] == [], (tab, width, table)
    assert seen >= 11  # 1 + 1 + 3 + 1 + 2 + 1 + 2
