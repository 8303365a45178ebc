"""Repository checks: notebooks committed executed and clean, README links, launch badges."""
import json
import re
from pathlib import Path
from urllib.parse import unquote

import nbformat
import pytest

import nbtools

ROOT = nbtools.ROOT
NOTEBOOKS = nbtools.course_notebooks()
LESSONS = [p for p in NOTEBOOKS if p != nbtools.MACROS_NOTEBOOK]
README = (ROOT / "README.md").read_text(encoding="utf-8")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)|<img[^>]+src=\"([^\"]+)\"")
MACHINE_PATH = re.compile(r"(/root/|/home/[a-z]|/Users/[A-Za-z]|/work/|/tmp/|[A-Z]:\\\\Users|"
                          r"site-packages/)")
SECRET = re.compile(r"(hf_[A-Za-z0-9]{30,}|sk-[A-Za-z0-9]{20,}|AKIA[0-9A-Z]{16}|"
                    r"ghp_[A-Za-z0-9]{30,}|(?i:(api[_-]?key|token|password)\s*=\s*['\"][^'\"]{8,}))")
MAX_NOTEBOOK_BYTES = 3_000_000
MAX_OUTPUT_BYTES = 500_000


def ids(path):
    return path.relative_to(ROOT).as_posix()


def links(markdown: str):
    markdown = re.sub(r"```.*?```", "", markdown, flags=re.S)
    for match in LINK.finditer(markdown):
        yield match.group(1) or match.group(2)


def test_there_are_lessons():
    assert {"Setup_NYU.ipynb", "Getting_Started.ipynb", "Functional_Models.ipynb"} <= {
        p.name for p in LESSONS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_is_linked_from_the_readme(path):
    assert f"]({ids(path)})" in README, f"README.md does not link {ids(path)}"


@pytest.mark.parametrize("path", [ROOT / "README.md", *NOTEBOOKS], ids=ids)
def test_relative_links_and_images_resolve(path):
    if path.suffix == ".md":
        texts = [path.read_text(encoding="utf-8")]
    else:
        texts = list(nbtools.markdown_cells(nbtools.read(path)))
    for text in texts:
        for target in links(text):
            if re.match(r"^(https?:|mailto:|#|attachment:)", target):
                continue    # attachments: tests/test_tools.py checks they are in the cell
            file_part = unquote(target.split("#", 1)[0])
            assert (path.parent / file_part).exists(), f"{ids(path)}: broken link {target}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_is_valid_and_formatted(path):
    nb = nbtools.read(path)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    assert not nbtools._would_change(path, nbtools.macro_table()), (
        f"run `python3 tools/course.py format {ids(path)}`")


@pytest.mark.parametrize("path", LESSONS, ids=ids)
def test_committed_executed_in_order_without_errors(path):
    nb = nbtools.read(path)
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    assert code, "a lesson has code"
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), (
        f"not committed from one clean run (execution counts {counts}); "
        f"run `python3 tools/course.py execute {ids(path)}`")
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert errors == []
    stderr = [o.text for c in code for o in c.outputs
              if o.output_type == "stream" and o.name == "stderr" and "Traceback" in o.text]
    assert stderr == []


def _text_only(output):
    """An output without its binary (base64) payloads, which can spell anything."""
    output = dict(output)
    if "data" in output:
        output["data"] = {k: v for k, v in output["data"].items() if not k.startswith("image/")}
    return output


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_no_machine_paths_no_secrets_bounded_outputs(path):
    text = path.read_text(encoding="utf-8")
    assert len(text.encode()) <= MAX_NOTEBOOK_BYTES, f"{len(text.encode())} bytes"
    nb = nbtools.read(path)
    for index, cell in enumerate(nb.cells):
        blobs = [cell.source] + [json.dumps(_text_only(o)) for o in cell.get("outputs", [])]
        for blob in blobs:
            found = MACHINE_PATH.search(blob)
            assert not found, f"cell {index}: machine path {found.group(0)!r}"
            found = SECRET.search(blob)
            assert not found, f"cell {index}: looks like a secret: {found.group(0)[:12]}..."
        for output in cell.get("outputs", []):
            size = len(json.dumps(output))
            assert size <= MAX_OUTPUT_BYTES, f"cell {index}: one output of {size} bytes"


@pytest.mark.parametrize("path", LESSONS, ids=ids)
def test_anatomy_and_badges(path):
    nb = nbtools.read(path)
    title = nb.cells[0]
    assert title.cell_type == "markdown" and title.source.startswith("# ")
    rel = ids(path)
    badge_targets = nbtools.badge_links(title.source)
    assert len(badge_targets) == 2, "title cell needs Colab and GitHub launch badges"
    assert all(url.endswith("/" + rel) for url in badge_targets), badge_targets
    assert nbtools.MACROS_TAG in nb.cells[1].metadata.get("tags", []), "macros cell second"
    assert any("parameters" in c.metadata.get("tags", []) for c in nb.cells), "a parameters cell"
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "check(" in code or "check_close(" in code, "a lesson verifies its claims"
    headings = [line for c in nb.cells if c.cell_type == "markdown" for line in c.source.splitlines()
                if line.startswith("#")]
    for section in ("Setup", "Checks", "Wrap-up"):
        assert any(section.lower() in h.lower() for h in headings), f"missing a '{section}' section"
