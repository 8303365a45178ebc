"""Unit tests of advml.runtime: scale, seeding, environment detection, checks."""
import os
import random

import numpy as np
import pytest

import advml
from advml import runtime


def test_scale_defaults_to_small(monkeypatch):
    monkeypatch.delenv("COURSE_SCALE", raising=False)
    assert advml.get_scale() == "small"


@pytest.mark.parametrize("raw, scale", [("full", "full"), (" FULL ", "full"), ("small", "small")])
def test_scale_from_environment(monkeypatch, raw, scale):
    monkeypatch.setenv("COURSE_SCALE", raw)
    assert advml.get_scale() == scale


@pytest.mark.parametrize("raw", ["medium", "large", "1"])
def test_bad_scale_says_what_to_do(monkeypatch, raw):
    monkeypatch.setenv("COURSE_SCALE", raw)
    with pytest.raises(ValueError, match=r"unknown scale .*small, full.*COURSE_SCALE"):
        advml.get_scale()


def test_by_scale_picks_the_value(monkeypatch):
    monkeypatch.setenv("COURSE_SCALE", "full")
    assert advml.by_scale(small=1, full=2) == 2
    assert advml.by_scale(small=1, full=2, scale="small") == 1


def test_seed_everything_reproduces_python_numpy_tf_and_torch():
    import keras
    import tensorflow as tf
    import torch

    def draw():
        return (random.random(), np.random.rand(), float(tf.random.uniform(())),
                float(keras.random.uniform(())), float(torch.rand(())))

    advml.seed_everything(7)
    first = draw()
    advml.seed_everything(7)
    assert draw() == first
    advml.seed_everything(8)
    assert draw() != first


@pytest.mark.parametrize("seed", [-1, 1.5, "3", True])
def test_seed_must_be_a_non_negative_int(seed):
    with pytest.raises(ValueError, match="non-negative int"):
        advml.seed_everything(seed)


def test_check_prints_a_passing_claim(capsys):
    assert advml.check("two plus two is four", 2 + 2 == 4, expected=4, measured=4) is None
    assert "check: two plus two is four (measured 4; expected 4)" in capsys.readouterr().out


def test_check_failure_says_expected_and_measured():
    with pytest.raises(advml.CheckFailed) as error:
        advml.check("accuracy >= 0.90", False, expected=">= 0.90", measured=0.8123)
    message = str(error.value)
    assert "accuracy >= 0.90" in message and ">= 0.90" in message and "0.8123" in message


def test_check_needs_a_claim():
    with pytest.raises(ValueError):
        advml.check("", True)


def test_check_close_reports_the_difference(capsys):
    diff = advml.check_close("equal arrays", np.ones(3), np.ones(3) + 1e-7, atol=1e-6)
    assert 0 < diff < 1e-6 and "check: equal arrays" in capsys.readouterr().out
    with pytest.raises(advml.CheckFailed, match="max abs diff <= 1e-06"):
        advml.check_close("different arrays", np.ones(3), np.zeros(3), atol=1e-6)
    with pytest.raises(advml.CheckFailed, match="shape"):
        advml.check_close("shapes", np.ones(3), np.ones(4), atol=1)


def test_check_close_relative_tolerance_follows_the_scale(monkeypatch, tmp_path):
    import json
    log = tmp_path / "checks.jsonl"
    monkeypatch.setenv("COURSE_CHECK_LOG", str(log))
    big = np.array([1000.0, -2000.0])
    advml.check_close("float32 rounding at scale 2000", big + 0.01, big, rtol=1e-5)  # bar 0.02
    with pytest.raises(advml.CheckFailed, match="1e-05 x scale 2e\\+03: max abs diff <= 0.02"):
        advml.check_close("off by 0.05", big + 0.05, big, rtol=1e-5)
    record = json.loads(log.read_text().splitlines()[0])
    assert record["op"] == "<=" and abs(record["bar"] - 0.02) < 1e-12
    for bad in ({}, {"atol": -1.0}, {"rtol": -1e-5}):
        with pytest.raises(ValueError, match="atol and/or rtol"):
            advml.check_close("no tolerance", big, big, **bad)


def test_offline_flags(monkeypatch):
    for flag in runtime.OFFLINE_FLAGS:
        monkeypatch.delenv(flag, raising=False)
    assert advml.configure_offline(force=True)
    assert all(os.environ[flag] == "1" for flag in runtime.OFFLINE_FLAGS)


def test_network_detection_is_fast_and_false_here():
    # The test machines reach only package registries; the hub must look unreachable.
    assert advml.has_network("huggingface.co") is False


def test_require_network_names_the_alternative(monkeypatch):
    monkeypatch.setattr(runtime, "has_network", lambda *a, **k: False)
    with pytest.raises(advml.NetworkUnavailable, match="small scale.*the thing I use offline"):
        runtime.require_network("a big download", "the thing I use offline")


def test_colab_detection(monkeypatch):
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
    assert advml.in_colab() is False
    monkeypatch.setenv("COLAB_RELEASE_TAG", "release-colab_20261101")
    assert advml.in_colab() is True


def test_setup_prints_one_summary_line(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_SCALE", "small")
    env = advml.setup(seed=3)
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "scale=small" in out[0] and "seed=3" in out[0]
    assert env.scale == "small" and env.offline is True


def test_setup_hf_seeds_torch_and_quiets_transformers(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_SCALE", "small")
    advml.setup(seed=5, hf=True)
    import torch
    import transformers
    first = torch.rand(3)
    advml.setup(seed=5, hf=True)
    assert torch.equal(first, torch.rand(3))
    assert transformers.utils.logging.get_verbosity() == transformers.logging.ERROR
    assert not transformers.utils.logging.is_progress_bar_enabled()
    out = capsys.readouterr().out.strip().splitlines()
    assert "torch" in out[-1] and "transformers" in out[-1]


def test_setup_hf_rejects_non_bool():
    with pytest.raises(TypeError, match="hf must be True or False"):
        advml.setup(seed=1, hf="yes")


def test_setup_hf_names_a_missing_package(monkeypatch):
    real = runtime._installed
    monkeypatch.setattr(runtime, "_installed", lambda m: False if m == "torch" else real(m))
    with pytest.raises(ModuleNotFoundError, match=r"'torch'.*tools/course.py setup"):
        advml.setup(seed=1, hf=True)


def test_course_seed_overrides_the_notebook_seed(monkeypatch):
    monkeypatch.delenv("COURSE_SEED", raising=False)
    assert advml.get_seed(42) == 42
    monkeypatch.setenv("COURSE_SEED", "3")
    assert advml.get_seed(42) == 3
    assert advml.setup(seed=42, quiet=True).seed == 3


@pytest.mark.parametrize("raw", ["-1", "three", "1.5"])
def test_bad_course_seed_says_what_to_do(monkeypatch, raw):
    monkeypatch.setenv("COURSE_SEED", raw)
    with pytest.raises(ValueError, match=r"COURSE_SEED=.*non-negative integer.*unset it"):
        advml.get_seed(42)


@pytest.mark.parametrize("expected, bar", [(">= 0.90", (">=", 0.9)), ("max abs diff <= 1e-4", ("<=", 1e-4)),
                                           ("< 2", ("<", 2.0)), ("equal", (None, None)), (None, (None, None))])
def test_parse_bar(expected, bar):
    assert advml.parse_bar(expected) == bar


def test_checks_are_recorded_with_their_margin(monkeypatch, tmp_path):
    import json
    log = tmp_path / "checks.jsonl"
    monkeypatch.setenv("COURSE_CHECK_LOG", str(log))
    monkeypatch.setenv("COURSE_NOTEBOOK", "Demo.ipynb")
    advml.check("accuracy is high", True, expected=">= 0.9", measured=0.95)
    advml.check_close("arrays agree", np.ones(2), np.ones(2) + 1e-6, atol=1e-4)
    with pytest.raises(advml.CheckFailed):
        advml.check("loss is low", False, expected="<= 0.1", measured=0.3)
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["passed"] for r in records] == [True, True, False]
    assert records[0]["notebook"] == "Demo.ipynb" and abs(records[0]["margin"] - 0.05) < 1e-12
    assert records[1]["op"] == "<=" and records[1]["bar"] == 1e-4 and records[1]["margin"] > 0
    assert abs(records[2]["margin"] + 0.2) < 1e-12


def test_record_mode_prints_a_failure_and_goes_on(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_CHECK_MODE", "record")
    advml.check("loss is low", False, expected="<= 0.1", measured=0.3)
    assert "CHECK FAILED (recorded): loss is low" in capsys.readouterr().out
    monkeypatch.setenv("COURSE_CHECK_MODE", "sometimes")
    with pytest.raises(ValueError, match="COURSE_CHECK_MODE"):
        advml.check("loss is low", False)


def test_pins_come_from_the_helper_package_and_equal_requirements_txt():
    from pathlib import Path
    root = Path(advml.__file__).resolve().parents[1]
    assert (Path(advml.__file__).parent / "requirements.txt").read_text() == \
        (root / "requirements.txt").read_text(), (
        "advml/requirements.txt must equal requirements.txt: run `python3 tools/course.py format`")
    pins = advml.pins()
    assert pins["tensorflow"] == advml.pinned_version("TensorFlow") and "keras-hub" in pins


def test_an_unpinned_package_is_named_clearly():
    with pytest.raises(KeyError, match=r"'left-pad' is not pinned by the course.*pinned are: .*keras"):
        advml.pinned_version("left-pad")
