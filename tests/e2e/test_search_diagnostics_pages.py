"""Search and Diagnostics tabs, as a person uses them in Chromium."""
import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def _upload(page: Page, path) -> None:
    """Click the drop zone and pick the file, as a person does."""
    with page.expect_file_chooser() as chooser:
        page.locator("#search-upload").get_by_role("button", name="Click to upload or drop files").click()
    chooser.value.set_files(str(path))


def test_search_tab_finds_translations_and_uploads(page: Page, app_url, screenshots_dir, tmp_path):
    page.goto(app_url)
    page.get_by_role("tab", name="Search").click()
    page.get_by_role("button", name="Search", exact=True).click()
    hits = page.locator("#search-hits")
    expect(hits).to_contain_text("✓ yes", timeout=180_000)
    expect(hits).to_contain_text("Es hat die ganze Nacht geschneit")
    expect(page.locator("#search-index-info")).to_contain_text("Flat")
    page.screenshot(path=str(screenshots_dir / "search.png"), full_page=True)

    upload = tmp_path / "mine.csv"
    upload.write_text("id,lang,text\nk1,en,The kettle is boiling.\nk1,fr,La bouilloire bout.\n", encoding="utf-8")
    _upload(page, upload)
    expect(page.locator("#search-corpus-info")).to_contain_text("2 rows", timeout=60_000)

    page.locator("#search-upload").get_by_role("button", name="Clear").click()
    bad = tmp_path / "bad.csv"
    bad.write_text("name,value\na,b\n", encoding="utf-8")
    _upload(page, bad)
    expect(page.get_by_text("has no 'text' column").first).to_be_visible(timeout=60_000)


def test_search_marks_uncertain_languages_and_says_how_to_set_them(page: Page, app_url, screenshots_dir, tmp_path):
    """Issue 29: an upload's one-word lines get "xx?" in the hits, the corpus line counts them, and
    both say that "xx: " sets a line's language."""
    upload = tmp_path / "doubtful.txt"
    upload.write_text("Hotel\nOK\nTaxi\nRadio\nfr: Merci\n"
                      "The library closes at eight tonight and opens again tomorrow morning.\n"
                      "Die Bibliothek schließt heute Abend um acht Uhr und öffnet morgen früh wieder.\n"
                      "La bibliothèque ferme ce soir à huit heures et rouvre demain matin.\n", encoding="utf-8")
    page.goto(app_url)
    page.get_by_role("tab", name="Search").click()
    _upload(page, upload)
    info = page.locator("#search-corpus-info")
    expect(info).to_contain_text("detected languages are uncertain", timeout=60_000)
    expect(info).to_contain_text("fr: Bonjour")
    page.get_by_label("Query, in any language").fill("Where is the hotel?")
    page.get_by_role("button", name="Search", exact=True).click()
    hits = page.locator("#search-hits")
    expect(hits).to_contain_text("Hotel", timeout=180_000)
    expect(hits.locator(".body-cell").filter(has_text="?").first).to_be_visible()
    line = page.locator("#search-index-info")
    expect(line).to_contain_text("an uncertain language label")
    tag = line.locator(".lang-tag").first
    assert "language ID confidence 0." in tag.get_attribute("title")
    page.screenshot(path=str(screenshots_dir / "search-uncertain.png"), full_page=True)


def test_diagnostics_tab_shows_the_p_at_1_heatmap(page: Page, app_url, screenshots_dir):
    page.goto(app_url)
    page.get_by_role("tab", name="Diagnostics").click()
    page.get_by_label("Languages (comma list; empty = all)").fill("en, de, fr, ru, zh, ar, hi")
    page.get_by_role("button", name="Run bitext mining").click()
    expect(page.locator("#diagnostics-heatmap .js-plotly-plot")).to_be_visible(timeout=180_000)
    expect(page.locator("#diagnostics-heatmap")).to_contain_text("Bitext P@1")
    expect(page.locator("#diagnostics-languages-table")).to_contain_text("hub skewness")
    page.screenshot(path=str(screenshots_dir / "diagnostics.png"), full_page=True)
