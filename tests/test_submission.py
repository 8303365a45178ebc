"""The submission checker (advml.submission) and the assignment notebooks.

The checker runs a notebook alone in an empty folder, in a fresh kernel, with a time limit,
and reports the first failing cell; a notebook that names a path outside its folder is an
error before anything runs. The assignment is checked three ways: the student version runs
(every task reported as not done yet), the reference solution (kept here, out of the student
notebook) applied to a copy passes the checker, and a broken solution fails it at the cell
of the task it breaks.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import nbtools
from advml import submission
from assignment_solutions import BROKEN, SOLUTIONS

ROOT = nbtools.ROOT


def _notebook(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# A submission")]
    nb.cells += [nbformat.v4.new_code_cell(src) for src in sources]
    nb.metadata["kernelspec"] = nbtools.KERNELSPEC
    nbformat.write(nb, str(path))
    return path


def test_a_good_submission_passes_alone(tmp_path):
    path = _notebook(tmp_path / "Good.ipynb",
                     "import os\nfrom pathlib import Path\nPath('scores.txt').write_text('0.9')",
                     "print(sorted(os.listdir('.')), os.environ['COURSE_SUBMISSION'])",
                     "assert float(Path('scores.txt').read_text()) > 0.5")
    (tmp_path / "extra.csv").write_text("1,2\n")      # beside it here, not where it is graded
    report = submission.check_submission(path, time_limit=120)
    assert report.passed, str(report)
    assert report.cells_run == report.code_cells == 3 and report.failing_cell is None


def test_the_first_failing_cell_is_reported(tmp_path):
    path = _notebook(tmp_path / "Broken.ipynb", "x = 1", "print(y)  # defined in a deleted cell",
                     "raise RuntimeError('never reached')")
    report = submission.check_submission(path, time_limit=120)
    assert not report.passed and report.failing_cell == 3, str(report)   # cell 1 is Markdown
    assert report.error.startswith("NameError") and "top to bottom" in report.error
    assert report.cells_run == 1 and "first failing cell: cell 3" in str(report)


def test_a_file_that_exists_only_beside_the_original_is_not_found(tmp_path):
    (tmp_path / "data.csv").write_text("1,2\n")
    path = _notebook(tmp_path / "Reads.ipynb", "open('data.csv').read()")
    report = submission.check_submission(path, time_limit=120)
    assert not report.passed and report.failing_cell == 2
    assert report.error.startswith("FileNotFoundError") and "empty folder" in report.error


@pytest.mark.parametrize("literal", ["/home/student/data.csv", "../data/train.csv",
                                     "C:\\\\Users\\\\me\\\\x.csv", "~/x.npy"])
def test_paths_outside_the_folder_are_errors_before_running(tmp_path, literal):
    path = _notebook(tmp_path / "Paths.ipynb", "import numpy as np",
                     f"# a comment may say '/home/x'\ndata = open(\"{literal}\")")
    report = submission.check_submission(path, time_limit=120)
    assert not report.passed and report.cells_run == 0 and report.seconds == 0
    assert len(report.problems) == 1 and report.problems[0].startswith("cell 3 uses")
    assert "graded alone in an empty folder" in report.problems[0]


def test_the_time_limit_stops_a_slow_submission(tmp_path):
    path = _notebook(tmp_path / "Slow.ipynb", "import time", "time.sleep(60)")
    report = submission.check_submission(path, time_limit=8)
    assert not report.passed and report.failing_cell == 3 and "time limit" in report.error
    assert report.seconds < 40


def test_visible_test_reports_todo_while_working_and_fails_when_graded(monkeypatch, capsys):
    def unfinished():
        raise NotImplementedError("your code here")

    monkeypatch.delenv(submission.GRADING_ENV, raising=False)
    assert submission.visible_test("task 1", unfinished) is False
    assert "todo: task 1" in capsys.readouterr().out
    assert submission.visible_test("task 2", lambda: None) is True
    monkeypatch.setenv(submission.GRADING_ENV, "1")
    with pytest.raises(NotImplementedError, match="task 1: not done yet"):
        submission.visible_test("task 1", unfinished)


def test_the_command_line_exit_status(tmp_path):
    good = _notebook(tmp_path / "Good.ipynb", "print('ok')")
    bad = _notebook(tmp_path / "Bad.ipynb", "1 / 0")
    out = subprocess.run([sys.executable, "-m", "advml.submission", str(good), str(bad),
                          "--time-limit", "120"], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 1, out.stderr
    assert "Good.ipynb: PASSED" in out.stdout and "Bad.ipynb: FAILED" in out.stdout
    assert "ZeroDivisionError" in out.stdout


# --------------------------------------------------------------------------- the assignment
def apply_solution(name: str, target: Path, overrides: dict | None = None) -> Path:
    """A copy of the student notebook with each task cell (tag ``task-N``) replaced by the
    reference solution kept in tests/assignment_solutions.py (and ``overrides``)."""
    nb = nbtools.read(ROOT / "assignments" / name)
    solution = {**SOLUTIONS[name], **(overrides or {})}
    replaced = set()
    for cell in nb.cells:
        for tag in cell.metadata.get("tags", []):
            if tag in solution:
                cell.source = solution[tag]
                replaced.add(tag)
    assert replaced == set(solution), f"task cells not found: {set(solution) - replaced}"
    nbformat.write(nb, str(target))
    return target


ASSIGNMENT = "Assignment_1_Fine_Tuning.ipynb"


def test_the_student_version_holds_no_solution():
    nb = nbtools.read(ROOT / "assignments" / ASSIGNMENT)
    tasks = {t: c for c in nb.cells for t in c.metadata.get("tags", []) if t.startswith("task-")}
    assert set(tasks) == set(SOLUTIONS[ASSIGNMENT])
    everything = "\n".join(c.source for c in nb.cells)
    for tag, solution in SOLUTIONS[ASSIGNMENT].items():
        assert "NotImplementedError" in tasks[tag].source, tag
        starter = set(tasks[tag].source.splitlines())
        written = [line.strip() for line in solution.splitlines()
                   if line not in starter and len(line.strip()) > 20]
        assert written, tag
        leaked = [line for line in written if line in everything]
        assert leaked == [], f"{tag}: the student notebook holds solution lines {leaked}"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The reference solution and a broken one, each through the checker (one run each)."""
    folder = tmp_path_factory.mktemp("graded")
    good = apply_solution(ASSIGNMENT, folder / ASSIGNMENT)
    broken_dir = folder / "broken"
    broken_dir.mkdir()
    bad = apply_solution(ASSIGNMENT, broken_dir / ASSIGNMENT, overrides=BROKEN[ASSIGNMENT])
    return {"good": submission.check_submission(good, time_limit=1200),
            "broken": submission.check_submission(bad, time_limit=1200)}


def test_the_reference_solution_passes_the_checker(graded):
    report = graded["good"]
    print(report)
    assert report.passed, str(report)


def test_a_broken_solution_fails_at_the_task_it_breaks(graded):
    report = graded["broken"]
    print(report)
    nb = nbtools.read(ROOT / "assignments" / ASSIGNMENT)
    expected = next(i for i, c in enumerate(nb.cells, start=1)
                    if "test-pooling" in c.metadata.get("tags", []))
    assert not report.passed and report.failing_cell == expected, str(report)
    assert report.error.startswith("CheckFailed")
