"""A person in headless Chromium: open the page, use the Similarity tab, see the results."""
import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_similarity_example_compute_and_error(page: Page, app_url, screenshots_dir):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(app_url)
    expect(page.get_by_role("tab", name="Similarity")).to_be_visible()
    page.get_by_role("tab", name="Similarity").click()

    page.get_by_role("button", name="Three meanings × 6 languages").click()
    box = page.get_by_label("Sentences, one per line, in any languages")
    expect(box).to_have_value(re.compile(r"^This soup needs a little more salt\.\n"))

    page.get_by_role("button", name="Compute similarity").click()
    heatmap = page.locator("#similarity-heatmap .js-plotly-plot")
    expect(heatmap).to_be_visible(timeout=120_000)
    expect(page.locator("#similarity-heatmap-compare .js-plotly-plot")).to_be_visible()
    # the heatmap is labelled with detected languages
    expect(page.locator("#similarity-heatmap").get_by_text("1·en", exact=True).first).to_be_attached()
    table = page.locator("#similarity-pairs")
    expect(table).to_contain_text("mutual NN")
    expect(table).to_contain_text("Diese Suppe braucht noch etwas mehr Salz.")
    summary = page.locator("#similarity-summary")
    expect(summary).to_contain_text("Cross-language matches")
    expect(summary).to_contain_text("that these 18 sentences can form")  # a reachable denominator
    # every Arabic run in the summary sits in an isolate, so it cannot reorder its neighbours
    arabic = summary.evaluate("""el => { const out = []; const w = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
        for (let n; (n = w.nextNode());) if (/[\u0600-\u06FF]/.test(n.data)) out.push(!!n.parentElement.closest('bdi'));
        return out; }""")
    assert arabic and all(arabic), arabic
    # the table's rows are in the text font, not Gradio's monospace
    font = table.locator(".body-cell").first.evaluate("el => getComputedStyle(el).fontFamily")
    assert font.split(",")[0].strip().strip('"') == "Noto Sans", font
    page.screenshot(path=str(screenshots_dir / "similarity.png"), full_page=True)

    box.fill("")
    page.get_by_role("button", name="Compute similarity").click()
    toast = page.get_by_text("The input is empty. Type or paste sentences, one per line.")
    expect(toast.first).to_be_visible(timeout=30_000)
    page.screenshot(path=str(screenshots_dir / "similarity-error.png"))
    assert dialogs == []


def test_user_text_is_shown_literally(page: Page, app_url):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(app_url)
    payload = "<img src=x onerror=alert(1)> **bold** [link](http://example.com)"
    page.get_by_label("Sentences, one per line, in any languages").fill(
        f"{payload}\nLe chien dort sur le canapé depuis ce matin."
    )
    page.get_by_role("button", name="Compute similarity").click()
    table = page.locator("#similarity-pairs")
    expect(table).to_contain_text("<img src=x onerror=alert(1)>", timeout=120_000)
    expect(page.locator("#similarity-summary")).to_contain_text("Cross-language matches")
    assert page.locator("img[src='x']").count() == 0  # nothing the user typed became an element
    assert dialogs == []


def test_text_is_set_in_noto_sans(page: Page, app_url):
    """The theme's bundled Montserrat draws "E" like "Ɛ" (a letter of its own in Ewe, Akan...):
    the page must render text in Noto Sans, which covers every script the app shows."""
    page.goto(app_url)
    box = page.get_by_label("Sentences, one per line, in any languages")
    expect(box).to_be_visible()
    family = box.evaluate("el => getComputedStyle(el).fontFamily")
    assert family.split(",")[0].strip().strip('"') == "Noto Sans", family


def test_an_uncertain_label_is_marked_with_its_confidence_on_hover(page: Page, app_url, screenshots_dir):
    """A two-word line is too short to be sure of: it shows as "en?", its confidence on hover, and the
    summary says how to set the language; a line with a prefix is not flagged."""
    page.goto(app_url)
    page.get_by_label("Sentences, one per line, in any languages").fill(
        "Send the message\nde: Fenster schließen\nLe chien dort sur le canapé depuis ce matin.")
    page.get_by_role("button", name="Compute similarity").click()
    summary = page.locator("#similarity-summary")
    expect(summary).to_contain_text("Uncertain language labels", timeout=120_000)
    expect(summary).to_contain_text("(1 of 3")
    tag = summary.locator("span.lang-tag")
    expect(tag).to_have_count(1)
    expect(tag).to_have_text("en?")
    assert re.search(r"English: language ID confidence 0\.\d\d \(uncertain", tag.get_attribute("title"))
    expect(page.locator("#similarity-pairs")).to_contain_text("en?")
    expect(page.locator("#similarity-heatmap").get_by_text("1·en?", exact=True).first).to_be_attached()
    summary.screenshot(path=str(screenshots_dir / "similarity-uncertain.png"))
