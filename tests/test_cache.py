"""Unit tests of advml.cache: cache folder, manifest verification, build-once under a lock."""
import multiprocessing
import subprocess
import sys
import os
import time
from pathlib import Path

import pytest

import advml
from advml import cache


@pytest.fixture
def tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "cache"))
    cache._verified.clear()
    return tmp_path / "cache"


def _builder(counter: Path):
    def build(folder: Path):
        with open(counter, "a") as handle:
            handle.write("x")
        (folder / "data.bin").write_bytes(os.urandom(4096))
        (folder / "sub").mkdir()
        (folder / "sub" / "note.txt").write_text("hello")
    return build


def test_cache_dir_follows_the_environment(tmp_cache):
    assert advml.cache_dir() == tmp_cache and tmp_cache.is_dir()


def test_cache_dir_default_is_under_the_user_cache(monkeypatch, tmp_path):
    monkeypatch.delenv(cache.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert advml.cache_dir() == tmp_path / "advml"


def test_workdir_is_a_folder_of_this_run_inside_the_cache(tmp_cache):
    first = advml.workdir("VAE_Generative")
    assert first.parent == tmp_cache / "work" / "VAE_Generative" and first.is_dir()
    assert first.name.startswith("run-") and str(os.getpid()) in first.name
    assert advml.workdir("VAE_Generative") == first          # the same kernel: the same folder
    assert advml.workdir("GAN_Generative").parent.name == "GAN_Generative"


def test_two_runs_never_share_a_workdir(tmp_cache):
    code = "import advml; print(advml.workdir('Keras_Advanced'))"
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True).stdout.strip() for _ in range(2)]
    assert runs[0] != runs[1] and all(Path(r).parent.name == "Keras_Advanced" for r in runs)


def test_old_run_folders_are_pruned(tmp_cache):
    parent = tmp_cache / "work" / "Old_Notebook"
    stale = parent / "run-20200101-000000-1-abc"
    stale.mkdir(parents=True)
    os.utime(stale, (0, 0))
    fresh = advml.workdir("Old_Notebook")
    assert not stale.exists() and fresh.is_dir()


def test_workdir_rejects_paths(tmp_cache):
    for bad in ["", "../x", "a/b", ".."]:
        with pytest.raises(ValueError):
            advml.workdir(bad)


def test_build_once_builds_once(tmp_cache, tmp_path):
    counter = tmp_path / "count"
    first = cache.build_once("thing", _builder(counter), expect={"source": "v1"})
    second = cache.build_once("thing", _builder(counter), expect={"source": "v1"})
    assert first == second == tmp_cache / "thing"
    assert counter.read_text() == "x"
    assert (first / cache.MANIFEST).is_file()


@pytest.mark.parametrize("damage", ["truncate", "flip", "delete", "manifest", "source"])
def test_broken_entries_are_detected_and_rebuilt(tmp_cache, tmp_path, damage, capsys):
    counter = tmp_path / "count"
    folder = cache.build_once("thing", _builder(counter), expect={"source": "v1"})
    data = folder / "data.bin"
    expect = {"source": "v1"}
    if damage == "truncate":
        data.write_bytes(data.read_bytes()[:100])
    elif damage == "flip":
        raw = bytearray(data.read_bytes())
        raw[0] ^= 0xFF
        data.write_bytes(bytes(raw))
        cache._verified.clear()  # a new process re-hashes
    elif damage == "delete":
        (folder / "sub" / "note.txt").unlink()
    elif damage == "manifest":
        (folder / cache.MANIFEST).write_text("{not json")
    else:
        expect = {"source": "v2"}  # the source changed: the entry is stale
    problem = cache.verify(folder, expect=expect)
    assert problem is not None
    cache.build_once("thing", _builder(counter), expect=expect)
    assert counter.read_text() == "xx"
    assert "rebuilding thing" in capsys.readouterr().out
    assert cache.verify(folder, expect=expect) is None


def test_failed_build_leaves_nothing_behind(tmp_cache):
    def broken(folder):
        (folder / "half").write_text("partial")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        cache.build_once("thing", broken)
    leftovers = [p.name for p in tmp_cache.iterdir() if not p.name.endswith(".lock")]
    assert leftovers == []


def _slow_build_in_process(cache_root, counter, results):
    os.environ[cache.CACHE_ENV] = cache_root

    def build(folder):
        with open(counter, "a") as handle:
            handle.write("x")
        time.sleep(1.0)  # make the race window wide
        (folder / "data.bin").write_bytes(b"1" * 10_000)

    path = cache.build_once("shared", build, log=lambda *_: None)
    results.put((str(path), (path / "data.bin").read_bytes() == b"1" * 10_000))


def test_two_processes_build_once(tmp_cache, tmp_path):
    counter = tmp_path / "count"
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    procs = [ctx.Process(target=_slow_build_in_process, args=(str(tmp_cache), str(counter), results))
             for _ in range(3)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    answers = [results.get(timeout=5) for _ in procs]
    assert {a[0] for a in answers} == {str(tmp_cache / "shared")}
    assert all(a[1] for a in answers)
    assert counter.read_text() == "x"
