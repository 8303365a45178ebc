#!/usr/bin/env python3
"""The Colab-like environment: Colab's published package versions on Python 3.13, and a run of
every notebook in it, alone, the way its setup cell runs in a fresh Colab runtime.

    python3 tools/course.py colab-env            create (or check) the environment .venv-colab/
    python3 tools/course.py colab-test [NB ...]  run each notebook there alone; report

Prerequisite: a CPython 3.13 interpreter with pip and venv, found as ``$COURSE_PYTHON313``,
``python3.13`` on PATH, or a pyenv version 3.13.* (``pyenv install 3.13``). The versions come
from ``tools/colab/colab-snapshot.txt`` (what is installed) and ``colab-constraints.txt``
(Colab's whole pip freeze, so dependencies get Colab's versions too), both copied from the
public snapshot named in their headers.

colab-test, for each notebook: copies it into an empty temporary folder; gives its setup cell the
canonical bootstrap block (tools/bootstrap.py, as `format` does) and points its
``%pip install ... advml @ git+<repository>`` at this checkout instead; executes it top to
bottom in a fresh kernel of the Colab-like environment (offline hub flags, CPU, like the main
suite); records what the setup cell installed or changed (pip freeze before and after); then
restores the environment (uninstalls what was added, reinstalls what was changed), so that the
next notebook starts from Colab's packages again. It is slow (every notebook installs the
course's helper package and its assets): run it before a release, not in every CI run.
A JSON report and the executed notebooks are written to ~/.cache/advml-colab-test/run-<time>/
(or under ``$COURSE_COLAB_REPORT``), with a fresh course cache for each run in ``cache/``.
"""
from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT = ROOT / "tools" / "colab" / "colab-snapshot.txt"
CONSTRAINTS = ROOT / "tools" / "colab" / "colab-constraints.txt"
VENV = Path(os.environ.get("COURSE_COLAB_VENV", ROOT / ".venv-colab"))
PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".colab-env.json"
BEFORE = VENV / ".colab-freeze-before.txt"
WANTED = (3, 13)
GIT_INSTALL = re.compile(r"advml(\[[a-z,]*\])? @ git\+https://[^\"'\s]+")


def say(message: str) -> None:
    print(f"[colab] {message}", flush=True)


def find_python313() -> str:
    """A CPython 3.13 interpreter, or a SystemExit that says how to get one."""
    candidates = [os.environ.get("COURSE_PYTHON313", ""), shutil.which("python3.13") or ""]
    pyenv_root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates += sorted(glob.glob(os.path.join(pyenv_root, "versions", "3.13*", "bin", "python3.13")),
                         reverse=True)
    for candidate in filter(None, candidates):
        try:
            out = subprocess.run([candidate, "-c", "import sys, venv, ensurepip; "
                                  "print(*sys.version_info[:2])"],
                                 capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if out.returncode == 0 and tuple(map(int, out.stdout.split())) == WANTED:
            return candidate
    raise SystemExit(
        "[colab] error: the Colab-like environment needs CPython 3.13 (Colab's Python) with pip "
        "and venv, and none was found (looked at $COURSE_PYTHON313, python3.13 on PATH and "
        f"{pyenv_root}/versions/3.13*). Install one (e.g. `pyenv install 3.13`, or your OS's "
        "python3.13 and python3.13-venv packages) or point COURSE_PYTHON313 at it.")


def snapshot_pins(path: Path = SNAPSHOT) -> dict[str, str]:
    """{normalized name: version} of the snapshot's lines."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[normalize(name)] = version.strip()
    return pins


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def fingerprint() -> str:
    digest = hashlib.sha256()
    for path in (SNAPSHOT, CONSTRAINTS):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def pip(*args, check: bool = True) -> subprocess.CompletedProcess:
    cmd = [str(PYTHON), "-m", "pip", "--disable-pip-version-check", *map(str, args)]
    say("$ pip " + " ".join(map(str, args)))
    return subprocess.run(cmd, check=check, cwd=ROOT)


def freeze() -> dict[str, str]:
    out = subprocess.run([str(PYTHON), "-m", "pip", "--disable-pip-version-check", "list",
                          "--format=json"], capture_output=True, text=True, check=True)
    return {normalize(p["name"]): p["version"] for p in json.loads(out.stdout)}


def create(force: bool = False) -> None:
    start = time.perf_counter()
    stamp = json.loads(STAMP.read_text()) if STAMP.exists() else {}
    if not force and stamp.get("fingerprint") == fingerprint() and BEFORE.exists():
        say(f"{VENV} is up to date (snapshot unchanged); --force rebuilds it")
        return
    python = find_python313()
    if VENV.exists():
        shutil.rmtree(VENV)
    say(f"creating {VENV} with {python}")
    subprocess.run([python, "-m", "venv", str(VENV)], check=True)
    pins = snapshot_pins()
    # torch first and alone, as in the course's own set-up (Colab's is the CPU wheel from
    # PyTorch's index; PyPI's 2.11.0 for Python 3.13 is a CUDA build, which also runs on CPU).
    pip("install", f"torch=={pins['torch']}", "-c", CONSTRAINTS)
    pip("install", "-r", SNAPSHOT, "-c", CONSTRAINTS)
    versions = freeze()
    wrong = {n: (v, versions.get(n)) for n, v in pins.items() if versions.get(n) != v}
    if wrong:
        raise SystemExit(f"[colab] error: not at the snapshot's versions: {wrong}")
    BEFORE.write_text(json.dumps(versions, indent=1, sort_keys=True))
    STAMP.write_text(json.dumps({"fingerprint": fingerprint(), "at": time.ctime(),
                                 "python": python}))
    say(f"Colab-like environment ready in {time.perf_counter() - start:.0f} s "
        f"({len(versions)} packages)")


# --------------------------------------------------------------------------- test
def notebooks(names: list[str]) -> list[Path]:
    """The named notebooks, or every notebook of the course (as nbtools.course_notebooks)."""
    if names:
        paths = [Path(n).resolve() for n in names]
        missing = [str(p) for p in paths if not p.is_file() or p.suffix != ".ipynb"]
        if missing:
            raise SystemExit(f"[colab] error: not a notebook: {', '.join(missing)}")
        return paths
    found = sorted(ROOT.glob("*.ipynb")) + sorted((ROOT / "assignments").glob("*.ipynb"))
    return [p for p in found if p.name != "Latex_macros.ipynb"]


def diff(before: dict, after: dict) -> dict:
    return {"added": {n: v for n, v in after.items() if n not in before},
            "changed": {n: [before[n], v] for n, v in after.items()
                        if n in before and before[n] != v},
            "removed": {n: v for n, v in before.items() if n not in after}}


def restore(before: dict) -> None:
    change = diff(before, freeze())
    if change["added"]:
        pip("uninstall", "-q", "-y", *change["added"])
    put_back = [f"{n}=={before[n]}" for n in {**change["changed"], **change["removed"]}]
    if put_back:
        pip("install", "-q", "--no-deps", *put_back)


def test(names: list[str]) -> int:
    if not STAMP.exists() or not BEFORE.exists():
        raise SystemExit("[colab] error: no Colab-like environment; run "
                         "`python3 tools/course.py colab-env` first")
    before = json.loads(BEFORE.read_text())
    restore(before)
    base = Path(os.environ.get("COURSE_COLAB_REPORT", Path.home() / ".cache" / "advml-colab-test"))
    report_dir = base / time.strftime("run-%Y%m%d-%H%M%S")
    # A fresh course cache, as in a new Colab runtime: SmolLM2 is converted with Colab's
    # transformers, the digit classifier trained with Colab's Keras (once per run).
    shutil.rmtree(base / "cache", ignore_errors=True)
    (base / "cache").mkdir(parents=True)
    report_dir.mkdir(parents=True)
    os.environ["COURSE_CACHE_DIR"] = str(base / "cache")
    results = []
    start_all = time.perf_counter()
    for path in notebooks(names):
        with tempfile.TemporaryDirectory(prefix="colab-test-") as folder:
            copy = Path(folder) / path.name
            out = Path(folder) / ("executed-" + path.name)
            shutil.copy(path, copy)
            start = time.perf_counter()
            proc, error = _run(copy, out, folder)
            change = diff(before, freeze())
            # A setup cell that stops with advml.colab.require's message: do what it tells the
            # student (install, restart the runtime = a fresh kernel, run again from the top)
            upgrade = upgrade_asked(error)
            if upgrade:
                pip("install", "-q", upgrade)
                upgraded = diff(before, freeze())["changed"]
                proc, error = _run(copy, out, folder)
            seconds = time.perf_counter() - start
            if out.exists() and proc.returncode == 0:
                shutil.copy(out, report_dir / path.name)
        results.append({"notebook": path.name, "ok": proc.returncode == 0,
                        "seconds": round(seconds, 1), "error": error, **change,
                        **({"upgrade_asked": upgrade, "upgraded": upgraded} if upgrade else {})})
        after = f" after the upgrade its setup cell asks for ({upgrade}: {upgraded})" if upgrade else ""
        say(f"{path.name}: {'ok' if proc.returncode == 0 else 'FAILED'}{after} in {seconds:.0f} s; "
            f"installed {sorted(change['added'])}, changed {change['changed']}")
        if error:
            print("    " + error.replace("\n", "\n    ")[-1500:], flush=True)
        restore(before)
    total = time.perf_counter() - start_all
    report = {"python": subprocess.run([str(PYTHON), "-V"], capture_output=True,
                                       text=True).stdout.strip(),
              "snapshot": SNAPSHOT.read_text().splitlines()[1:2], "seconds": round(total, 1),
              "results": results}
    (report_dir / "report.json").write_text(json.dumps(report, indent=1))
    failed = [r["notebook"] for r in results if not r["ok"]]
    touched = [r["notebook"] for r in results if r["changed"] or r["removed"]]
    asked = [r["notebook"] for r in results if r.get("upgrade_asked") and r["ok"]]
    say(f"{len(results) - len(failed)} passed ({len(asked)} after the upgrade their setup cell "
        f"asks for: {asked}), {len(failed)} failed in {total:.0f} s; "
        f"report: {report_dir / 'report.json'}")
    if touched:
        say(f"error: Colab's own packages were changed by {touched}")
    return 1 if failed or touched else 0


ANSI = re.compile(r"\x1b\[[0-9;]*m")
UPGRADE = re.compile(r"UpgradeNeeded: .*?Run `%pip install \\?\"([^\"`\\]+)\\?\"`", re.S)


def upgrade_asked(error: str) -> str | None:
    """The requirement an `advml.colab.require` stop asks the student to install, if any."""
    match = UPGRADE.search(ANSI.sub("", error))
    return match.group(1) if match else None


def _run(copy: Path, out: Path, folder: str) -> tuple[subprocess.CompletedProcess, str]:
    proc = subprocess.run([str(PYTHON), str(Path(__file__).resolve()), "_execute",
                           str(copy), str(out)], cwd=folder, capture_output=True, text=True,
                          env=_env())
    error = "" if proc.returncode == 0 else (proc.stdout + proc.stderr).strip()[-1500:]
    return proc, error


def _env() -> dict:
    env = dict(os.environ)
    env.update({"COURSE_SCALE": env.get("COURSE_SCALE", "small"), "CUDA_VISIBLE_DEVICES": "",
                "TF_CPP_MIN_LOG_LEVEL": "3", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
                "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
                "PYTHONWARNINGS": "ignore::DeprecationWarning", "JUPYTER_PLATFORM_DIRS": "1",
                "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1",
                # pip caches the wheel it builds from the checkout: a later run would test stale code
                "PIP_NO_CACHE_DIR": "1",
                # what advml.in_colab() reads: notebooks take their Colab branches, as there
                "COLAB_RELEASE_TAG": "colab-like"})
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    env["PATH"] = f"{VENV / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def _execute(source: str, target: str) -> int:
    """Inside the Colab-like environment: run one notebook, its install pointed at ROOT."""
    import nbformat
    from nbclient import NotebookClient

    import tomllib

    sys.path.insert(0, str(ROOT / "tools"))
    import bootstrap  # the canonical setup-cell block, as `format` writes it

    nb = nbformat.read(source, as_version=4)
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["advml"]
    bootstrap.apply(nb, config["repository"])
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = GIT_INSTALL.sub(lambda m: f"advml{m.group(1) or ''} @ {ROOT.as_uri()}",
                                          cell.source)
    client = NotebookClient(nb, timeout=1800, kernel_name="python3",
                            resources={"metadata": {"path": str(Path(source).parent)}})
    try:
        client.execute()
    finally:
        nbformat.write(nb, target)
    return 0


def main(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("help", [])
    if command == "_execute":
        return _execute(*rest)
    if command == "colab-env":
        create(force="--force" in rest)
        return 0
    if command == "colab-test":
        if STAMP.exists():
            create()  # rebuilt only if the snapshot changed
        return test([a for a in rest if a != "--force"])
    print(__doc__)
    return 0 if command in ("help", "-h", "--help") else 2


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except subprocess.CalledProcessError as error:
        say(f"failed: {' '.join(map(str, error.cmd))} exited with {error.returncode}")
        sys.exit(error.returncode or 1)
