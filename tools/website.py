"""The course website: the committed, executed notebooks as a static site that works offline.

    python3 tools/course.py site            # build into <cache>/site/html (1-3 minutes)
    python3 tools/course.py site --serve    # ... and serve it at http://127.0.0.1:8000/

The engine is Jupyter Book 1's: Sphinx with ``myst-nb`` (notebooks, with their committed
outputs; nothing is executed) and ``sphinx-book-theme``. The ``jupyter-book`` 1.x command
itself is not used: it pins ``myst-parser~=3`` and so ``markdown-it-py 3``, which conflicts
with the course's pinned stack; this module writes the Sphinx configuration it would
generate from ``_config.yml``/``_toc.yml``. (Jupyter Book 2 / mystmd fetches its theme from
the network at build time, so it cannot build offline.)

* **One source for the structure**: the README's syllabus (``### Week ...`` tables, generated
  from ``advml/syllabus.py``) gives the landing page and the navigation, week by week;
  planned modules are listed, not linked.
* **One source for the notation**: ``Latex_macros.ipynb`` gives MathJax's macros on every
  page; MathJax 3 is served from the site itself (copied from ``tools/mathjax``), no CDN.
* **Launch buttons** (Colab, repository) from ``pyproject.toml``'s ``[tool.advml]``.
* The build works on copies in ``<cache>/site/src`` and writes ``<cache>/site/html``: it
  never writes into the repository.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbtools
import slides

ROOT = nbtools.ROOT
WEEK = re.compile(r"^### (.+)$")
ROW_LINK = re.compile(r"^\|\s*(?P<module>[^|]+?)\s*\|\s*\[(?P<text>[^\]]+)\]\((?P<path>[^)]+\.ipynb)\)\s*\|")
ROW_PLANNED = re.compile(r"^\|\s*(?P<module>[^|]+?)\s*\|\s*`(?P<path>[^`]+\.ipynb)`\s*\(planned\)\s*\|")


def site_dir() -> Path:
    sys.path.insert(0, str(ROOT))
    from advml.cache import cache_dir
    return cache_dir() / "site"


def syllabus(readme: Path = ROOT / "README.md") -> list[dict]:
    """The README's syllabus: ``[{"title": "Week 0: ...", "modules": [{"module", "path",
    "planned"}]}]`` in order."""
    text = readme.read_text(encoding="utf-8")
    body = text.split("## Syllabus", 1)[1].split("\n## ", 1)[0]
    weeks, current = [], None
    for line in body.splitlines():
        heading = WEEK.match(line)
        if heading:
            current = {"title": heading.group(1).strip(), "modules": []}
            weeks.append(current)
            continue
        if current is None:
            continue
        linked, planned = ROW_LINK.match(line), ROW_PLANNED.match(line)
        if linked:
            current["modules"].append({"module": linked["module"], "path": linked["path"],
                                       "planned": False})
        elif planned:
            current["modules"].append({"module": planned["module"], "path": planned["path"],
                                       "planned": True})
    return weeks


def _intro(readme: Path = ROOT / "README.md") -> str:
    """The README's opening paragraphs (before the first section)."""
    text = readme.read_text(encoding="utf-8")
    head = text.split("\n## ", 1)[0]
    return "\n".join(head.splitlines()[1:]).strip()


def _landing_page(weeks: list[dict]) -> str:
    config = nbtools.project_config()
    lines = ["# Advanced Machine Learning", "", _intro(), "",
             f"Run the course: clone [{config['repository']}]({config['repository']}) and "
             "`python3 tools/course.py lab`, or open a lesson in Colab with the launch button "
             "(the rocket) at the top of its page. The notation is defined once, in "
             "[the course macros](Latex_macros.ipynb).", "", "## Syllabus", ""]
    for week in weeks:
        lines += [f"### {week['title']}", "", "| module | notebook |", "|---|---|"]
        for m in week["modules"]:
            target = (f"*planned*" if m["planned"] else
                      f"[{Path(m['path']).stem.replace('_', ' ')}]({m['path']})")
            lines.append(f"| {m['module']} | {target} |")
        lines.append("")
    for week in weeks:
        docs = [m["path"][:-len(".ipynb")] for m in week["modules"] if not m["planned"]]
        if docs:
            lines += ["```{toctree}", ":hidden:", f":caption: {week['title']}", "",
                      *docs, "```", ""]
    lines += ["```{toctree}", ":hidden:", ":caption: Reference", "", "Latex_macros", "```", ""]
    return "\n".join(lines)


def _conf(macros: dict) -> str:
    config = nbtools.project_config()
    settings = {
        "project": "Advanced Machine Learning",
        "author": "the course authors",
        "copyright": "the course authors",
        "extensions": ["myst_nb"],
        "exclude_patterns": ["_build", "**.ipynb_checkpoints", "images/**", "**/README.md"],
        "nb_execution_mode": "off",                 # the committed outputs, never re-run
        "nb_merge_streams": True,
        "myst_enable_extensions": ["dollarmath", "amsmath"],
        "myst_heading_anchors": 3,
        "html_theme": "sphinx_book_theme",
        "html_title": "Advanced Machine Learning",
        "html_static_path": ["_course_static"],
        "html_theme_options": {
            "repository_url": config["repository"],
            "repository_branch": config["branch"],
            "path_to_docs": "",
            "use_repository_button": True,
            "launch_buttons": {"colab_url": "https://colab.research.google.com",
                               "notebook_interface": "jupyterlab"},
            "navigation_with_keys": False,
        },
        "html_last_updated_fmt": None,
        "html_copy_source": True,                   # the .ipynb, for the download button
        "mathjax_path": "mathjax/tex-chtml-full.js",   # relative to _static: served locally
        "mathjax3_config": {"tex": {"macros": macros}},
        "suppress_warnings": ["myst.header", "mystnb.unknown_mime_type", "misc.highlighting_failure"],
    }
    return "".join(f"{key} = {json.dumps(value)}\n".replace("null", "None")
                   .replace("true", "True").replace("false", "False")
                   for key, value in settings.items())


def stage(src: Path) -> list[Path]:
    """Copies of the notebooks and images, prepared for the site, with conf.py and the
    landing page; returns the notebooks staged."""
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    weeks = syllabus()
    staged = []
    for path in nbtools.course_notebooks():
        rel = path.relative_to(ROOT)
        nb = nbtools.read(path)
        for cell in nb.cells:
            # the macros come from MathJax's configuration on every page
            if nbtools.MACROS_TAG in cell.metadata.get("tags", []):
                cell.metadata["tags"] = [*cell.metadata["tags"], "remove-cell"]
            # the drawn diagrams travel in the notebook as attachments, which myst-nb leaves
            # as broken `attachment:` links: the site shows the vector file of images/ instead
            for name in list(cell.get("attachments", {})):
                svg = ROOT / "images" / f"{Path(name).stem}.svg"
                if svg.exists() and f"](attachment:{name})" in cell.source:
                    link = Path(os.path.relpath(svg, path.parent)).as_posix()
                    cell.source = cell.source.replace(f"](attachment:{name})", f"]({link})")
                    del cell.attachments[name]
        target = src / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        nbtools.write(nb, target)
        staged.append(target)
    if (ROOT / "images").is_dir():
        shutil.copytree(ROOT / "images", src / "images")
    macros = {name: ([body, nargs] if nargs else body)
              for name, (nargs, body) in nbtools.macro_table().items()}
    (src / "conf.py").write_text(_conf(macros), encoding="utf-8")
    (src / "index.md").write_text(_landing_page(weeks), encoding="utf-8")
    slides.copy_mathjax(src / "_course_static" / "mathjax")
    return staged


def build(out: Path | None = None, quiet: bool = True) -> dict:
    """Build the site; return ``{"html": folder, "seconds", "pages", "warnings"}``."""
    base = site_dir() if out is None else Path(out)
    src, html = base / "src", base / "html"
    start = time.perf_counter()
    stage(src)
    if html.exists():
        shutil.rmtree(html)
    log = base / "sphinx.log"
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-j", "1", "-d",
               str(base / "doctrees"), str(src), str(html)]
    with open(log, "w") as handle:
        result = subprocess.run(command, stdout=handle, stderr=subprocess.STDOUT, cwd=src)
    text = log.read_text(encoding="utf-8", errors="replace")
    if result.returncode != 0:
        raise SystemExit(f"sphinx failed ({result.returncode}); see {log}:\n{text[-3000:]}")
    pages = sorted(p.relative_to(html).as_posix() for p in html.rglob("*.html")
                   if not p.relative_to(html).as_posix().startswith(("_", "genindex", "search")))
    warnings = [line for line in text.splitlines() if "WARNING" in line]
    return {"html": html, "seconds": time.perf_counter() - start, "pages": pages,
            "warnings": warnings, "log": log}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="course.py site",
                                     description="Build the course website (offline).")
    parser.add_argument("--out", type=Path, help="build folder (default: <cache>/site)")
    parser.add_argument("--serve", action="store_true", help="serve the site when built")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    result = build(args.out)
    print(f"built {len(result['pages'])} pages in {result['seconds']:.0f} s -> "
          f"{result['html']}/index.html ({len(result['warnings'])} Sphinx warnings, "
          f"see {result['log']})", flush=True)
    if args.serve:
        slides.serve(result["html"], args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
