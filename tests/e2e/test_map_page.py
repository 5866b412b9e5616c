"""The Language map tab in Chromium: a WebGL scatter, its legend, the translation-lines toggle."""
import csv
import json
import os

import numpy as np
import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

N_TRACES = "() => document.querySelector('#map-plot .js-plotly-plot').data.length"
TRACE_TYPES = "() => [...new Set(document.querySelector('#map-plot .js-plotly-plot').data.map(t => t.type))]"


def _draw(page: Page, timeout_ms: int) -> None:
    page.get_by_role("button", name="Draw the map").click()
    expect(page.locator("#map-plot .js-plotly-plot")).to_be_visible(timeout=timeout_ms)
    expect(page.locator("#map-scores")).to_contain_text("Trustworthiness", timeout=timeout_ms)
    # Scattergl draws on a WebGL canvas, not as SVG points
    expect(page.locator("#map-plot .gl-container canvas").first).to_be_attached(timeout=60_000)
    assert page.evaluate(TRACE_TYPES) == ["scattergl"]


def test_bundled_map_renders_webgl_with_legend_and_translation_lines(page: Page, app_url, screenshots_dir):
    page.goto(app_url)
    page.get_by_role("tab", name="Language map").click()
    _draw(page, 300_000)
    legend = page.locator("#map-plot .legend")
    for name in ("English", "French", "Chinese", "Hindi"):
        expect(legend).to_contain_text(name)
    expect(page.locator("#map-clusters")).to_contain_text("K-means")
    before = page.evaluate(N_TRACES)
    page.get_by_label("Translation lines").check()
    expect(legend).to_contain_text("translation lines", timeout=60_000)
    assert page.evaluate(N_TRACES) == before + 1
    page.get_by_label("Mark meanings (ids, comma-separated)").fill("c006")
    page.get_by_label("Mark meanings (ids, comma-separated)").press("Enter")
    expect(legend).to_contain_text("marked meanings (8 points)", timeout=60_000)
    page.mouse.move(0, 0)  # no hover label in the picture
    page.locator("#map-plot").screenshot(path=str(screenshots_dir / "map.png"))
    page.get_by_label("Translation lines").uncheck()
    expect(legend).not_to_contain_text("translation lines", timeout=60_000)
    # marks typed but not yet submitted are drawn by the next run (after its plain figure)
    marks = page.get_by_label("Mark meanings (ids, comma-separated)")
    marks.fill("")
    marks.press("Enter")
    expect(legend).not_to_contain_text("marked meanings", timeout=60_000)
    marks.fill("c006")
    page.get_by_role("button", name="Draw the map").click()
    expect(legend).to_contain_text("marked meanings (8 points)", timeout=300_000)
    expect(legend).not_to_contain_text("translation lines")


# The one atlas-scale test: the whole CLDR atlas (111,210 rows, 74,797 distinct names), embedded
# once with all-MiniLM-L6-v2 (through the OpenVINO fast path), laid out with the fast UMAP path and
# rendered in Chromium. It took 188 s on an idle 2-core machine. BABELSCOPE_MAP_SCALE_POINTS=N maps
# a stratified sample of N rows instead (whole translation sets kept), for slower machines.
ATLAS_MODEL = "all-MiniLM-L6-v2"  # the faster packaged encoder on CPU
SCALE_POINTS = int(os.environ.get("BABELSCOPE_MAP_SCALE_POINTS", "111210"))


def _atlas_corpus_id(registry, tmp_path) -> str:
    from backend.corpus import CLDR_ID, cldr_corpus
    from backend.projection import stratified_sample

    atlas = cldr_corpus()
    if SCALE_POINTS >= len(atlas):
        return CLDR_ID
    rows = stratified_sample(atlas.langs, atlas.ids, SCALE_POINTS)
    path = tmp_path / "cldr-sample.tsv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(["id", "lang", "text"])
        writer.writerows((atlas.ids[i], atlas.langs[i], atlas.texts[i]) for i in rows)
    return registry.corpora.load_upload(path).corpus_id


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_cldr_atlas_map_at_scale_renders(page: Page, app_url, registry, tmp_path):
    from ui.figures.map import map_figure
    from backend.projection import project_map

    corpus_id = _atlas_corpus_id(registry, tmp_path)
    result = project_map(registry, corpus_id, ATLAS_MODEL, "umap", [], False, registry.settings.limits.max_map_points)
    assert result.n_points >= min(SCALE_POINTS, 100_000) and np.isfinite(result.coords).all()
    assert len(set(result.langs)) > 100
    figure = map_figure(result, lines=True)
    raw = figure.to_json()
    data = json.loads(raw)["data"]
    assert {t["type"] for t in data} == {"scattergl"}
    points = [t for t in data if t.get("mode") == "markers"]
    assert sum(len(t["text"]) for t in points) == result.n_points
    assert all(t["x"]["dtype"] == "f4" and "bdata" in t["x"] for t in points)  # float32, base64
    assert len(raw) < 120 * result.n_points  # compact: ~100 bytes a point, hover text included

    page.goto(app_url)
    page.get_by_role("tab", name="Language map").click()
    for field, value in (("#map-corpus input", corpus_id), ("#map-model input", ATLAS_MODEL)):
        page.locator(field).fill(value)  # allow_custom_value dropdowns take typed ids
        page.locator(field).press("Enter")
    _draw(page, 240_000)  # the layout is cached: this times the transfer and the WebGL render
    expect(page.locator("#map-scores")).to_contain_text("loaded from the layout cache")
    expect(page.locator("#map-plot")).to_contain_text(f"{result.n_points:,} points")
