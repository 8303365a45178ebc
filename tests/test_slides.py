"""Slides: metadata generated from a notebook's structure, and the offline reveal.js deck.

The rules (tools/slides.py) are tested on small notebooks; then one course notebook is
exported and opened in headless Chromium (served locally, every request outside it
refused): the deck opens, its number of slides equals the metadata's, the math renders
with no MathJax error and no undefined macro, and nothing is loaded from a CDN.
"""
from __future__ import annotations

import functools
import http.server
import threading
import time

import nbformat
import pytest

import nbtools
import slides
from test_browser import CHROMIUM_FLAGS, _chromium, jupyterlab_server

ROOT = nbtools.ROOT
DECK_NOTEBOOK = ROOT / "Functional_Models.ipynb"


def _nb(*cells):
    nb = nbformat.v4.new_notebook()
    for kind, source, *tags in cells:
        make = nbformat.v4.new_markdown_cell if kind == "md" else nbformat.v4.new_code_cell
        cell = make(source)
        if tags:
            cell.metadata["tags"] = list(tags)
        nb.cells.append(cell)
    return nb


def _types(nb):
    return [c.metadata["slideshow"]["slide_type"] for c in nb.cells]


def test_sections_start_slides_and_setup_is_skipped():
    nb = _nb(("md", "# Title\n\nintro"), ("md", "$$\\newcommand{\\x}{x}$$", nbtools.MACROS_TAG),
             ("md", "## Overview\n\ntext"), ("md", "## Setup"), ("code", "import advml"),
             ("code", "n = 3", "parameters"), ("md", "## Lesson"), ("code", "print(n)"),
             ("md", "### A detail"), ("md", "more"), ("md", "## Checks"), ("code", "check()"))
    assert _types(slides.slide_metadata(nb)) == [
        "slide", "skip", "slide", "skip", "skip", "skip", "slide", "-", "subslide", "-",
        "slide", "-"]
    assert slides.slide_count(nb) == 5


def test_a_long_section_is_split_into_subslides():
    long_code = "\n".join(f"x{i} = {i}" for i in range(15))
    nb = _nb(("md", "# Title"), ("md", "## Long"), ("code", long_code), ("code", long_code),
             ("code", long_code), ("md", "## Short"), ("code", "x = 1"))
    types = _types(slides.slide_metadata(nb))
    assert types == ["slide", "slide", "-", "subslide", "subslide", "slide", "-"]


def test_a_figure_counts_as_a_screenful_part():
    figure = nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo="})
    nb = _nb(("md", "# Title"), ("md", "## Plots"), ("code", "plot(1)"), ("code", "plot(2)"))
    nb.cells[2].outputs = [figure]
    nb.cells[3].outputs = [figure]
    assert _types(slides.slide_metadata(nb)) == ["slide", "slide", "-", "subslide"]


def test_author_overrides_are_kept_and_the_result_is_stable():
    nb = _nb(("md", "# Title"), ("md", "## A"), ("md", "a fragment"), ("md", "speaker notes"),
             ("md", "kept", "slide-keep"))
    nb.cells[2].metadata["slideshow"] = {"slide_type": "fragment", "author": True}
    nb.cells[3].metadata["slideshow"] = {"slide_type": "notes"}      # no marker: regenerated
    nb.cells[4].metadata["slideshow"] = {"slide_type": "subslide"}
    slides.slide_metadata(nb)
    assert _types(nb) == ["slide", "slide", "fragment", "-", "subslide"]
    assert nb.cells[2].metadata["slideshow"] == {"slide_type": "fragment", "author": True}
    before = nbformat.writes(nb)
    assert nbformat.writes(slides.slide_metadata(nb)) == before


def test_every_course_notebook_gets_slides_from_the_formatter():
    """On copies: the formatter plus the slide rules give every notebook a title slide,
    a slide per section, and the macros cell skipped."""
    table = nbtools.macro_table()
    for path in nbtools.course_notebooks():
        rel = path.relative_to(ROOT).as_posix()
        nb = slides.slide_metadata(nbtools.format_notebook(nbtools.read(path), rel, table))
        types = _types(nb)
        assert types[0] == "slide", rel
        sections = [c for c in nb.cells if slides._heading(c).startswith("## ")
                    and slides._heading(c)[3:].strip().lower() != "setup"]
        assert all(c.metadata.slideshow.slide_type == "slide" for c in sections), rel
        macros = [c for c in nb.cells if nbtools.MACROS_TAG in c.metadata.get("tags", [])]
        assert all(c.metadata.slideshow.slide_type == "skip" for c in macros), rel


# --------------------------------------------------------------------------- the deck
class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module (Playwright's sync API runs one at a time)."""
    chromium = _chromium()
    if chromium is None:
        pytest.skip("no Chromium on this machine (see tests/test_browser.py); the slides were "
                    "not opened")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    chrome = playwright.chromium.launch(executable_path=chromium, headless=True,
                                        args=CHROMIUM_FLAGS)
    yield chrome
    chrome.close()
    playwright.stop()


@pytest.fixture(scope="module")
def deck(tmp_path_factory, browser):
    if not (slides.NODE_MODULES / "reveal.js").is_dir():
        pytest.skip("reveal.js is not installed: run `python3 tools/course.py setup`")
    out = tmp_path_factory.mktemp("slides")
    html = slides.export(DECK_NOTEBOOK, out)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(_Quiet, directory=str(out)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"url": f"http://127.0.0.1:{server.server_address[1]}/{html.name}",
           "browser": browser, "html": html}
    server.shutdown()


INSPECT = r"""() => ({
  total: window.Reveal && Reveal.isReady() ? Reveal.getTotalSlides() : null,
  math: document.querySelectorAll('mjx-container').length,
  merror: [...document.querySelectorAll('mjx-merror')].map(e => e.getAttribute('data-mjx-error') || e.textContent),
  red: [...document.querySelectorAll('mjx-assistive-mml [mathcolor="red"]')].map(e => e.textContent),
  mathjaxDone: !!(window.MathJax && MathJax.startup && MathJax.startup.document &&
                  MathJax.startup.document.processed !== undefined),
})"""


def test_the_deck_opens_offline_with_its_slides_and_math(deck):
    nb = slides.slide_metadata(nbtools.read(DECK_NOTEBOOK))
    expected_slides = slides.slide_count(nb)
    shown = [c for c in nb.cells if c.metadata.slideshow.slide_type != "skip"]
    expected_math = sum(len(nbtools.math_expressions(c.source)) for c in shown
                        if c.cell_type == "markdown")
    page = deck["browser"].new_page(viewport={"width": 1280, "height": 800})
    outside = []

    def route(request_route):
        url = request_route.request.url
        if url.startswith(deck["url"].rsplit("/", 1)[0]):
            request_route.continue_()
        else:
            outside.append((request_route.request.resource_type, url))
            request_route.abort()

    page.route("**/*", route)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(deck["url"], timeout=60_000)
        page.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=60_000)
        page.evaluate("() => MathJax.startup.promise")
        deadline, found, last, since = time.time() + 60, None, None, time.time()
        while time.time() < deadline:
            found = page.evaluate(INSPECT)
            if found["math"] != last:
                last, since = found["math"], time.time()
            if found["math"] >= expected_math and time.time() - since > 1.0:
                break
            time.sleep(0.25)
        from advml.cache import cache_dir
        shots = cache_dir() / "browser"
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / f"slides-{DECK_NOTEBOOK.stem}.png"))
    finally:
        page.close()
    print(f"[slides] {DECK_NOTEBOOK.name}: {found['total']} slides (metadata {expected_slides}), "
          f"{found['math']} math nodes, {len(outside)} outside requests refused")
    assert found["total"] == expected_slides
    assert found["math"] >= expected_math > 0
    assert found["merror"] == [] and found["red"] == []
    assert errors == [], errors
    needed = [(kind, url) for kind, url in outside if kind in ("script", "stylesheet", "font")]
    assert needed == [], f"the deck needs the network for {needed}"


# --------------------------------------------------------------------------- live, with RISE
@pytest.fixture(scope="module")
def rise_lab(tmp_path_factory, browser):
    """JupyterLab (with jupyterlab-rise) on a copy of one notebook carrying its slide metadata."""
    pytest.importorskip("jupyterlab_rise", reason="jupyterlab-rise is not installed: run "
                                                  "`python3 tools/course.py setup`")
    base = tmp_path_factory.mktemp("rise")
    (base / "course").mkdir()
    nbtools.write(slides.slide_metadata(nbtools.read(DECK_NOTEBOOK)),
                  base / "course" / DECK_NOTEBOOK.name)
    with jupyterlab_server(base, base / "course", startup_s=120) as (url, token):
        yield {"url": url, "token": token, "browser": browser}


def test_the_notebook_presents_live_with_rise(rise_lab):
    """RISE (jupyterlab-rise's /rise/ page) shows the deck the metadata describes, with math."""
    expected = slides.slide_count(slides.slide_metadata(nbtools.read(DECK_NOTEBOOK)))
    page = rise_lab["browser"].new_page(viewport={"width": 1280, "height": 800})
    try:
        page.goto(f"{rise_lab['url']}/rise/{DECK_NOTEBOOK.name}?token={rise_lab['token']}",
                  timeout=180_000)
        page.wait_for_selector(".reveal .slides section", timeout=180_000)
        deadline, found, last, since = time.time() + 90, None, None, time.time()
        while time.time() < deadline:
            found = page.evaluate("""() => ({
              leaves: [...document.querySelectorAll('.reveal .slides section')]
                        .filter(s => !s.querySelector('section')).length,
              math: document.querySelectorAll('mjx-container').length,
              merror: document.querySelectorAll('mjx-merror').length,
              red: document.querySelectorAll('mjx-assistive-mml [mathcolor="red"]').length})""")
            key = (found["leaves"], found["math"])
            if key != last:
                last, since = key, time.time()
            if found["leaves"] >= expected and found["math"] > 0 and time.time() - since > 2:
                break
            time.sleep(0.5)
    finally:
        page.close()
    print(f"[rise] {DECK_NOTEBOOK.name}: {found['leaves']} slides live (metadata {expected}), "
          f"{found['math']} math nodes")
    assert found["leaves"] == expected
    assert found["math"] > 0 and found["merror"] == 0 and found["red"] == 0
