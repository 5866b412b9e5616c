"""A person in headless Chromium on the Image tab: an example runs at once, and an uploaded
picture shows its text boxes and the nearest sentences in other languages; offline, no error box."""
import pytest
from playwright.sync_api import Page, expect

from backend.data.corpus import bundled_corpus
from scripts.render_image_examples import render_lines

pytestmark = [pytest.mark.browser, pytest.mark.slow]
OTHER_LANGUAGES = ["ar (Arabic)", "de (German)", "es (Spanish)", "fr (French)", "hi (Hindi)", "ru (Russian)",
                   "zh (Chinese)"]


def corpus_text(meaning: str, lang: str) -> str:
    c = bundled_corpus()
    return next(t for i, l, t in zip(c.ids, c.langs, c.texts) if i == meaning and l == lang)


def test_upload_a_picture_see_boxes_and_nearest_sentences(page: Page, app_url, screenshots_dir, tmp_path):
    picture = tmp_path / "sign.png"
    render_lines([("zh", "请勿吸烟"), ("zh", corpus_text("c050", "zh"))], size=40, background=(200, 30, 30),
                 ink=(255, 255, 255)).save(picture)
    page.goto(app_url)
    page.get_by_role("tab", name="Image").click()
    status = page.locator("#image-status")
    expect(status).to_contain_text("Captioning is off")
    expect(status).to_contain_text("Captioning needs a model: set BABELSCOPE_CAPTION_MODEL")
    expect(status).to_contain_text("Cyrillic")
    page.locator("#image-input input[type=file]").set_input_files(str(picture))
    for label in OTHER_LANGUAGES:  # search English only
        page.locator("#image-languages").get_by_label(label).uncheck()
    page.get_by_label("Sentences to compare with the picture's text, one per line, any languages").fill(
        corpus_text("c050", "fr"))
    page.get_by_role("button", name="Read and compare").click()

    expect(page.locator("#image-message")).to_contain_text("Text in the picture", timeout=240_000)
    boxes = page.locator("#image-boxes")
    expect(boxes).to_contain_text("请勿吸烟")  # the legend names each box
    expect(boxes.locator("img").first).to_be_visible()
    expect(page.locator("#image-text textarea")).to_have_value("请勿吸烟\n" + corpus_text("c050", "zh"))
    expect(page.locator("#image-hits")).to_contain_text(corpus_text("c050", "en"))
    expect(page.locator("#image-similarity")).to_contain_text(corpus_text("c050", "fr"))
    expect(page.locator(".toast-body")).to_have_count(0)  # offline: a note, never a red error box
    page.screenshot(path=str(screenshots_dir / "image.png"), full_page=True)


def test_an_example_runs_on_click(page: Page, app_url):
    page.goto(app_url)
    page.get_by_role("tab", name="Image").click()
    page.get_by_text("A notice in German").click()
    expect(page.locator("#image-message")).to_contain_text("de (German)", timeout=240_000)
    expect(page.locator("#image-boxes")).to_contain_text("Achtung!")


def test_a_sign_in_five_languages_reads_as_five_segments(page: Page, app_url, screenshots_dir):
    page.goto(app_url)
    page.get_by_role("tab", name="Image").click()
    page.get_by_text("One notice, five languages").click()
    message = page.locator("#image-message")
    expect(message).to_contain_text("5 segments", timeout=240_000)
    expect(message).to_contain_text("The picture is its own parallel text")
    tags = message.locator("span.lang-tag")
    expect(tags).to_have_count(6)  # the whole text's label, then one per segment
    assert [t.inner_text() for t in tags.all()[1:]] == ["en", "de", "fr", "es", "zh"]
    assert "confidence" in tags.nth(2).get_attribute("title")
    expect(page.locator("#image-hits")).to_contain_text("segment 5 (zh)")
    page.screenshot(path=str(screenshots_dir / "image-segments.png"), full_page=True)
