"""The real client: every notebook opened in the pinned JupyterLab, in headless Chromium.

The test serves a copy of the course (notebooks and images, so the server never touches the
repository) with the course's JupyterLab, opens each notebook the way a student does, waits
for the Markdown and MathJax to render, and fails on what a student would see as broken:

* a MathJax error node (``mjx-merror``) or an undefined command drawn in red;
* formulas left untypeset (fewer typeset math nodes than the notebook's formulas);
* Markdown link or image syntax left visible as text (``[![``, ``](http``), or a visible
  HTML comment;
* launch badges that are not rendered links;
* a figure that did not render (fewer output images than the notebook stores, or a local
  image that failed to load);
* a Markdown image carried as a cell attachment (the drawn diagrams, ``tools/diagrams.py``)
  that is missing or did not load (every such ``<img>`` must have ``naturalWidth > 0``).

A first-screen screenshot of each notebook goes to ``<course cache>/browser/`` for a person
to look at. Chromium comes from the OS package manager (the set-up installs it where it can);
where it is missing the test is skipped, and the skip says why.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import nbtools

ROOT = nbtools.ROOT
NOTEBOOKS = nbtools.course_notebooks()
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--disable-dev-shm-usage"]
MATH_SETTLE_S = 1.5       # the typeset-node count must hold this long
PAGE_TIMEOUT_S = 120


def _chromium() -> str | None:
    explicit = os.environ.get("COURSE_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).exists() else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def jupyterlab_server(base: Path, root_dir: Path, startup_s: float = 90):
    """The course's pinned JupyterLab serving ``root_dir`` on a free local port, with its
    settings, workspaces, config and runtime folders under ``base`` (the defaults otherwise).
    Yields ``(url, token)``; fails the test with the server's log if it does not start."""
    (base / "settings").mkdir(exist_ok=True)
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(base / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"),
               JUPYTER_CONFIG_DIR=str(base / "config"), JUPYTER_RUNTIME_DIR=str(base / "runtime"))
    log = open(base / "server.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         f"--ServerApp.token={token}", f"--ServerApp.root_dir={root_dir}", "--allow-root"],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + startup_s
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.time() > deadline:
                    pytest.fail("JupyterLab did not start:\n"
                                + (base / "server.log").read_text()[-3000:])
                time.sleep(0.5)
        yield url, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server of the course's pinned version on a copy of the course."""
    chromium = _chromium()
    if chromium is None:
        pytest.skip("no Chromium on this machine: install the OS package `chromium` "
                    "(python3 tools/course.py setup does, as root with apt-get) or set "
                    "COURSE_CHROMIUM; the real-browser rendering test did not run")
    pytest.importorskip("playwright", reason="playwright is not installed (see requirements.txt)")
    base = tmp_path_factory.mktemp("lab")
    site = base / "course"
    site.mkdir()
    for path in NOTEBOOKS:
        target = site / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    if (ROOT / "images").is_dir():
        shutil.copytree(ROOT / "images", site / "images")
    from playwright.sync_api import sync_playwright

    # JupyterLab's default settings (an empty settings folder), as a student has them: windowing
    # mode "contentVisibility", every cell in the page, off-screen ones not painted.
    with jupyterlab_server(base, site, startup_s=90) as (url, token):
        playwright = sync_playwright().start()
        browser = playwright.chromium.launch(executable_path=chromium, headless=True,
                                             args=CHROMIUM_FLAGS)
        yield {"url": url, "token": token, "browser": browser, "shots": _screenshot_dir()}
        browser.close()
        playwright.stop()


def _screenshot_dir() -> Path:
    sys.path.insert(0, str(ROOT))
    from advml.cache import cache_dir

    folder = cache_dir() / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _shutdown_sessions(lab) -> None:
    """Close the kernels JupyterLab started for the notebooks opened so far."""
    api = f"{lab['url']}/api/sessions"
    headers = {"Authorization": f"token {lab['token']}"}
    with urllib.request.urlopen(urllib.request.Request(api, headers=headers), timeout=10) as r:
        sessions = json.load(r)
    for session in sessions:
        request = urllib.request.Request(f"{api}/{session['id']}", method="DELETE",
                                         headers=headers)
        urllib.request.urlopen(request, timeout=10).close()


INSPECT = r"""() => {
  const nb = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
  if (!nb) return null;
  const rendered = [...nb.querySelectorAll('.jp-MarkdownCell .jp-RenderedMarkdown')];
  const text = rendered.map(el => {
    const copy = el.cloneNode(true);
    copy.querySelectorAll('code, pre, mjx-container, script').forEach(n => n.remove());
    return copy.textContent;
  });
  // MathJax's noundefined draws an unknown command as red text: read its name from the
  // assistive MathML (the CHTML glyphs are CSS, with no text content).
  const red = [...nb.querySelectorAll('mjx-assistive-mml [mathcolor="red"]')]
    .map(e => e.textContent || '?');
  const imgs = [...nb.querySelectorAll('.jp-RenderedImage img, .jp-RenderedMarkdown img')];
  const title = nb.querySelector('.jp-MarkdownCell .jp-RenderedMarkdown');
  return {
    markdownCells: nb.querySelectorAll('.jp-MarkdownCell').length,
    renderedMarkdown: rendered.length,
    math: nb.querySelectorAll('mjx-container').length,
    merror: [...nb.querySelectorAll('mjx-merror')].map(
      e => e.getAttribute('data-mjx-error') || e.textContent),
    red: red,
    text: text,
    outputImages: nb.querySelectorAll('.jp-RenderedImage img').length,
    attachedImages: [...nb.querySelectorAll('.jp-RenderedMarkdown img')]
      .filter(i => /^(data|blob):/.test(i.getAttribute('src') || ''))
      .map(i => i.complete ? i.naturalWidth : 0),
    brokenLocalImages: imgs.filter(i => !/^https?:/.test(i.getAttribute('src') || '') ||
                                        i.src.startsWith(location.origin))
                           .filter(i => !(i.complete && i.naturalWidth > 0))
                           .map(i => (i.getAttribute('src') || '').slice(0, 80)),
    badgeLinks: title ? [...title.querySelectorAll('a')].filter(a => a.querySelector('img'))
                          .map(a => a.href) : [],
  };
}"""

RAW_MARKDOWN = re.compile(r"\[!\[|\]\((?:https?:|\.{0,2}/|[\w./-]+\.(?:ipynb|png|svg|jpg|md)\b)|<!--|-->")


def _expected(path: Path) -> dict:
    nb = nbtools.read(path)
    images = sum(1 for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                 if any(k.startswith("image/") for k in o.get("data", {})))
    attached = sum(c.source.count("](attachment:") for c in nb.cells if c.cell_type == "markdown")
    return {"math": len(nbtools.notebook_math(nb)), "images": images, "attached": attached,
            "markdown": sum(c.cell_type == "markdown" for c in nb.cells)}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_notebook_renders_in_jupyterlab(lab, path):
    rel = path.relative_to(ROOT).as_posix()
    expected = _expected(path)
    page = lab["browser"].new_page(viewport={"width": 1280, "height": 900})
    try:
        workspace = re.sub(r"[^A-Za-z0-9]", "", path.stem)[:40]
        page.goto(f"{lab['url']}/lab/workspaces/{workspace}/tree/{rel}?reset&token={lab['token']}",
                  timeout=PAGE_TIMEOUT_S * 1000)
        page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=PAGE_TIMEOUT_S * 1000)
        deadline, last, stable_since, found = time.time() + PAGE_TIMEOUT_S, None, None, None
        while time.time() < deadline:
            found = page.evaluate(INSPECT)
            ready = (found and found["renderedMarkdown"] >= expected["markdown"]
                     and found["math"] >= expected["math"]
                     and found["outputImages"] >= expected["images"]
                     and sum(w > 0 for w in found["attachedImages"]) >= expected["attached"])
            key = found and (found["math"], found["renderedMarkdown"], found["outputImages"],
                             tuple(found["attachedImages"]))
            if key != last:
                last, stable_since = key, time.time()
            if ready and time.time() - stable_since >= MATH_SETTLE_S:
                break
            time.sleep(0.25)
        page.evaluate("() => document.querySelector('.jp-WindowedPanel-outer, .jp-Notebook')"
                      "?.scrollTo(0, 0)")
        page.screenshot(path=str(lab["shots"] / f"{path.stem}.png"))
    finally:
        page.close()
        _shutdown_sessions(lab)
    assert found is not None, f"{rel}: JupyterLab showed no notebook"
    raw = sorted({m.group(0) + " in: " + t[max(0, m.start() - 30):m.end() + 30].strip()
                  for t in found["text"] for m in RAW_MARKDOWN.finditer(t)})
    problems = {
        "MathJax errors": found["merror"],
        "undefined commands (drawn in red)": sorted(set(found["red"])),
        "raw Markdown/HTML visible": raw,
        "local images that did not load": found["brokenLocalImages"],
    }
    if found["math"] < expected["math"]:
        problems["formulas not typeset"] = [f"{found['math']} typeset of {expected['math']}"]
    if found["outputImages"] < expected["images"]:
        problems["figures not rendered"] = [f"{found['outputImages']} of {expected['images']}"]
    loaded = sum(w > 0 for w in found["attachedImages"])
    if loaded < expected["attached"]:
        problems["attached diagrams not shown (naturalWidth 0 or no <img>)"] = [
            f"{loaded} loaded of {expected['attached']}"]
    if path != nbtools.MACROS_NOTEBOOK and len(found["badgeLinks"]) != 2:
        problems["launch badges not rendered as links"] = found["badgeLinks"] or ["none"]
    problems = {k: v for k, v in problems.items() if v}
    print(f"[browser] {rel}: {found['math']} math nodes, {found['outputImages']} figures, "
          f"{loaded} attached diagrams, "
          f"{sum(len(v) for v in problems.values())} problems")
    assert not problems, f"{rel} as a student sees it in JupyterLab:\n" + "\n".join(
        f"  {kind}: {values[:8]}" for kind, values in problems.items())
