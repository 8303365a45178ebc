"""Runtime plumbing shared by every notebook: scale, seeding, environment, checks.

A notebook's setup cell usually reads::

    import advml
    env = advml.setup(seed=42)      # scale, offline flags, seeds; prints one summary line

and its checks read::

    advml.check("MLP test accuracy >= 0.90", acc >= 0.90, expected=">= 0.90", measured=acc)
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib.util
import json
import os
import platform
import random
import re
import socket
import sys

SCALES = ("small", "full")
SCALE_ENV = "COURSE_SCALE"
SEED_ENV = "COURSE_SEED"              # overrides every notebook's seed (the seed sweep sets it)
CHECK_LOG_ENV = "COURSE_CHECK_LOG"    # a JSON-Lines file each check appends its record to
CHECK_MODE_ENV = "COURSE_CHECK_MODE"  # "raise" (default) or "record": failures print, go on
HUB_HOST = "huggingface.co"
OFFLINE_FLAGS = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE")


class CheckFailed(AssertionError):
    """A lesson's claim did not hold on this run."""


class NetworkUnavailable(RuntimeError):
    """A `full`-scale resource needs the network and there is none."""


# --------------------------------------------------------------------------- scale
def get_scale(value: str | None = None) -> str:
    """Return the run's scale: ``value`` if given, else ``$COURSE_SCALE``, else ``"small"``.

    ``small`` (the default) runs offline on a laptop CPU in about a minute;
    ``full`` runs the real-size version and needs a network (and usually a GPU).
    """
    source = "argument" if value is not None else SCALE_ENV
    raw = value if value is not None else os.environ.get(SCALE_ENV, "small")
    scale = str(raw).strip().lower() or "small"
    if scale not in SCALES:
        raise ValueError(
            f"unknown scale {raw!r} (from {source}); use one of {', '.join(SCALES)}: "
            f"e.g. `export {SCALE_ENV}=small` or unset {SCALE_ENV} for the default")
    return scale


def by_scale(small, full, scale: str | None = None):
    """Pick the value for the current scale: ``by_scale(small=2_000, full=60_000)``."""
    return full if get_scale(scale) == "full" else small


# --------------------------------------------------------------------------- pins
PINS_FILE = "requirements.txt"   # a copy of the repository's requirements.txt, kept equal by a test


def pins() -> dict[str, str]:
    """The course's pinned versions, ``{normalized distribution name: version}``.

    Read from the copy of ``requirements.txt`` shipped inside the helper package, so the
    environment doctor works in a notebook opened alone (Colab) with no repository beside it.
    """
    from importlib import resources

    source = resources.files("advml") / PINS_FILE
    if not source.is_file():
        raise FileNotFoundError(
            f"advml was installed without its pin list ({PINS_FILE}); reinstall the helper "
            "package (python3 tools/course.py setup, or the notebook's setup cell in Colab)")
    found = {}
    for line in source.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\s*([A-Za-z0-9_.\-]+)==([^\s#;]+)", line)
        if match:
            found[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(2)
    return found


def pinned_version(name: str) -> str:
    """The pinned version of one distribution; a clear error when the course does not pin it."""
    key = re.sub(r"[-_.]+", "-", str(name)).lower()
    table = pins()
    if key not in table:
        raise KeyError(f"{name!r} is not pinned by the course (advml/{PINS_FILE}); pinned are: "
                       f"{', '.join(sorted(table))}")
    return table[key]


# --------------------------------------------------------------------------- seed
def get_seed(default: int = 42) -> int:
    """The run's seed: ``$COURSE_SEED`` if set, else ``default`` (the notebook's own seed).

    The seed sweep (``python3 tools/course.py sweep``) runs each notebook under several values
    of ``COURSE_SEED``; notebooks derive every random generator from the returned seed.
    """
    raw = os.environ.get(SEED_ENV, "").strip()
    if not raw:
        return default
    try:
        seed = int(raw)
    except ValueError:
        seed = -1
    if seed < 0:
        raise ValueError(f"{SEED_ENV}={raw!r} is not a non-negative integer; set e.g. "
                         f"`export {SEED_ENV}=3`, or unset it to use the notebook's own seed")
    return seed


# --------------------------------------------------------------------------- quiet imports
@contextlib.contextmanager
def quiet_native_stderr():
    """Silence what C++ libraries write straight to file descriptor 2 (TensorFlow's start-up
    and CUDA-probe lines, printed before its own log filter is set up)."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (some embedded kernels)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


# Modules of the PyTorch stack that must be loaded before TensorFlow. With a CUDA build of torch,
# torch._dynamo (which transformers' model and generation code import) loads Triton's native
# library, and loading that after TensorFlow ends the process in a segmentation fault (measured
# with TF 2.21 + torch 2.14.1+cu130 + Triton 3.8.0 on Python 3.11; not with Triton 3.6.0; CPU
# builds of torch ship no Triton). In this order both work. tests/test_colab.py checks it.
TORCH_STACK = ("torch", "torch._dynamo")
HF_STACK = TORCH_STACK + ("transformers", "transformers.generation.utils",
                          "transformers.modeling_utils")


def import_torch_stack(modules=TORCH_STACK) -> None:
    """Import the PyTorch stack (the installed ones among ``modules``), before TensorFlow."""
    for module in modules:
        if module not in sys.modules and _installed(module.split(".")[0]):
            importlib.import_module(module)


def _cuda_torch() -> bool:
    import torch  # plain torch after TensorFlow is safe; torch._dynamo is not

    return bool(torch.version.cuda)


def import_tensorflow():
    """Import TensorFlow and probe its devices once, without the start-up noise.

    If torch is already imported, its compiler stack is imported first (see TORCH_STACK).
    """
    # 3 hides TensorFlow's native INFO/WARNING/ERROR log lines: on CPUs without some AVX-512
    # features it logs harmless "E0000 ... oneDNN supports DT_BOOL only ..." lines into the
    # notebook. Real failures still raise Python exceptions.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "torch" in sys.modules and "tensorflow" not in sys.modules:
        import_torch_stack()
    with quiet_native_stderr():
        import tensorflow as tf
        tf.config.list_physical_devices()
    return tf


# --------------------------------------------------------------------------- seeding
def seed_everything(seed: int = 42, deterministic: bool = False) -> int:
    """Seed Python, NumPy, Keras/TensorFlow and (if already imported) PyTorch.

    Seeded CPU runs reproduce their numbers; ``deterministic=True`` also asks TensorFlow for
    deterministic kernels (needed on GPUs; on CPU it only adds a harmless warning from
    tf.data). Import torch before calling it in notebooks that use torch.
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    if _installed("numpy"):
        import numpy as np
        np.random.seed(seed)
    if _installed("keras"):
        if _installed("tensorflow"):
            import_tensorflow()
        import keras
        keras.utils.set_random_seed(seed)  # seeds Python, NumPy and the backend (TensorFlow)
        if deterministic and "tensorflow" in sys.modules:
            import tensorflow as tf
            tf.config.experimental.enable_op_determinism()
    if "torch" in sys.modules:
        import torch
        torch.manual_seed(seed)
    return seed


# --------------------------------------------------------------------------- environment
def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def in_colab() -> bool:
    """True inside Google Colab."""
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


@functools.lru_cache(maxsize=None)
def has_network(host: str = HUB_HOST, port: int = 443, timeout: float = 2.0) -> bool:
    """True when ``host`` answers a TCP connection (the Hugging Face hub by default).

    The answer is cached for the process: offline machines fail in milliseconds here instead
    of hanging for minutes in a download.
    """
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def gpus() -> list[str]:
    """Names of the GPUs TensorFlow can see (empty on CPU). Imports TensorFlow."""
    tf = import_tensorflow()
    return [d.name for d in tf.config.list_physical_devices("GPU")]


def configure_offline(force: bool | None = None) -> bool:
    """Set the Hugging Face offline flags when there is no network; return True if offline.

    Must run before ``transformers``/``datasets`` are imported (they read the flags once).
    Without the flags every hub load first spends ~25-50 s retrying.
    """
    offline = (not has_network()) if force is None else force
    if offline:
        for flag in OFFLINE_FLAGS:
            os.environ[flag] = "1"
    return offline


@dataclasses.dataclass(frozen=True)
class Environment:
    scale: str
    seed: int
    offline: bool
    colab: bool
    python: str

    def summary(self) -> str:
        parts = [f"scale={self.scale}", f"seed={self.seed}", f"Python {self.python}"]
        for name, module in (("TF", "tensorflow"), ("Keras", "keras"), ("torch", "torch"),
                             ("transformers", "transformers")):
            if module in sys.modules:
                parts.append(f"{name} {getattr(sys.modules[module], '__version__', '?')}")
        if "tensorflow" in sys.modules:
            found = gpus()
            parts.append(f"GPU: {', '.join(found) if found else 'none (CPU)'}")
        parts.append("network: " + ("offline (hub flags set)" if self.offline else "online"))
        if self.colab:
            parts.append("Colab")
        return " | ".join(parts)


def setup(seed: int = 42, scale: str | None = None, quiet: bool = False,
          hf: bool = False) -> Environment:
    """One call for a notebook's setup cell: scale, offline flags, seeds, summary line.

    ``seed`` is the notebook's default; ``$COURSE_SEED`` overrides it, and the effective seed
    is ``env.seed`` (derive every other random generator from it).

    ``hf=True`` prepares the Hugging Face stack too: it quiets ``transformers``' logging and
    progress bars (before the import, which reads them), imports torch and transformers, and
    seeds torch with the rest. At ``full`` scale without a network it warns: the full-scale
    loaders will then fail fast, naming the small-scale alternative.
    """
    if not isinstance(hf, bool):
        raise TypeError(f"hf must be True or False, got {hf!r}")
    scale = get_scale(scale)
    seed = get_seed(seed)
    offline = configure_offline()
    if hf:
        _import_hugging_face()
    seed_everything(seed)
    env = Environment(scale=scale, seed=seed, offline=offline, colab=in_colab(),
                      python=platform.python_version())
    if not quiet:
        print(env.summary())
        if scale == "full" and offline:
            print(f"warning: {SCALE_ENV}=full but there is no network; full-scale data and "
                  "models cannot be downloaded. Unset it to run the small scale offline.")
    return env


def _import_hugging_face() -> None:
    """Import torch and transformers with their logging and progress bars quieted."""
    for module in ("torch", "transformers"):
        if not _installed(module):
            raise ModuleNotFoundError(
                f"advml.setup(hf=True) needs {module!r}, which is not installed. Run the course "
                f"set-up (python3 tools/course.py setup) or, in Colab, `%pip install {module}`.")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    # The whole PyTorch stack before TensorFlow (seed_everything imports it next): see TORCH_STACK.
    if "tensorflow" in sys.modules and "torch._dynamo" not in sys.modules and _cuda_torch():
        import warnings
        warnings.warn("TensorFlow was imported before advml.setup(hf=True); with a CUDA build of "
                      "torch this can crash the kernel. Run the setup cell first, in a fresh "
                      "kernel.", RuntimeWarning, stacklevel=3)
    import_torch_stack(HF_STACK)
    import transformers

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


def require_network(what: str, alternative: str) -> None:
    """Fail fast, with the small-scale alternative, when ``what`` needs a download."""
    if not has_network():
        raise NetworkUnavailable(
            f"{what} must be downloaded, but this machine has no network (no answer from "
            f"{HUB_HOST}). Run at the default small scale instead (unset {SCALE_ENV}), which "
            f"uses {alternative}, or run where a network is available.")


# --------------------------------------------------------------------------- checks
def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


_BAR = re.compile(r"(<=|>=|==|<|>)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf")


def _as_number(value):
    """A check's measured value as a float when it is one number (or a string of one)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        found = _NUMBER.findall(str(value))
        return float(found[0]) if len(found) == 1 else None


def parse_bar(expected):
    """``(op, bar)`` from an ``expected`` like ``">= 0.90"`` or ``"max abs diff <= 1e-4"``."""
    found = _BAR.findall(str(expected)) if expected is not None else []
    return (found[-1][0], float(found[-1][1])) if found else (None, None)


def _record(claim: str, passed: bool, expected, measured) -> None:
    path = os.environ.get(CHECK_LOG_ENV)
    if not path:
        return
    op, bar = parse_bar(expected)
    value = _as_number(measured)
    margin = None
    if value is not None and bar is not None:
        margin = value - bar if op in (">=", ">") else bar - value if op in ("<=", "<") else None
    record = {"notebook": os.environ.get("COURSE_NOTEBOOK", ""), "claim": claim,
              "passed": bool(passed), "expected": None if expected is None else str(expected),
              "measured": None if measured is None else str(measured), "value": value,
              "op": op, "bar": bar, "margin": margin}
    # one write of one line in append mode: parallel kernels never interleave records
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")


def check(claim: str, condition, expected=None, measured=None) -> None:
    """Verify one of the lesson's claims on this run.

    Prints ``check: <claim>`` (with the measured value) when it holds; raises
    :class:`CheckFailed` saying what was expected and what was measured when it does not.
    Write ``expected`` as an operator and a number (``">= 0.9"``) and ``measured`` as a
    number: the seed sweep parses them into a bar and a margin. With ``$COURSE_CHECK_LOG``
    set, every check appends its record there; with ``$COURSE_CHECK_MODE=record`` a failed
    check is printed and recorded instead of raised (the sweep uses it to see every check).
    """
    if not isinstance(claim, str) or not claim.strip():
        raise ValueError("check() needs the claim as a non-empty sentence")
    passed = bool(condition)
    _record(claim, passed, expected, measured)
    detail = ""
    if measured is not None:
        detail = f" (measured {_fmt(measured)}" + (f"; expected {_fmt(expected)})"
                                                   if expected is not None else ")")
    if passed:
        print(f"check: {claim}{detail}")
        return
    message = (f"check failed: {claim}\n  expected: "
               f"{_fmt(expected) if expected is not None else 'the claim to hold'}\n"
               f"  measured: {_fmt(measured) if measured is not None else 'it did not'}")
    mode = os.environ.get(CHECK_MODE_ENV, "raise").strip().lower() or "raise"
    if mode not in ("raise", "record"):
        raise ValueError(f"{CHECK_MODE_ENV}={mode!r}: use 'raise' (default) or 'record'")
    if mode == "record":
        print(message.replace("check failed:", "CHECK FAILED (recorded):", 1))
        return
    raise CheckFailed(message)


def check_close(claim: str, actual, desired, atol: float = 0.0, rtol: float = 0.0) -> float:
    """Check that two arrays agree: max |actual - desired| <= atol + rtol * max |desired|.

    Use ``rtol`` for float32 results computed by different kernels: float32 keeps about 7
    significant digits (machine epsilon 1.2e-7), and two implementations that add the same terms
    in a different order differ by a few units in the last place of the values' magnitude, so
    ``rtol=1e-5`` (about 100 ulps of the scale) says "equal up to float32 rounding" whatever
    the values' size. ``atol`` alone suits exact or float64 arithmetic. Returns the difference.
    """
    import numpy as np
    if atol < 0 or rtol < 0 or not (atol or rtol):
        raise ValueError(f"check_close needs a positive atol and/or rtol, got atol={atol!r}, "
                         f"rtol={rtol!r}")
    actual, desired = np.asarray(actual, dtype=np.float64), np.asarray(desired, dtype=np.float64)
    if actual.shape != desired.shape:
        raise CheckFailed(f"check failed: {claim}\n  expected: shape {desired.shape}\n"
                          f"  measured: shape {actual.shape}")
    diff = float(np.max(np.abs(actual - desired))) if actual.size else 0.0
    scale = float(np.max(np.abs(desired))) if desired.size else 0.0
    bar = atol + rtol * scale
    expected = (f"max abs diff <= {bar:.3g}" if not rtol else
                f"{rtol:g} x scale {scale:.3g}" + (f" + {atol:g}" if atol else "")
                + f": max abs diff <= {bar:.3g}")
    check(claim, diff <= bar, expected=expected, measured=f"{diff:.3g}")
    return diff
