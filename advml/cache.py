"""The course's cache folder and a build-once primitive that parallel processes can share.

Everything a notebook writes goes here (converted model folders, checkpoints, generated
datasets), never into the repository. The folder is ``$COURSE_CACHE_DIR`` if set, else
``$XDG_CACHE_HOME/advml`` (``~/.cache/advml`` by default).

:func:`build_once` builds an entry into a temporary folder, records the size and sha256 of
every file in a manifest, and renames it into place, all under a file lock. A corrupt or
truncated entry (a file whose size or hash no longer matches its manifest) is detected and
rebuilt. Two processes asking at once get one build.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Callable

CACHE_ENV = "COURSE_CACHE_DIR"
MANIFEST = "MANIFEST.json"
_verified: dict[str, float] = {}


def cache_dir(create: bool = True) -> Path:
    """The course cache folder (see the module docstring)."""
    env = os.environ.get(CACHE_ENV)
    if env:
        root = Path(env).expanduser()
    else:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        root = Path(base) / "advml"
    if create:
        root.mkdir(parents=True, exist_ok=True)
    return root


_RUN_FOLDERS: dict[tuple[Path, str], Path] = {}
KEEP_RUNS_DAYS = 3


def workdir(name: str) -> Path:
    """This run's working folder for notebook ``name`` (checkpoints, logs, written data):
    ``<cache>/work/<name>/run-<time>-<pid>/``, one per kernel.

    Every run gets its own folder, so two runs of the same notebook at once (the parallel test
    suite, the seed sweep, two students sharing a machine) never write, or read back, each
    other's half-written files. Calls from the same kernel return the same folder. Run folders
    older than ``KEEP_RUNS_DAYS`` days are removed when a new run starts.
    """
    if not isinstance(name, str) or not name or "/" in name or "\\" in name or name in {".", ".."}:
        raise ValueError(f"workdir name must be a plain folder name, got {name!r}")
    parent = cache_dir() / "work" / name
    key = (parent, name)
    if key in _RUN_FOLDERS and _RUN_FOLDERS[key].is_dir():
        return _RUN_FOLDERS[key]
    parent.mkdir(parents=True, exist_ok=True)
    _prune_runs(parent)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = Path(tempfile.mkdtemp(prefix=f"run-{stamp}-{os.getpid()}-", dir=parent))
    _RUN_FOLDERS[key] = path
    return path


def _prune_runs(parent: Path) -> None:
    cutoff = time.time() - KEEP_RUNS_DAYS * 86400
    for old in parent.glob("run-*"):
        try:
            if old.is_dir() and old.stat().st_mtime < cutoff:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:          # removed by another process meanwhile
            pass


def sha256_file(path: os.PathLike, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_manifest(folder: Path, extra: dict) -> None:
    files = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST):
        rel = path.relative_to(folder).as_posix()
        files[rel] = {"size": path.stat().st_size, "sha256": sha256_file(path)}
    (folder / MANIFEST).write_text(json.dumps({"files": files, **extra}, indent=1, sort_keys=True))


def verify(folder: Path, full: bool = True, expect: dict | None = None) -> str | None:
    """Return None if ``folder`` matches its manifest, else a sentence saying what is wrong.

    ``full`` also re-hashes every file (done once per process per folder); sizes are always
    checked. ``expect`` holds manifest entries that must match (e.g. the source's sha256).
    """
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        return f"{folder} has no {MANIFEST} (an interrupted build?)"
    try:
        manifest = json.loads(manifest_path.read_text())
        files = manifest["files"]
    except (ValueError, KeyError) as error:
        return f"{manifest_path} is unreadable ({error})"
    for key, value in (expect or {}).items():
        if manifest.get(key) != value:
            return f"{folder} was built from {key}={manifest.get(key)!r}, expected {value!r}"
    for rel, info in files.items():
        path = folder / rel
        if not path.is_file():
            return f"{path} is missing"
        if path.stat().st_size != info["size"]:
            return f"{path} has {path.stat().st_size} bytes, expected {info['size']} (truncated?)"
    stamp = manifest_path.stat().st_mtime
    if full and _verified.get(str(folder)) != stamp:
        for rel, info in files.items():
            if sha256_file(folder / rel) != info["sha256"]:
                return f"{folder / rel} does not match its sha256 (corrupt)"
        _verified[str(folder)] = stamp
    return None


def build_once(name: str, build: Callable[[Path], None], expect: dict | None = None,
               full_verify: bool = True, log: Callable[[str], None] = print) -> Path:
    """Return ``cache_dir()/name``, building it first with ``build(tmp_folder)`` if needed.

    Safe when several processes call it at once: the first builds under a file lock, the
    others wait and then reuse the verified result. A broken entry is rebuilt.
    """
    from filelock import FileLock

    root = cache_dir()
    target = root / name
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if target.exists():
            problem = verify(target, full=full_verify, expect=expect)
            if problem is None:
                return target
            log(f"cache: rebuilding {name}: {problem}")
            trash = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.replace(target, trash / target.name)
            shutil.rmtree(trash, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
        try:
            build(tmp)
            _write_manifest(tmp, dict(expect or {}))
            os.replace(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _verified[str(target)] = (target / MANIFEST).stat().st_mtime
        return target
