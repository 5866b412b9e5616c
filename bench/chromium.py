"""Headless Chromium with plotly.js and the app's map renderer, for the benchmarks that draw
figures (bench/map.py, bench/plot.py).

The browser is Debian's chromium (Playwright's own download cannot work here), launched with the
flags the browser tests use. WebGL then runs on SwiftShader, Chromium's CPU rasteriser;
``--enable-unsafe-swiftshader`` keeps that fallback on in Chromium versions that no longer enable
it by default. plotly.js is the copy the plotly Python package ships, so the browser draws with
the version the app's figures are written for. Nothing here is imported by the app.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ARGS = ["--no-sandbox", "--disable-gpu", "--enable-unsafe-swiftshader", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--no-first-run"]


def chromium_path() -> str:
    path = os.environ.get("BABELSCOPE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise SystemExit("Debian's chromium is not installed (apt-get install chromium); or set BABELSCOPE_CHROMIUM.")
    return path


def plotly_js() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


class PlotlyPage:
    """A page holding plotly.js and an empty ``<div id="plot">``. Console errors and uncaught
    exceptions are collected in ``errors``; closing the page frees its WebGL context and DOM."""

    def __init__(self, page):
        self.page = page
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def check_clean(self, what: str) -> None:
        if self.errors:
            raise RuntimeError(f"{what}: the browser reported errors: {self.errors[:5]}")

    def __enter__(self) -> PlotlyPage:
        return self

    def __exit__(self, *exc) -> None:
        self.page.close()


def map_renderer_js() -> Path:
    """The app's own WebGL map renderer (ui/static/map_renderer.js)."""
    return Path(__file__).resolve().parent.parent / "ui" / "static" / "map_renderer.js"


@contextmanager
def plotly_browser(viewport: dict | None = None, scale: float = 1,
                   scripts: tuple[Path, ...] | None = None) -> Iterator[Callable[[], PlotlyPage]]:
    """Yields ``open_page()``, which loads a fresh ``PlotlyPage`` (use it as a context manager);
    a fresh page per drawing carries no WebGL context or DOM from the previous one.

    ``viewport``: CSS pixels, the browser tests' 1400 x 1000 by default; ``scale``: device pixel ratio;
    ``scripts``: what the page loads (plotly.js and the app's map renderer by default)."""
    from playwright.sync_api import sync_playwright

    viewport = viewport or {"width": 1400, "height": 1000}
    scripts = scripts if scripts is not None else (plotly_js(), map_renderer_js())
    tags = "".join(f'<script src="{path.as_uri()}"></script>' for path in scripts)
    with tempfile.TemporaryDirectory(prefix="bench-plotly-") as tmp:
        html = Path(tmp) / "plot.html"
        html.write_text(f'<!doctype html><html><head><meta charset="utf-8">{tags}</head>'
                        '<body style="margin:0;background:white"><div id="plot"></div>'
                        '<div id="map" style="width:1400px"></div></body></html>',
                        encoding="utf-8")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=ARGS)
            context = browser.new_context(viewport=viewport, device_scale_factor=scale)

            def open_page() -> PlotlyPage:
                page = PlotlyPage(context.new_page())
                page.page.goto(html.as_uri())
                page.page.wait_for_function("() => typeof Plotly !== 'undefined'")
                return page

            try:
                yield open_page
            finally:
                browser.close()


def save_png(figure, path: Path, width: int, height: int, scale: float = 2) -> None:
    """Draw a Plotly ``figure`` at ``width`` x ``height`` CSS pixels and save it as PNG (``scale``
    device pixels each): a headless-browser stand-in for kaleido, which is not a dependency."""
    with plotly_browser(viewport={"width": width, "height": height}, scale=scale) as open_page:
        with open_page() as page:
            page.page.evaluate("""async ([json, width, height]) => {
                const figure = JSON.parse(json);
                Object.assign(figure.layout, {width, height});
                await Plotly.newPlot('plot', figure.data, figure.layout, {staticPlot: true});
            }""", [figure.to_json(), width, height])
            page.check_clean(f"drawing {path.name}")
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            page.page.locator("#plot").screenshot(path=str(path), animations="disabled")
