"""The Features tab as a person uses it in Chromium: four languages, the heatmap, a feature card."""
import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_features_tab_heatmap_and_card(page: Page, app_url, screenshots_dir):
    page.goto(app_url)
    page.get_by_role("tab", name="Features").click()
    page.get_by_label("Sentences to decompose, one per line, any languages").fill(
        "The children are playing in the park.\nDie Kinder spielen im Park.\n孩子们在公园里玩。\nLos niños juegan en el parque.")
    page.get_by_role("button", name="Show features").click()
    heatmap = page.locator("#features-heatmap")
    expect(heatmap.locator(".js-plotly-plot")).to_be_visible(timeout=300_000)
    expect(heatmap).to_contain_text("shared by 2+ languages")
    expect(page.locator("#features-shared")).to_contain_text("features shared across languages")
    expect(page.locator("#features-top")).to_contain_text("孩子们在公园里玩")
    # the card opens by itself on the strongest feature that is not dense, labelled by its keywords
    card = page.locator("#features-card")
    expect(card).to_contain_text("Keywords:", timeout=120_000)
    expect(card).not_to_contain_text("**dense**")
    assert page.get_by_label("Feature id").input_value().isdigit()

    # clicking a column of the heatmap opens that feature's card
    heatmap.locator(".nsewdrag").first.click(position={"x": 12, "y": 12})
    expect(card).to_contain_text(re.compile(r"Feature \d+"), timeout=120_000)
    clicked = page.get_by_label("Feature id").input_value()
    assert clicked.isdigit()
    expect(card).to_contain_text(f"Feature {clicked}")

    page.get_by_label("Open a feature from the heatmap").click()
    option = page.get_by_role("option").filter(has_text="◆").filter(has_not_text=f"◆ {clicked} ").first
    feature_id = re.match(r"◆ (\d+)", option.inner_text().strip()).group(1)
    assert feature_id != clicked
    option.click()
    expect(card).to_contain_text(f"Feature {feature_id}", timeout=120_000)
    expect(card).to_contain_text("Strongest strings")
    expect(page.locator("#features-where")).to_contain_text("activation")
    page.screenshot(path=str(screenshots_dir / "features.png"), full_page=True)
