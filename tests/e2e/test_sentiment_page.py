"""A person in headless Chromium: the Sentiment tab and the Labs tab."""
import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_sentiment_example_classify_and_evaluate(page: Page, app_url, screenshots_dir):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(app_url)
    page.get_by_role("tab", name="Sentiment").click()
    page.get_by_role("button", name="Example: 4 meanings × 8 languages").click()
    box = page.get_by_label("Sentences for sentiment, one per line")
    expect(box).to_have_value(re.compile(r"^s001\|en\|The battery died"))
    page.get_by_role("button", name="Classify sentiment").click()
    expect(page.locator("#sentiment-chart .js-plotly-plot")).to_be_visible(timeout=120_000)
    table = page.locator("#sentiment-table")
    expect(table).to_contain_text("VADER label")
    expect(table).to_contain_text("Аккумулятор сдох через два дня")
    expect(page.locator("#sentiment-consistency")).to_contain_text("Consistency across translations")
    page.get_by_role("button", name="Evaluate every model").click()
    expect(page.locator("#sentiment-eval-table")).to_contain_text("95% interval", timeout=120_000)
    expect(page.locator("#sentiment-eval-table")).to_contain_text("vader", timeout=120_000)
    expect(page.locator("#sentiment-eval-chart .js-plotly-plot")).to_be_visible()
    page.screenshot(path=str(screenshots_dir / "sentiment.png"), full_page=True)

    box.fill("<img src=x onerror=alert(1)> terrible")
    page.get_by_role("button", name="Classify sentiment").click()
    expect(table).to_contain_text("<img src=x onerror=alert(1)>", timeout=60_000)
    assert page.locator("img[src='x']").count() == 0
    box.fill("")
    page.get_by_role("button", name="Classify sentiment").click()
    expect(page.get_by_text("The input is empty. Type or paste sentences, one per line.").first).to_be_visible(
        timeout=30_000)
    assert dialogs == []


def test_labs_transfer_and_distill(page: Page, app_url, screenshots_dir):
    page.goto(app_url)
    page.get_by_role("tab", name="Labs").click()
    # the first control comes after a short lead, not after the whole page of notes: those fold under
    # each lab's controls, closed until asked for
    lead, upload = page.locator("#labs-explanation"), page.locator("#transfer-upload")
    expect(upload).to_be_visible()
    assert upload.bounding_box()["y"] - lead.bounding_box()["y"] < 400
    expect(page.locator("#transfer-explanation")).not_to_be_visible()
    run_box = page.get_by_role("button", name="Run transfer experiment").bounding_box()
    how = page.get_by_role("button", name="How it works: the transfer lab")
    assert how.bounding_box()["y"] > run_box["y"]
    how.click()
    expect(page.locator("#transfer-explanation")).to_contain_text("logistic-regression probe")
    page.get_by_role("button", name="Run transfer experiment").click()
    expect(page.locator("#transfer-heatmap .js-plotly-plot")).to_be_visible(timeout=180_000)
    expect(page.locator("#transfer-heatmap-compare .js-plotly-plot")).to_be_visible()
    expect(page.locator("#transfer-few-shot .js-plotly-plot")).to_be_visible()
    expect(page.locator("#transfer-summary")).to_contain_text("off-diagonal")

    page.get_by_label("Temperatures T (comma-separated, > 0)").fill("1, 2, 4")
    page.get_by_role("button", name="Distil the student").click()
    summary = page.locator("#distill-summary")
    expect(summary).to_contain_text("agrees with the teacher on", timeout=240_000)
    expect(summary).to_contain_text("never saw it nor any of its translations")
    expect(summary).to_contain_text("most frequent label")
    expect(page.locator("#distill-chart .js-plotly-plot")).to_be_visible()
    table = page.locator("#distill-table")
    expect(table).to_contain_text("de (target)")
    expect(table).to_contain_text("95% CI")
    for lang in ("en", "zh", "ja", "ar"):
        expect(table).to_contain_text(lang)
    p_at_1 = page.locator("#distill-p-at-1")
    expect(p_at_1.locator(".js-plotly-plot")).to_be_visible()
    expect(p_at_1).to_contain_text("student (static)")
    page.screenshot(path=str(screenshots_dir / "labs.png"), full_page=True)

    page.get_by_label("Temperatures T (comma-separated, > 0)").fill("0")
    page.get_by_role("button", name="Distil the student").click()
    expect(page.get_by_text("Temperature must be > 0").first).to_be_visible(timeout=30_000)
