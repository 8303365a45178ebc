"""The course website (tools/website.py), built once and read in headless Chromium.

The site is built from the committed notebooks (nothing executed) into a temporary folder,
served locally, and every page is opened with every request outside the site refused (the
site must work offline and on a course server): each page loads, MathJax renders every
formula with zero errors and zero undefined macros, every internal link points to a page or
file of the site, every local image loads, and the notebook's figures are there. The search
page finds a term that only notebooks contain. Screenshots of the landing page and of one
lesson page go to ``<course cache>/browser/site-*.png`` for a person to look at.
"""
from __future__ import annotations

import functools
import http.server
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

import nbtools
from test_browser import CHROMIUM_FLAGS, _chromium

ROOT = nbtools.ROOT
LESSON_SHOT = "Functional_Models"
SEARCH_TERM, SEARCH_HIT = "Wasserstein", "Wasserstein_GAN_Generative.html"

pytest.importorskip("myst_nb", reason="the site packages (sphinx, myst-nb, sphinx-book-theme) "
                                      "are not installed: run `python3 tools/course.py setup`")
import website  # noqa: E402  (imports sphinx-free code only, after the skip)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    if not (website.slides.NODE_MODULES / "mathjax-full").is_dir():
        pytest.skip("MathJax is not installed: run `python3 tools/course.py setup`")
    result = website.build(tmp_path_factory.mktemp("site"))
    print(f"[site] built {len(result['pages'])} pages in {result['seconds']:.0f} s, "
          f"{len(result['warnings'])} Sphinx warnings")
    chromium = _chromium()
    if chromium is None:
        pytest.skip("no Chromium on this machine (see tests/test_browser.py)")
    html = result["html"]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(_Quiet, directory=str(html)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=chromium, headless=True,
                                         args=CHROMIUM_FLAGS)
    from advml.cache import cache_dir
    shots = cache_dir() / "browser"
    shots.mkdir(parents=True, exist_ok=True)
    yield {**result, "url": f"http://127.0.0.1:{server.server_address[1]}",
           "browser": browser, "shots": shots}
    browser.close()
    playwright.stop()
    server.shutdown()


def _open(site, page_path: str, viewport=(1280, 900)):
    page = site["browser"].new_page(viewport={"width": viewport[0], "height": viewport[1]})
    outside, errors = [], []

    def route(request_route):
        url = request_route.request.url
        if url.startswith(site["url"]):
            request_route.continue_()
        else:
            outside.append((request_route.request.resource_type, url))
            request_route.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{site['url']}/{page_path}", timeout=60_000, wait_until="load")
    return page, outside, errors


INSPECT = r"""() => ({
  math: document.querySelectorAll('mjx-container').length,
  merror: [...document.querySelectorAll('mjx-merror')].map(e => e.getAttribute('data-mjx-error') || e.textContent),
  red: [...document.querySelectorAll('mjx-assistive-mml [mathcolor="red"]')].map(e => e.textContent),
  links: [...document.querySelectorAll('a[href]')].map(a => a.href).filter(h => h.startsWith(location.origin)),
  brokenImages: [...document.images].filter(i => i.src.startsWith(location.origin) ||
                                                 !/^(https?|data):/.test(i.src))
                   .filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src')),
  figures: document.querySelectorAll('.cell_output img').length,
})"""


def test_every_notebook_and_the_syllabus_are_pages(site):
    pages = set(site["pages"])
    for path in nbtools.course_notebooks():
        rel = path.relative_to(ROOT).with_suffix(".html").as_posix()
        assert rel in pages, f"{rel} was not built"
    index = (site["html"] / "index.html").read_text(encoding="utf-8")
    weeks = website.syllabus()
    assert len(weeks) >= 8
    for week in weeks:                                 # the navigation is the syllabus by week
        assert week["title"].split(":")[0] in index
        for module in week["modules"]:
            if not module["planned"]:
                assert f'href="{module["path"][:-len(".ipynb")]}.html"' in index, module


def _expected(rel: str) -> dict:
    path = ROOT / rel
    if not path.is_file():                  # the landing page, the search page
        return {"math": 0, "figures": 0}
    nb = nbtools.read(path)
    figures = sum(1 for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                  if any(k.startswith("image/") for k in o.get("data", {})))
    return {"math": len(nbtools.notebook_math(nb)), "figures": figures}


def test_every_page_renders_offline(site):
    html = site["html"]
    report, problems = [], {}
    for page_path in site["pages"]:
        rel = page_path[:-len(".html")] + ".ipynb"
        expected = _expected(rel)
        page, outside, errors = _open(site, page_path)
        try:
            page.evaluate("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
            found, last, since, deadline = None, None, time.time(), time.time() + 60
            while time.time() < deadline:
                found = page.evaluate(INSPECT)
                if found["math"] != last:
                    last, since = found["math"], time.time()
                if found["math"] >= expected["math"] and time.time() - since > 0.75:
                    break
                time.sleep(0.25)
            if page_path in ("index.html", f"{LESSON_SHOT}.html"):
                page.screenshot(path=str(site["shots"] / f"site-{Path(page_path).stem}.png"))
        finally:
            page.close()
        missing = []
        for link in set(found["links"]):
            target = unquote(urlparse(link).path).lstrip("/") or "index.html"
            if target.endswith("/"):
                target += "index.html"
            if not (html / target).exists():
                missing.append(target)
        page_problems = {
            "MathJax errors": found["merror"],
            "undefined macros": sorted(set(found["red"])),
            "broken internal links": sorted(missing),
            "local images that did not load": found["brokenImages"],
            "scripts/styles/fonts from outside the site": [u for k, u in outside
                                                           if k in ("script", "stylesheet", "font")],
            "JavaScript errors": errors,
        }
        if found["math"] < expected["math"]:
            page_problems["formulas not typeset"] = [f"{found['math']} of {expected['math']}"]
        if found["figures"] < expected["figures"]:
            page_problems["figures missing"] = [f"{found['figures']} of {expected['figures']}"]
        page_problems = {k: v for k, v in page_problems.items() if v}
        if page_problems:
            problems[page_path] = page_problems
        report.append((page_path, found["math"], found["figures"], len(set(found["links"]))))
    total = [sum(r[i] for r in report) for i in (1, 2, 3)]
    print(f"[site] {len(report)} pages: {total[0]} math nodes, {total[1]} figures, "
          f"{total[2]} internal links, {sum(len(v) for p in problems.values() for v in p.values())} problems")
    assert not problems, "\n".join(f"{p}: {v}" for p, v in problems.items())


def test_search_finds_a_term_from_a_notebook(site):
    page, _, errors = _open(site, f"search.html?q={SEARCH_TERM}")
    try:
        page.wait_for_selector(f"#search-results a[href*='{SEARCH_HIT}']", timeout=60_000)
        hits = page.eval_on_selector_all("#search-results li a", "els => els.map(e => e.href)")
    finally:
        page.close()
    print(f"[site] search {SEARCH_TERM!r}: {len(hits)} results")
    assert any(SEARCH_HIT in h for h in hits) and errors == []


def test_macros_come_from_the_one_source(site):
    conf = (site["html"].parent / "src" / "conf.py").read_text(encoding="utf-8")
    for name, (nargs, body) in nbtools.macro_table().items():
        assert f'"{name}":' in conf, name
