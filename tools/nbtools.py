"""Notebook tooling: the macro source, generated cells (macros, launch badges, embedded
diagrams from ``images/``, see ``tools/diagrams.py``), the README's
syllabus tables (generated from ``advml/syllabus.py``), the harvested lesson code
(``advml/lessons.py``, see ``tools/lessons.py``), math extraction, formatting and
in-place execution. Used by ``tools/course.py`` and the tests.

Run through ``python3 tools/course.py format|execute`` rather than directly.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import nbformat

import bootstrap  # tools/bootstrap.py: the canonical setup-cell bootstrap (Colab)
import diagrams   # tools/diagrams.py: the drawn block diagrams, embedded as attachments

ROOT = Path(__file__).resolve().parents[1]
MACROS_NOTEBOOK = ROOT / "Latex_macros.ipynb"
MACROS_TAG = "course-macros"      # the generated cell in each notebook
SOURCE_TAG = "macro-source"       # the defining cells of Latex_macros.ipynb
MACROS_MARKER = "<!-- course-macros: generated from Latex_macros.ipynb by `python3 tools/course.py format`; do not edit -->"
BADGES_START, BADGES_END = "<!-- badges -->", "<!-- /badges -->"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python", "pygments_lexer": "ipython3", "version": "3.11"}
CELL_METADATA_DROP = ("execution", "collapsed", "scrolled", "jp-MarkdownHeadingCollapsed",
                      "ExecuteTime", "pycharm", "vscode")


# --------------------------------------------------------------------------- notebooks
def course_notebooks(root: Path = ROOT) -> list[Path]:
    """Every notebook of the course: top-level modules (macros included) and assignments."""
    return sorted(root.glob("*.ipynb")) + sorted((root / "assignments").glob("*.ipynb"))


def read(path: Path):
    return nbformat.read(str(path), as_version=4)


def markdown_cells(nb, include_generated: bool = True):
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            if include_generated or MACROS_TAG not in cell.metadata.get("tags", []):
                yield cell.source


# --------------------------------------------------------------------------- macros
_NEWCOMMAND = re.compile(r"\\newcommand\s*\{\\([A-Za-z]+)\}\s*(?:\[(\d)\])?\s*\{")


def _balanced(text: str, start: int) -> int:
    """Index just past the brace group that opens at text[start] == '{'."""
    depth = 0
    i = start
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ValueError(f"unbalanced braces in macro definition starting {text[start:start + 40]!r}")


def parse_macros(text: str) -> list[tuple[str, int, str]]:
    """All ``\\newcommand{\\name}[n]{body}`` definitions in ``text`` as (name, n, body)."""
    found = []
    for match in _NEWCOMMAND.finditer(text):
        end = _balanced(text, match.end() - 1)
        found.append((match.group(1), int(match.group(2) or 0), text[match.end():end - 1]))
    return found


def macro_source(path: Path = MACROS_NOTEBOOK) -> list[tuple[str, int, str]]:
    """The course's macro definitions, in order, from ``Latex_macros.ipynb``."""
    nb = read(path)
    return [m for cell in nb.cells if SOURCE_TAG in cell.metadata.get("tags", [])
            for m in parse_macros(cell.source)]


def macro_table(path: Path = MACROS_NOTEBOOK) -> dict[str, tuple[int, str]]:
    return {name: (nargs, body) for name, nargs, body in macro_source(path)}


def definition(name: str, nargs: int, body: str) -> str:
    return f"\\newcommand{{\\{name}}}" + (f"[{nargs}]" if nargs else "") + f"{{{body}}}"


COMMAND = re.compile(r"\\([A-Za-z]+)")


def used_macros(texts, table) -> list[str]:
    """Course macros used in ``texts``, with the macros their bodies use, in source order."""
    needed = set()
    todo = [name for text in texts for name in COMMAND.findall(text) if name in table]
    while todo:
        name = todo.pop()
        if name not in needed:
            needed.add(name)
            todo.extend(n for n in COMMAND.findall(table[name][1]) if n in table)
    return [name for name in table if name in needed]


def macros_cell_source(nb, table) -> str:
    texts = [src for src in markdown_cells(nb, include_generated=False)]
    names = used_macros(texts, table)
    # The blank line after the comment matters: a comment line glued to the math makes
    # JupyterLab's Markdown renderer treat the whole cell as raw HTML and never typeset it.
    lines = [MACROS_MARKER]
    if names:
        lines += ["", "$$"] + [definition(n, *table[n]) for n in names] + ["$$"]
    return "\n".join(lines)


# --------------------------------------------------------------------------- math
_FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.S | re.M)
_INLINE_CODE = re.compile(r"(`+)(?:.+?)\1", re.S)
_ENV = re.compile(r"\\begin\{([a-zA-Z*]+)\}.*?\\end\{\1\}", re.S)


def math_expressions(markdown: str) -> list[tuple[str, bool]]:
    """The math of a Markdown cell as (TeX, display) pairs, the way Jupyter splits it:
    ``$$...$$`` and ``\\begin{env}...\\end{env}`` (display), ``$...$`` (inline); code spans
    and fenced blocks are skipped, ``\\$`` is a literal dollar."""
    text = _FENCE.sub("", markdown)
    text = _INLINE_CODE.sub("", text)
    found, i, n = [], 0, len(text)
    plain_start = 0
    plain_parts = []
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n and text[i + 1] == "$":
            i += 2
            continue
        if ch == "$":
            display = text.startswith("$$", i)
            delim = "$$" if display else "$"
            j = i + len(delim)
            while True:
                j = text.find(delim, j)
                if j == -1 or text[j - 1] != "\\":
                    break
                j += 1
            if j == -1:
                raise ValueError(f"unclosed {delim} in Markdown near {text[i:i + 60]!r}")
            plain_parts.append(text[plain_start:i])
            found.append((text[i + len(delim):j], display))
            i = plain_start = j + len(delim)
            continue
        i += 1
    plain_parts.append(text[plain_start:])
    for part in plain_parts:
        found.extend((m.group(0), True) for m in _ENV.finditer(part))
    return [(tex, display) for tex, display in found if tex.strip()]


def notebook_math(nb, include_generated: bool = False) -> list[tuple[str, bool]]:
    return [expr for src in markdown_cells(nb, include_generated) for expr in math_expressions(src)]


# --------------------------------------------------------------------------- badges
def project_config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["advml"]


def badges(relpath: str) -> str:
    config = project_config()
    repo = config["repository"].rstrip("/")
    owner_repo = repo.split("github.com/", 1)[1]
    colab = f"https://colab.research.google.com/github/{owner_repo}/blob/{config['branch']}/{relpath}"
    github = f"{repo}/blob/{config['branch']}/{relpath}"
    # The comments stand on lines of their own, separated by blank lines: glued to the links
    # they turn the paragraph into a raw HTML block, and the badges show as Markdown source.
    return (f"{BADGES_START}\n\n[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
            f"({colab}) [![View on GitHub](https://img.shields.io/badge/view%20on-GitHub-blue?logo=github)]"
            f"({github})\n\n{BADGES_END}")


_GIT_URL = re.compile(r"git\+https://github\.com/[^\"'\s]+")
_BADGES = re.compile(re.escape(BADGES_START) + ".*?" + re.escape(BADGES_END), re.S)


def badge_links(markdown: str) -> list[str]:
    match = _BADGES.search(markdown)
    return re.findall(r"\)\]\((http[^)\s]+)\)", match.group(0)) if match else []


# --------------------------------------------------------------------------- README syllabus
README = ROOT / "README.md"
SYLLABUS_SOURCE = ROOT / "advml" / "syllabus.py"
SYLLABUS_START = ("<!-- syllabus: generated from advml/syllabus.py by `python3 tools/course.py format`; "
                  "do not edit -->")
SYLLABUS_END = "<!-- /syllabus -->"


def load_syllabus():
    """This checkout's ``advml/syllabus.py``, loaded from its file (not the installed ``advml``,
    which a shared virtual environment may point at another checkout)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("_course_syllabus", SYLLABUS_SOURCE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module      # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


def syllabus_markdown(root: Path = ROOT, syllabus=None) -> str:
    """The README's syllabus tables, generated from ``advml/syllabus.py``: one table per week,
    then the assignments. A notebook that exists under ``root`` is linked; one that does not is
    shown as `NAME.ipynb` (planned)."""
    syllabus = syllabus or load_syllabus()

    def row(m):
        target = (f"[{m.notebook}]({m.notebook})" if (root / m.notebook).exists()
                  else f"`{m.notebook}` (planned)")
        return f"| {m.title} | {target} | {m.description} |"

    header = ["| module | notebook | in one line |", "|---|---|---|"]
    lines = [SYLLABUS_START]
    for week in syllabus.weeks():
        lines += ["", f"### {week.heading}", "", *header, *map(row, week.modules)]
    lines += ["", "### Assignments", "", *header, *map(row, syllabus.assignments()), "",
              SYLLABUS_END]
    return "\n".join(lines)


_SYLLABUS_BLOCK = re.compile(re.escape(SYLLABUS_START) + ".*?" + re.escape(SYLLABUS_END), re.S)


def readme_with_syllabus(text: str, root: Path = ROOT) -> str:
    """The README text with its generated syllabus block regenerated."""
    if len(_SYLLABUS_BLOCK.findall(text)) != 1:
        raise ValueError(f"README.md needs exactly one syllabus block between {SYLLABUS_START!r} "
                         f"and {SYLLABUS_END!r}")
    block = syllabus_markdown(root)
    return _SYLLABUS_BLOCK.sub(lambda _: block, text)


def format_readme(path: Path = README, write_back: bool = True) -> bool:
    """Regenerate the README's syllabus block; return True if it was (or would be) changed."""
    before = path.read_text(encoding="utf-8")
    after = readme_with_syllabus(before, path.parent)
    if after != before and write_back:
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(after, encoding="utf-8")
        os.replace(tmp, path)
    return after != before


# --------------------------------------------------------------------------- format
def _cell_id(cell, index: int, seen: set) -> str:
    cid = cell.get("id")
    if not cid or cid in seen or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", cid):
        cid = hashlib.sha1(f"{index}:{cell.source}".encode()).hexdigest()[:8]
        while cid in seen:
            cid = hashlib.sha1(cid.encode()).hexdigest()[:8]
    seen.add(cid)
    return cid


def format_notebook(nb, relpath: str, table=None):
    """Normalize a notebook in memory: fixed metadata, stable ids, regenerated macros cell
    and launch badges. Returns the notebook."""
    is_macros = relpath == MACROS_NOTEBOOK.name
    nb.metadata = nbformat.from_dict({"kernelspec": KERNELSPEC, "language_info": LANGUAGE_INFO})
    nb.nbformat, nb.nbformat_minor = 4, 5
    seen: set = set()
    for index, cell in enumerate(nb.cells):
        cell["id"] = _cell_id(cell, index, seen)
        for key in CELL_METADATA_DROP:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            for output in cell.get("outputs", []):
                output.pop("transient", None)
            # the Colab install line names the configured repository
            cell.source = _GIT_URL.sub("git+" + project_config()["repository"].rstrip("/"),
                                       cell.source)
        cell.source = cell.source.rstrip() if isinstance(cell.source, str) else cell.source
    bootstrap.apply(nb, project_config()["repository"])  # canonical Colab bootstrap block
    # launch badges in the title cell
    if nb.cells and nb.cells[0].cell_type == "markdown":
        title = nb.cells[0]
        if BADGES_START in title.source:
            title.source = _BADGES.sub(lambda _: badges(relpath), title.source)
    if not is_macros:
        table = macro_table() if table is None else table
        source = macros_cell_source(nb, table)
        cells = [c for c in nb.cells if MACROS_TAG in c.metadata.get("tags", [])]
        if cells:
            cells[0].source = source
        else:
            cell = nbformat.v4.new_markdown_cell(source, metadata={"tags": [MACROS_TAG]})
            cell["id"] = _cell_id(cell, -1, seen)
            nb.cells.insert(1 if nb.cells else 0, cell)
    diagrams.embed(nb)                 # <!-- diagram: NAME --> cells carry images/NAME.png
    from slides import slide_metadata  # tools/slides.py imports this module: import here
    slide_metadata(nb)                 # slide metadata from the notebook's structure
    return nb


def write(nb, path: Path) -> None:
    text = json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def format_file(path: Path, table=None) -> bool:
    """Format one notebook in place; return True if it changed."""
    path = Path(path).resolve()
    before = path.read_text(encoding="utf-8")
    nb = format_notebook(read(path), path.relative_to(ROOT).as_posix(), table)
    text = json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
    if text != before:
        write(nb, path)
    return text != before


# --------------------------------------------------------------------------- execute
def notebook_env() -> dict:
    """The environment every test and re-execution runs notebooks in: small scale (unless
    COURSE_SCALE says otherwise), CPU only, hub offline flags, quiet TensorFlow."""
    env = dict(os.environ)
    env.update({"COURSE_SCALE": env.get("COURSE_SCALE", "small"), "CUDA_VISIBLE_DEVICES": "",
                "TF_CPP_MIN_LOG_LEVEL": "3", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
                "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
                "PYTHONWARNINGS": "ignore::DeprecationWarning",
                "JUPYTER_PLATFORM_DIRS": "1"})
    return env


@contextlib.contextmanager
def alone_folder(path: Path):
    """A fresh temporary folder holding only a copy of the notebook, the way Colab opens it:
    nothing of the repository beside it (the helper package is installed, not found here)."""
    with tempfile.TemporaryDirectory(prefix="advml-alone-") as folder:
        shutil.copy2(path, Path(folder) / Path(path).name)
        yield Path(folder)


def run_alone(path: Path, env: dict | None = None, timeout: int = 1800,
              allow_errors: bool = False):
    """Execute a notebook top to bottom in a fresh kernel, alone in a temporary folder.
    Returns ``(executed notebook, seconds)``; the file itself is not touched."""
    from nbclient import NotebookClient

    path = Path(path).resolve()
    nb = read(path)
    kernel_env = notebook_env()
    kernel_env.update({"COURSE_NOTEBOOK": path.name, **(env or {})})
    with alone_folder(path) as folder:
        start = time.perf_counter()
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                allow_errors=allow_errors,
                                resources={"metadata": {"path": str(folder)}})
        client.execute(env=kernel_env)  # the kernel's own environment: safe from threads
        return nb, time.perf_counter() - start


def execute_file(path: Path, timeout: int = 1800) -> float:
    """Execute a notebook top to bottom in a fresh kernel, alone in a temporary folder, and
    write the executed notebook back in place; return seconds taken."""
    path = Path(path).resolve()
    nb, seconds = run_alone(path, timeout=timeout)
    write(format_notebook(nb, path.relative_to(ROOT).as_posix()), path)
    return seconds


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("format", "execute", "check-format"):
        print("usage: nbtools.py format|check-format|execute [NOTEBOOK ...]", file=sys.stderr)
        return 2
    command, names = argv[0], argv[1:]
    paths = [Path(n).resolve() for n in names] if names else course_notebooks()
    for path in paths:
        if not path.exists() or path.suffix != ".ipynb":
            print(f"error: {path} is not a notebook of the course", file=sys.stderr)
            return 2
    table = macro_table()
    if command == "execute":
        for path in paths:
            if path == MACROS_NOTEBOOK:
                continue
            print(f"executing {path.name} ...", flush=True)
            print(f"  {execute_file(path):.1f} s", flush=True)
        return 0
    pins_copy = ROOT / "advml" / "requirements.txt"   # the doctor's pins, inside the package
    if pins_copy.read_bytes() != (ROOT / "requirements.txt").read_bytes():
        if command == "format":
            shutil.copyfile(ROOT / "requirements.txt", pins_copy)
        print(("copied requirements.txt to " if command == "format" else "stale: ")
              + "advml/requirements.txt")
    if format_readme(write_back=command == "format"):   # the syllabus tables, every time
        print(("regenerated the syllabus in " if command == "format" else "stale syllabus in ")
              + "README.md")
        stale_readme = command == "check-format"
    else:
        stale_readme = False
    for path in diagrams.draw_all(write_back=command == "format"):   # images/ drawn anew
        print(("drew " if command == "format" else "stale diagram: ")
              + path.relative_to(ROOT).as_posix())
        stale_readme = stale_readme or command == "check-format"
    import lessons   # tools/lessons.py: the #@save cells, harvested into advml/lessons.py
    if lessons.write_module(course_notebooks(), write_back=command == "format"):
        print(("regenerated " if command == "format" else "stale: ") + "advml/lessons.py")
        stale_readme = stale_readme or command == "check-format"
    changed = [p for p in paths if (format_file(p, table) if command == "format"
                                    else _would_change(p, table))]
    for path in changed:
        print(("formatted " if command == "format" else "not formatted: ") + path.name)
    return 1 if (command == "check-format" and (changed or stale_readme)) else 0


def _would_change(path: Path, table) -> bool:
    before = path.read_text(encoding="utf-8")
    nb = format_notebook(read(path), path.relative_to(ROOT).as_posix(), table)
    return json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n" != before


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
