"""The course notation: one valid macro source, fresh macro cells, and every formula of every
notebook rendered by MathJax 3 (mathjax-full under Node) with zero errors."""
import collections
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import nbtools

ROOT = nbtools.ROOT
NOTEBOOKS = nbtools.course_notebooks()
LESSONS = [p for p in NOTEBOOKS if p != nbtools.MACROS_NOTEBOOK]
RENDER = ROOT / "tools" / "mathjax" / "render.js"


def _node() -> str:
    node = Path(sys.executable).parent / "node"
    found = str(node) if node.exists() else shutil.which("node")
    if not found or not (RENDER.parent / "node_modules" / "mathjax-full").is_dir():
        pytest.fail("MathJax under Node is not installed; run `python3 tools/course.py setup`")
    return found


def mathjax(request: dict) -> dict:
    out = subprocess.run([_node(), str(RENDER)], input=json.dumps(request), capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def source():
    return nbtools.macro_source()


def test_every_definition_parses_and_is_a_newcommand(source):
    nb = nbtools.read(nbtools.MACROS_NOTEBOOK)
    cells = [c.source for c in nb.cells if nbtools.SOURCE_TAG in c.metadata.get("tags", [])]
    text = "\n".join(cells)
    assert cells and text.count("\\newcommand") == len(source) > 40
    for bad in ("\\def", "\\renewcommand", "\\DeclareMathOperator", "\\let"):
        assert bad not in text, f"use \\newcommand in Latex_macros.ipynb, not {bad}"


def test_no_macro_is_defined_twice(source):
    counts = collections.Counter(name for name, _, _ in source)
    assert [n for n, c in counts.items() if c > 1] == []


def test_no_macro_redefines_a_standard_command(source):
    standard = mathjax({"probe": [name for name, _, _ in source]})["standard"]
    assert standard == [], f"these names are already MathJax/LaTeX commands: {standard}"


def test_arguments_match_their_use(source):
    for name, nargs, body in source:
        used = {int(d) for d in __import__("re").findall(r"#(\d)", body)}
        assert used == set(range(1, nargs + 1)), f"\\{name}: [{nargs}] but body uses #{sorted(used)}"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_macros_cell_is_generated_and_fresh(path):
    nb = nbtools.read(path)
    cells = [c for c in nb.cells if nbtools.MACROS_TAG in c.metadata.get("tags", [])]
    assert len(cells) == 1, "exactly one generated macros cell (python3 tools/course.py format)"
    expected = nbtools.macros_cell_source(nb, nbtools.macro_table())
    assert cells[0].source == expected, (
        f"{path.name}: its macros cell is stale; run `python3 tools/course.py format {path.name}`")


def test_every_formula_renders_alone(capsys):
    """Each notebook is rendered in its own MathJax document with only its own macros cell,
    as it would be when opened alone (Colab); the commands it uses must all be known."""
    table = nbtools.macro_table()
    jobs, used = [], set()
    for path in NOTEBOOKS:
        nb = nbtools.read(path)
        if path == nbtools.MACROS_NOTEBOOK:
            preamble, expressions = [], nbtools.notebook_math(nb, include_generated=True)
        else:
            cell = next(c for c in nb.cells if nbtools.MACROS_TAG in c.metadata.get("tags", []))
            preamble = [tex for tex, _ in nbtools.math_expressions(cell.source)]
            expressions = nbtools.notebook_math(nb)
        for tex, _ in expressions:
            used.update(nbtools.COMMAND.findall(tex))
        jobs.append({"name": path.name, "preamble": preamble, "expressions": expressions})
    result = mathjax({"jobs": jobs, "probe": sorted(used - set(table))})
    unknown = sorted(set(used) - set(table) - set(result["standard"]))
    assert unknown == [], f"commands neither standard nor in Latex_macros.ipynb: {unknown}"
    errors = [f"{e['name']}: {e['error']} in {e['tex'][:80]!r}" for e in result["errors"]]
    assert errors == [], "\n".join(errors)
    with capsys.disabled():
        print(f"\n[mathjax] {len(table)} macros; {result['rendered']} formulas in "
              f"{len(NOTEBOOKS)} notebooks rendered with 0 errors")
