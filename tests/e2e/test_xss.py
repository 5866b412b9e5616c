"""XSS: HTML, script and Markdown injections typed into every text box, and carried by an uploaded
corpus (its file name, rows, table and hover text). No dialog may fire, nothing typed may become an
element, and the text is shown literally where the app shows it."""
import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(2)</script>"
SVG = "<svg onload=alert(3)>"
MARKDOWN = "[click me](javascript:alert(4)) **bold** <b>b</b> ![i](x)"
PAYLOADS = (IMG, SCRIPT, SVG, MARKDOWN)
TEXT = "\n".join(PAYLOADS) + "\nLe chien dort sur le canapé."


def _watch(page: Page) -> list[str]:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    return dialogs


def _assert_inert(page: Page, dialogs: list[str]) -> None:
    page.wait_for_timeout(300)  # let any onerror/onload handler run, were there one
    assert dialogs == []
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("svg[onload]").count() == 0
    assert page.locator("a[href^='javascript:']").count() == 0
    assert page.evaluate("[...document.scripts].filter(s => s.textContent.includes('alert(')).length") == 0


def _toast(page: Page, pattern: str):
    return page.locator(".toast-body, [data-testid='toast-body']").filter(has_text=re.compile(pattern)).first


def test_typed_injections_are_inert_and_literal(page: Page, app_url):
    dialogs = _watch(page)
    page.goto(app_url)

    page.get_by_role("tab", name="Similarity").click()
    page.get_by_label("Sentences, one per line, in any languages").fill(TEXT)
    page.get_by_role("button", name="Compute similarity").click()
    table = page.locator("#similarity-pairs")
    for payload in PAYLOADS:
        expect(table).to_contain_text(payload, timeout=120_000)
    heatmap = page.locator("#similarity-heatmap .nsewdrag").first
    box = heatmap.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.1, box["y"] + box["height"] * 0.3)  # a cell of row 2
    _assert_inert(page, dialogs)

    page.get_by_role("tab", name="Sentiment").click()
    page.get_by_label("Sentences for sentiment, one per line").fill(TEXT)
    page.get_by_role("button", name="Classify sentiment").click()
    sentiment = page.locator("#sentiment-table")
    for payload in PAYLOADS:
        expect(sentiment).to_contain_text(payload, timeout=120_000)
    _assert_inert(page, dialogs)

    page.get_by_role("tab", name="Search").click()
    page.get_by_label("Query, in any language").fill(IMG)
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.locator("#search-index-info")).to_contain_text("query language", timeout=120_000)
    _assert_inert(page, dialogs)

    page.get_by_role("tab", name="Language map").click()
    page.get_by_label("Mark meanings (ids, comma-separated)").fill(f"{IMG}, {SVG}")
    page.get_by_role("button", name="Draw the map").click()
    expect(page.locator("#map-view canvas.bsmap-gl")).to_be_attached(timeout=180_000)
    page.get_by_label("Where does this sentence land? (any language)").fill(TEXT.replace("\n", " "))
    page.get_by_role("button", name="Place it on the map").click()
    page.get_by_text("JSON (the API's answers)").click()  # the JSON sits in a closed accordion
    expect(page.locator("#map-place-json")).to_contain_text(IMG, timeout=120_000)
    page.get_by_label("Select meanings (ids, comma-separated)").fill(IMG)
    page.get_by_role("button", name="Select", exact=True).click()
    expect(page.locator("#map-selection-summary")).to_contain_text("No points selected", timeout=60_000)
    _assert_inert(page, dialogs)

    # Error messages that quote the user's text are shown as text, too.
    page.get_by_role("tab", name="Diagnostics").click()
    page.get_by_label("Languages (comma list; empty = all)").fill(IMG)
    page.get_by_role("button", name="Run bitext mining").click()
    expect(_toast(page, "are not in corpus")).to_contain_text(IMG, timeout=60_000)
    _assert_inert(page, dialogs)

    page.get_by_role("tab", name="Labs").click()
    page.locator("#distill-temperatures textarea, #distill-temperatures input").first.fill(SCRIPT)
    page.locator("#distill-unlabelled textarea").fill(TEXT)
    page.get_by_role("button", name="Distil the student").click()
    expect(_toast(page, "Temperatures must be numbers")).to_contain_text(SCRIPT, timeout=60_000)
    _assert_inert(page, dialogs)

    page.get_by_role("tab", name="Image").click()
    page.locator("#image-sentences textarea").fill(TEXT)
    page.get_by_role("button", name="Read and compare").click()
    expect(_toast(page, "No image was given")).to_be_visible(timeout=60_000)
    _assert_inert(page, dialogs)


def test_an_uploaded_corpus_is_shown_literally(page: Page, app_url, tmp_path):
    dialogs = _watch(page)
    rows = [("x1", "en", IMG + " the kettle is boiling"), ("x1", "fr", SCRIPT + " la bouilloire bout"),
            ("x2", "en", MARKDOWN + " it is raining"), ("x2", "fr", SVG + " il pleut")]
    upload = tmp_path / f"{IMG}.tsv"  # the file name is shown as the corpus name
    upload.write_text("id\tlang\ttext\n" + "".join(f"{i}\t{lang}\t{t}\n" for i, lang, t in rows), encoding="utf-8")

    page.goto(app_url)
    page.get_by_role("tab", name="Search").click()
    with page.expect_file_chooser() as chooser:
        page.locator("#search-upload").get_by_role("button", name="Click to upload or drop files").click()
    chooser.value.set_files(str(upload))
    expect(page.locator("#search-corpus-info")).to_contain_text("4 rows", timeout=60_000)
    _assert_inert(page, dialogs)

    page.get_by_label("Query, in any language").fill("the kettle is boiling")
    page.get_by_role("button", name="Search", exact=True).click()
    hits = page.locator("#search-hits")
    for payload in (IMG, SCRIPT, SVG, MARKDOWN):
        expect(hits).to_contain_text(payload, timeout=120_000)
    _assert_inert(page, dialogs)


def test_language_codes_from_a_labelled_upload_are_literal_in_the_transfer_heatmap(page: Page, app_url, tmp_path):
    """Plotly renders a subset of HTML in axis labels: a language code from an upload must stay text."""
    from backend.data.labelled_sets import bundled_eval_set

    data = bundled_eval_set()
    first_label = dict(zip(data.ids, data.labels))
    meanings = [m for label in ("negative", "neutral", "positive") for m in [k for k, v in first_label.items() if v == label][:4]]
    rows = [(m, {"en": "en", "de": "de", "fr": IMG}[lang], label, text)
            for m, lang, label, text in zip(data.ids, data.langs, data.labels, data.texts)
            if m in meanings and lang in ("en", "de", "fr")]
    upload = tmp_path / "labelled.tsv"
    upload.write_text("id\tlang\tlabel\ttext\n" + "".join("\t".join(r) + "\n" for r in rows), encoding="utf-8")
    dialogs = _watch(page)
    page.goto(app_url)
    page.get_by_role("tab", name="Labs").click()
    with page.expect_file_chooser() as chooser:
        page.locator("#transfer-upload").get_by_role("button", name="Click to upload or drop files").click()
    chooser.value.set_files(str(upload))
    page.get_by_role("button", name="Run transfer experiment").click()
    heatmap = page.locator("#transfer-heatmap")
    expect(heatmap.locator(".js-plotly-plot")).to_be_visible(timeout=180_000)
    expect(heatmap.locator(".xaxislayer-above")).to_contain_text(IMG)
    expect(heatmap.locator(".yaxislayer-above")).to_contain_text(IMG)
    box = heatmap.locator(".nsewdrag").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.85, box["y"] + box["height"] * 0.85)  # the payload's own cell
    _assert_inert(page, dialogs)
