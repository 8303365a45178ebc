"""Test-suite configuration shared by the unit tests (tests/) and the notebooks (nbval).

* Every notebook runs ALONE, the way Colab opens it: its kernel starts in a fresh temporary
  folder holding only a copy of the notebook (the helper package installed, nothing of the
  repository beside it). Outputs are compared only where a cell is marked
  ``# NBVAL_CHECK_OUTPUT`` (nbval's lax mode). An explicit ``--nbval``/``--nbval-lax`` on the
  command line falls back to nbval's own collection (in place).
* Notebooks run in fresh kernels with the environment of ``tools/nbtools.notebook_env``:
  small scale, CPU only, Hugging Face offline flags, quiet TensorFlow.
* With several xdist workers each kernel gets its share of the cores (OMP_NUM_THREADS and
  TensorFlow's intra-op pool): two kernels each spinning two threads on two cores made the
  PyTorch notebooks up to 5x slower.
* At the end the run prints each notebook's execution time (a report, not a test), and
  fails if anything in the repository was written or changed by the run.
"""
import collections
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from nbval.kernel import RunningKernel
from nbval.plugin import IPyNbFile

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "tools"))

import nbtools  # noqa: E402

_durations = collections.defaultdict(float)
_cells = collections.Counter()
_git_before = None


def _git_status():
    try:
        out = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT,
                             capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return set(out.stdout.splitlines()) if out.returncode == 0 else None


class AloneNotebook(IPyNbFile):
    """nbval's notebook collector, with the kernel started in a folder of its own."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.compare_outputs = False  # lax: compare only cells marked NBVAL_CHECK_OUTPUT

    def setup(self):
        self.alone_dir = tempfile.mkdtemp(prefix="advml-alone-")
        shutil.copy2(self.path, Path(self.alone_dir) / self.path.name)
        env = {"COURSE_NOTEBOOK": self.path.name}
        os.environ.update(env)
        self.kernel = RunningKernel(
            self.nb.metadata.get("kernelspec", {}).get("name", "python3"), cwd=self.alone_dir,
            startup_timeout=self.config.option.nbval_kernel_startup_timeout)
        self.setup_sanitize_files()

    def teardown(self):
        super().teardown()
        shutil.rmtree(getattr(self, "alone_dir", ""), ignore_errors=True)


def pytest_collect_file(file_path, parent):
    opt = parent.config.option
    if file_path.suffix == ".ipynb" and not (opt.nbval or opt.nbval_lax):
        return AloneNotebook.from_parent(parent, path=file_path)


def pytest_configure(config):
    global _git_before
    os.environ.update(nbtools.notebook_env())
    workers = int(getattr(config, "workerinput", {}).get("workercount", 1))
    if workers > 1:
        threads = str(max(1, len(os.sched_getaffinity(0)) // workers))
        for var in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS"):
            os.environ.setdefault(var, threads)
    if not hasattr(config, "workerinput"):  # the controller, not an xdist worker
        _git_before = _git_status()


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        _durations[path] += report.duration
        if report.when == "call":
            _cells[path] += 1


def pytest_terminal_summary(terminalreporter):
    if not _durations:
        return
    terminalreporter.section("notebook execution times (report only)")
    for path, seconds in sorted(_durations.items(), key=lambda kv: -kv[1]):
        terminalreporter.write_line(f"{seconds:7.1f} s  {path}  ({_cells[path]} cells)")
    terminalreporter.write_line(f"{sum(_durations.values()):7.1f} s  total (summed over workers)")


def pytest_sessionfinish(session, exitstatus):
    if _git_before is None or hasattr(session.config, "workerinput"):
        return
    after = _git_status()
    if after is None:
        return
    new = sorted(after - _git_before)
    if new:
        print("\nThe test run wrote into the repository (notebooks must write only under the "
              "course cache, see advml.workdir):\n  " + "\n  ".join(new))
        session.exitstatus = 1
