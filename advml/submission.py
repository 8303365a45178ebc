"""The submission checker: run a notebook the way it is graded, and say what breaks.

A submission is graded **alone**: the notebook is copied into an empty temporary folder and
executed top to bottom in a fresh kernel, with a time limit. It passes when every cell runs.
The report names the first failing cell (its number, its first line, the error), so a
student sees what the grader will see before submitting::

    python -m advml.submission My_Assignment.ipynb          # or: python3 tools/course.py check-submission ...

    from advml.submission import check_submission
    report = check_submission("My_Assignment.ipynb", time_limit=600)
    print(report)            # report.passed, report.failing_cell, report.error

Before running anything the checker reads the code for paths that cannot exist in the
grader's empty folder (absolute paths such as ``/home/me/data.csv`` or ``C:\\data``, ``~/``,
or ``../`` leaving the notebook's folder) and reports them as errors with the cell they are
in. While it runs, ``$COURSE_SUBMISSION=1`` is set: assignment notebooks use
:func:`visible_test`, which lets an unfinished task pass quietly while a student works
and fails it when graded.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GRADING_ENV = "COURSE_SUBMISSION"     # "1" while the checker runs a submission
DEFAULT_TIME_LIMIT_S = 600

# A string literal that names a place outside the notebook's own folder.
_OUTSIDE = re.compile(r"""(?P<q>['"])(?P<path>/[A-Za-z_~.][^'"\n]*|[A-Za-z]:[\\/][^'"\n]*"""
                      r"""|~[\\/][^'"\n]*|\.\.(?:[\\/][^'"\n]*)?)(?P=q)""")


@dataclasses.dataclass
class Report:
    """What the checker found: ``passed``, and otherwise the first failing cell and why."""
    notebook: str
    passed: bool
    seconds: float = 0.0
    code_cells: int = 0
    cells_run: int = 0
    failing_cell: int | None = None      # 1-based position among ALL cells of the notebook
    failing_source: str = ""             # first line of the failing cell
    error: str = ""                      # one line: the error's type and message
    problems: list[str] = dataclasses.field(default_factory=list)  # found before running

    def __str__(self) -> str:
        head = f"{self.notebook}: " + ("PASSED" if self.passed else "FAILED")
        lines = [head + f" ({self.cells_run} of {self.code_cells} code cells run, "
                        f"{self.seconds:.1f} s, alone in an empty folder)"]
        lines += [f"  error: {p}" for p in self.problems]
        if self.failing_cell is not None:
            lines.append(f"  first failing cell: cell {self.failing_cell} "
                         f"({self.failing_source!r})")
        if self.error:
            lines.append(f"  {self.error}")
        return "\n".join(lines)


def grading() -> bool:
    """True while the checker (or a grader) runs the notebook."""
    return os.environ.get(GRADING_ENV, "") == "1"


def visible_test(name: str, test) -> bool:
    """Run one visible test of an assignment; return True when it passes.

    A task whose code still raises ``NotImplementedError`` is reported as ``todo`` while you
    work (the notebook goes on, so the tests of the other tasks still run); when the notebook
    is graded (``$COURSE_SUBMISSION=1``, set by the checker) it fails like any failed check.
    """
    try:
        test()
    except NotImplementedError as error:
        if grading():
            raise NotImplementedError(f"{name}: not done yet ({error})") from None
        print(f"todo: {name}: not done yet ({error})")
        return False
    print(f"pass: {name}")
    return True


def outside_paths(nb) -> list[str]:
    """Problems found before running: code that names a path outside the notebook's folder."""
    problems = []
    for number, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code":
            continue
        for line in cell.source.splitlines():
            if line.lstrip().startswith("#"):
                continue
            for match in _OUTSIDE.finditer(line):
                path = match.group("path")
                kind = ("leaves the notebook's folder" if path.startswith("..")
                        else "is an absolute path")
                problems.append(
                    f"cell {number} uses {path!r}, which {kind}: a submission is graded alone "
                    "in an empty folder, so it can read only files it creates itself or that "
                    "the course provides (advml loaders); use a path relative to the notebook "
                    "and create or download the file in the notebook")
    return problems


def _kernel_env(name: str) -> dict:
    env = dict(os.environ)
    env.update({GRADING_ENV: "1", "COURSE_NOTEBOOK": name,
                "COURSE_SCALE": env.get("COURSE_SCALE", "small"), "TF_CPP_MIN_LOG_LEVEL": "3",
                "PYTHONWARNINGS": "ignore::DeprecationWarning"})
    return env


def _explain(ename: str, evalue: str) -> str:
    line = f"{ename}: {evalue}".strip()
    if ename in ("FileNotFoundError", "IsADirectoryError", "NotADirectoryError"):
        line += ("\n  (the notebook runs alone in an empty folder: a file that only exists on "
                 "your machine, or beside the notebook there, is not found here)")
    if ename in ("NameError",):
        line += ("\n  (a name defined in a cell that was deleted or run out of order: run the "
                 "notebook top to bottom in a fresh kernel before submitting)")
    return line


def check_submission(path, time_limit: float = DEFAULT_TIME_LIMIT_S,
                     kernel_name: str = "python3", env: dict | None = None) -> Report:
    """Copy ``path`` alone into an empty temporary folder, run it top to bottom in a fresh
    kernel within ``time_limit`` seconds in all, and report the first failing cell."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    path = Path(path)
    nb = nbformat.read(str(path), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    report = Report(notebook=path.name, passed=False, code_cells=len(code))
    report.problems = outside_paths(nb)
    if report.problems:
        report.error = "not run: fix the paths above first"
        return report
    kernel_env = _kernel_env(path.name)
    kernel_env.update(env or {})
    with tempfile.TemporaryDirectory(prefix="advml-submission-") as folder:
        shutil.copy2(path, Path(folder) / path.name)
        client = NotebookClient(nb, timeout=int(time_limit), kernel_name=kernel_name,
                                allow_errors=False, resources={"metadata": {"path": folder}})
        start = time.monotonic()
        deadline = start + time_limit
        client.reset_execution_trackers()
        try:
            # the kernel's own stderr (its start-up chatter) stays out of the caller's output
            with client.setup_kernel(env=kernel_env, stderr=subprocess.DEVNULL):
                for index, cell in enumerate(nb.cells):
                    if cell.cell_type != "code" or not cell.source.strip():
                        continue
                    remaining = deadline - time.monotonic()
                    failing = (index + 1, cell.source.strip().splitlines()[0][:80])
                    if remaining <= 0:
                        report.failing_cell, report.failing_source = failing
                        report.error = f"time limit of {time_limit:g} s reached before this cell"
                        break
                    client.timeout = max(1, int(remaining))
                    try:
                        client.execute_cell(cell, index,
                                            execution_count=client.code_cells_executed + 1)
                    except CellTimeoutError:
                        report.failing_cell, report.failing_source = failing
                        report.error = (f"time limit of {time_limit:g} s reached in this cell "
                                        "(the whole notebook must run within it)")
                        break
                    except CellExecutionError as error:
                        report.failing_cell, report.failing_source = failing
                        report.error = _explain(error.ename, error.evalue)
                        break
                    except DeadKernelError as error:
                        report.failing_cell, report.failing_source = failing
                        report.error = f"the kernel died (out of memory?): {error}"
                        break
                    report.cells_run += 1
                else:
                    report.passed = True
        finally:
            report.seconds = time.monotonic() - start
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m advml.submission",
        description="Run notebooks the way they are graded: alone in an empty folder, in a "
                    "fresh kernel, with a time limit; report the first failing cell.")
    parser.add_argument("notebooks", nargs="+", help="the notebook(s) to check")
    parser.add_argument("--time-limit", type=float, default=DEFAULT_TIME_LIMIT_S,
                        help=f"seconds for the whole notebook (default {DEFAULT_TIME_LIMIT_S})")
    args = parser.parse_args(argv)
    failed = 0
    for name in args.notebooks:
        report = check_submission(name, time_limit=args.time_limit)
        print(report, flush=True)
        failed += not report.passed
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
