"""A person in headless Chromium: upload a WAV to the Speech tab (the Image tab: test_image_page.py)."""
import pytest
from playwright.sync_api import Page, expect

from tests.support.speech_audio import MEANING, corpus_text, speak

pytestmark = [pytest.mark.browser, pytest.mark.slow]
OTHER_LANGUAGES = ["ar (Arabic)", "de (German)", "es (Spanish)", "fr (French)", "hi (Hindi)", "ru (Russian)",
                   "zh (Chinese)"]


def test_speech_upload_transcribe_and_send_to_similarity(page: Page, app_url, screenshots_dir, tmp_path):
    clip = speak(tmp_path, "de", corpus_text(MEANING, "de"))
    page.goto(app_url)
    page.get_by_role("tab", name="Speech").click()
    expect(page.locator("#speech-explanation")).to_contain_text("What am I looking at?")
    page.locator("#speech-audio input[type=file]").set_input_files(str(clip))
    for label in OTHER_LANGUAGES:  # search English only: keeps the corpus small for the test
        page.locator("#speech-languages").get_by_label(label).uncheck()
    page.get_by_role("button", name="Transcribe and search").click()

    transcript = page.locator("#speech-transcript textarea")
    expect(transcript).not_to_have_value("", timeout=180_000)
    expect(page.locator("#speech-summary")).to_contain_text("Spoken language")
    expect(page.locator("#speech-summary")).to_contain_text("de (German)")
    expect(page.locator("#speech-hits")).to_contain_text(corpus_text(MEANING, "en"))
    expect(page.locator("#speech-segments")).to_contain_text("start (s)")
    page.screenshot(path=str(screenshots_dir / "speech.png"), full_page=True)

    text = transcript.input_value()
    page.get_by_role("button", name="Send the transcript to the Similarity tab").click()
    page.get_by_role("tab", name="Similarity").click()
    expect(page.get_by_label("Sentences, one per line, in any languages")).to_have_value(text)



def test_speech_example_clip_is_there_to_press_and_gives_a_transcript(page: Page, app_url):
    page.goto(app_url)
    page.get_by_role("tab", name="Speech").click()
    examples = page.locator("#speech-examples")
    expect(examples).to_contain_text("Meine Großmutter")
    examples.get_by_role("button").filter(has_text="German").first.click()  # a first visit's one press
    expect(page.locator("#speech-audio audio, #speech-audio [data-testid='waveform-controls']").first).to_be_attached()
    for label in OTHER_LANGUAGES:
        page.locator("#speech-languages").get_by_label(label).uncheck()
    page.get_by_role("button", name="Transcribe and search").click()
    transcript = page.locator("#speech-transcript textarea")
    expect(transcript).not_to_have_value("", timeout=180_000)
    expect(page.locator("#speech-summary")).to_contain_text("de (German)")
    # the clip says corpus meaning c001 in German: its English translation is the nearest sentence
    expect(page.locator("#speech-hits")).to_contain_text(corpus_text(MEANING, "en"))
