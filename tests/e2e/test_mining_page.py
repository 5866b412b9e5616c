"""The Mining tab, as a person uses it in Chromium: load the example, mine, read the pairs."""
import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_mining_tab_mines_the_bundled_example(page: Page, app_url, screenshots_dir):
    page.goto(app_url)
    page.get_by_role("tab", name="Mining").click()
    page.get_by_role("button", name="Load the bundled example").click()
    expect(page.locator("#mining-gold")).to_contain_text("example-gold-fr-zh", timeout=60_000)
    page.get_by_role("button", name="Mine translations").click()
    summary = page.locator("#mining-summary")
    expect(summary).to_contain_text("best F1", timeout=240_000)
    expect(summary).to_contain_text("(auto: ")  # the threshold picked without gold, and how
    expect(summary).to_contain_text("Time: read the files")
    expect(summary).not_to_contain_text("0.00 s")  # stage times below a second are shown in ms
    expect(summary).to_contain_text(re.compile("embedding engine|read from the vector store"))
    expect(page.locator("#mining-pairs")).to_contain_text("✓")
    expect(page.locator("#mining-histogram .js-plotly-plot")).to_be_visible(timeout=60_000)
    expect(page.locator("#mining-histogram")).to_contain_text("threshold")
    expect(page.locator("#mining-curve")).to_contain_text("best F1", timeout=60_000)
    expect(page.locator("#mining-tmx")).to_contain_text("pairs-fr-zh")
    page.screenshot(path=str(screenshots_dir / "mining.png"), full_page=True)
