"""Prose matches the run: the figures a notebook's Markdown states, and whether the notebook
shows them. Used by ``tests/test_prose.py``; run it directly to list what it flags:

    python3 tools/prose.py [NOTEBOOK ...]

**A stated figure** is a number written in the words of a Markdown cell: ``0.46``, ``85%``,
``1,500``, ``1e-3``, ``3.2x``, ``28 s``, ``135M``, ``4/10``, and a math span that is only a
number (``$0.24$``, ``$10^{-3}$``, ``$1.2 \\times 10^{-7}$``). Not a stated figure:

- other math (``$\\beta_1 = 0.5$``, display equations), inline code and code blocks, HTML tags
  and comments, URLs and link targets;
- the generated cells: the macros (tag ``course-macros``), the launch badges, the seed sweep's
  "Over seeds" cell (tag ``sweep-summary``, written by ``tools/sweep.py`` from its records);
- the Exercises, Questions and References sections (from their heading to the next heading):
  settings for the reader to try, and bibliographic volumes, pages and identifiers;
- digits inside a name or a compound (``float32``, ``GPT-2``, ``all-MiniLM-L6-v2``, ``2-D``,
  ``8-bit``, ``5-shot``, ``64x64``), versions (``2.21.0``), list and heading numbering, years
  (1900 to 2029, no comma), ordinals (``3rd``), and a number right after a word that
  makes it an index or a name (``Week 5``, ``Section 7``, ``Figure 3``, ``Algorithm 1``,
  ``step 2``, ``layer 3``, ``Python 3``, ``PEP 255``, ``ISO 8601``: see ``_INDEX_WORDS``).

Numbers written as words ("ten classes", "a minute") and trends ("stays near", "grows") are
left to the reader of the notebook: the rule catches figures, not every claim.

**How a figure is matched.** A figure matches a number of the notebook's stored outputs
(stream text, ``text/plain``, ``text/markdown``, ``text/html``; never image payloads) or of
its "Over seeds" cell that rounds to it at the precision it is written to: prose ``0.46``
matches ``0.459``, ``1e-3`` matches ``9.7e-04``, ``135M`` matches ``134,515,008`` or
``134.5 M``. After "about", "around", "roughly", "~" or "≈", the trailing zeros of an integer
of four digits or more are not significant, down to two significant digits ("about 1,500"
matches ``1523``, "about 60,000" matches ``59,684``). ``85%`` matches ``85.2%`` or a printed
fraction ``0.852``; ``0.85`` also matches ``85.0%``; ``1,500`` is 1500; signs are ignored
(prose "falls by 0.47" matches ``-0.47``). A time (``28 s``, ``50 ms``, ``3 minutes``)
matches a printed time in any unit (``27.9 s``, ``183 s``). A fraction ``4/10`` must be
printed as such.

**Settings.** A figure that is not a ratio or a fraction also passes when the notebook's code
holds exactly that value as a number literal, not in a string or a comment (``300``,
``60_000``, ``0.05``, ``2%`` for ``0.02``, ``1e-3``): it is a setting the prose restates, not
a measurement. A time passes when the code holds its value in seconds (``50 ms`` for
``0.05``).

**A cited fact.** A published figure (a paper's result, a datasheet's peak, a dataset's or a
model's size) is not a measurement of this run: it is exempt when the sentence that states it
links its source, an external ``http(s)`` link in the same sentence, e.g. ``GPT-3 has 175B
parameters ([Brown et al., 2020](https://arxiv.org/abs/2005.14165))``. A link to another
notebook is not a source.

**Limits.** The outputs are matched notebook-wide, so a wrong figure can pass by coinciding
with an unrelated printed number at its precision (a two-digit decimal among many printed
ones); a link exempts every figure of its sentence; a figure read off a plot is not shown
(plots are images). The rule is a floor, not a proof: read the outputs when you write.
"""
from __future__ import annotations

import io
import math
import re
import sys
import tokenize
from dataclasses import dataclass
from pathlib import Path

import nbtools

SWEEP_TAG = "sweep-summary"          # tools/sweep.py's generated "Over seeds" cell
GENERATED_TAGS = {nbtools.MACROS_TAG, SWEEP_TAG}
SOURCE = "\u27e8source\u27e9"        # stands for an external link target in the prose text

# --------------------------------------------------------------------------- prose text
_FENCE = re.compile(r"^[ \t]*(```|~~~).*?^[ \t]*\1[^\n]*$", re.S | re.M)
_INLINE_CODE = re.compile(r"(`+).+?\1", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_ENV = re.compile(r"\\begin\{([a-zA-Z*]+)\}.*?\\end\{\1\}", re.S)
_URL = re.compile(r"<?https?://[^\s)>\]]+>?")
_LINK_TARGET = re.compile(r"(\]\()([^)]*)(\))")
_REF_DEF = re.compile(r"^\s*\[[^\]]+\]:\s*\S+.*$", re.M)
_EXTERNAL = re.compile(r"\s*<?https?://")
_MATH_FIGURE = re.compile(
    r"^\s*(?:\\approx|\\sim|\\simeq|\\lesssim|\\gtrsim|\\pm|=|<|>|\\leq?|\\geq?)?\s*"
    r"[-+\u2212]?\s*(?:(?P<mantissa>\d+(?:\.\d+)?)\s*\\(?:times|cdot)\s*)?"
    r"(?:10\^\{?(?P<exp>[-+\u2212]?\d+)\}?|(?P<plain>\d+(?:\.\d+)?))\s*(?P<pct>\\%)?\s*$")


def _math_figure(tex: str) -> str | None:
    """A math span that is only a number states a figure, like the number in words: its
    plain spelling (``10^{-3}`` -> ``1e-3``), or None."""
    match = _MATH_FIGURE.match(tex)
    if not match:
        return None
    if match.group("plain") is not None:
        if match.group("mantissa"):          # 3 \times 4: a shape, not a figure
            return None
        number = match.group("plain")
    else:
        number = f"{match.group('mantissa') or '1'}e{match.group('exp').replace(chr(0x2212), '-')}"
    return number + ("%" if match.group("pct") else "")


def _strip_math(text: str) -> str:
    """The text with every math span replaced by a space, or by its number when the span is
    only a number (Jupyter's splitting; ``\\$`` is a literal dollar)."""
    out, i, n = [], 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n and text[i + 1] == "$":
            out.append("  ")
            i += 2
            continue
        if ch == "$":
            delim = "$$" if text.startswith("$$", i) else "$"
            j = text.find(delim, i + len(delim))
            while j != -1 and text[j - 1] == "\\":
                j = text.find(delim, j + 1)
            if j == -1:              # an unclosed dollar is a literal (tests/test_macros.py)
                out.append(ch)
                i += 1
                continue
            figure = _math_figure(text[i + len(delim):j])
            out.append(f" {figure} " if figure else " ")
            i = j + len(delim)
            continue
        out.append(ch)
        i += 1
    return _ENV.sub(" ", "".join(out))


def prose_text(markdown: str) -> str:
    """What a reader reads as words: code, math (but a span that is only a number), comments,
    tags, URLs and link targets removed, link texts kept, an external link marked ``SOURCE``.
    Lines are kept, so that figures can be located by sentence."""
    text = _FENCE.sub(" ", markdown)
    text = _COMMENT.sub(" ", text)
    text = _INLINE_CODE.sub(" ", text)
    text = _strip_math(text)
    text = _REF_DEF.sub(" ", text)
    text = _LINK_TARGET.sub(lambda m: m.group(1) + (SOURCE if _EXTERNAL.match(m.group(2)) else " ")
                            + m.group(3), text)
    text = _URL.sub(" " + SOURCE + " ", text)
    return _TAG.sub(" ", text)


_SENTENCE_END = re.compile(
    r"(?<=[.!?:;])(?<!\bal\.)(?<!\be\.g\.)(?<!\bi\.e\.)(?<!\bcf\.)(?<!\bvs\.)(?<!\bFig\.)"
    r"(?<!\bEq\.)(?<!\bSec\.)(?<!\bNo\.)(?<!\bpp\.)(?<!\bp\.)\s+(?=[*_(\[\"'A-Z0-9])"
    r"|\n\s*\n|\n(?=\s*(?:[-*+]|\d+\.|#+|\|)\s)")


def sentences(text: str) -> list[str]:
    """Prose text split into sentences, list items, table rows and headings."""
    return [s for s in _SENTENCE_END.split(text) if s and s.strip()]


# --------------------------------------------------------------------------- stated figures
@dataclass(frozen=True)
class Figure:
    text: str          # as written
    value: float       # its value (a percentage in percent, a time in seconds), unsigned
    step: float        # the unit of its last significant digit, in the same scale
    kind: str          # "integer", "decimal", "percent", "time", "ratio" or "fraction"
    context: str       # the sentence that states it (prose text)


_SCALE = {"k": 1e3, "K": 1e3, "M": 1e6, "B": 1e9, "G": 1e9, "T": 1e12, "thousand": 1e3,
          "million": 1e6, "billion": 1e9, "trillion": 1e12}
_SECONDS = {"ms": 1e-3, "µs": 1e-6, "us": 1e-6, "s": 1.0, "sec": 1.0, "second": 1.0,
            "seconds": 1.0, "min": 60.0, "minute": 60.0, "minutes": 60.0, "h": 3600.0,
            "hour": 3600.0, "hours": 3600.0}
_TIME_UNIT = r"(?:ms|µs|us|s|sec|seconds?|min|minutes?|h|hours?)"
_NUMBER = re.compile(
    r"(?<![\w.,/^\\])"                            # not inside a name, a version, a path
    r"(?P<int>\d{1,3}(?:,\d{3})+(?!\d)|\d+)"
    r"(?P<frac>\.\d+)?"
    r"(?:[eE](?P<exp>[-+\u2212]?\d+))?"
    r"(?:/(?P<den>\d+))?"
    r"(?P<scale>[kKGT]\b|\s?[MB]\b|\s(?:thousand|million|billion|trillion)\b)?"
    r"(?P<unit>\s?%|\s?[x\u00d7](?!\s?\d)(?![A-Za-z0-9])|\s?" + _TIME_UNIT + r"\b)?"
    r"(?![\w]|\.\d)"                              # not the start of a name or a version
)
# A compound joined by hyphens that has a letter: a name or a descriptor (GPT-2, 8-bit, 2-D).
_COMPOUND = re.compile(r"[\w.,]*\w(?:-[\w.,]*\w)+")
_INDEX_WORDS = re.compile(
    r"(?i)\b(?:week|section|sec\.|figure|fig\.|table|algorithm|eq\.|equation|chapter|ch\.|"
    r"step|part|lecture|module|exercise|assignment|appendix|page|pp?\.|version|v\.|item|cell|"
    r"line|rule|issue|proposition|theorem|lemma|definition|example|task|question|phase|tier|"
    r"layer|head|block|checkpoint|python|keras|tensorflow|tf|pytorch|torch|transformers|"
    r"jupyterlab|jupyter|numpy|pandas|mathjax|chromium|cuda|ubuntu|debian|colab|pep|iso|rfc|"
    r"arxiv:?|llama|v)\s*$")
_APPROXIMATE = re.compile(r"(?i)(?:\babout|\baround|\broughly|\bapproximately|~|\u2248|\bsome)\s*$")
_LIST_MARK = re.compile(r"^(\s*)(\d+)([.)])(\s)", re.M)
_HEADING_NUMBER = re.compile(r"^(\s*#+\s+)(\d+(?:\.\d+)*)([.:)]?\s)", re.M)


def _name_or_number(match) -> str:
    """A hyphenated compound blanked out when it is a name or a descriptor (letters and
    digits: GPT-2, 8-bit), kept when it is numbers (0.05-0.10, 1e-3)."""
    token = match.group(0)
    if re.fullmatch(r"[\d.,]+(?:[eE]-\d+)?(?:-[\d.,]+(?:[eE]-\d+)?)*", token):
        return token
    return " " * len(token) if re.search(r"[A-Za-z_]", token) and re.search(r"\d", token) else token


def _value_step(int_part: str, frac: str | None, exp: str | None) -> tuple[float, float]:
    """A written number's value and the unit of its last written digit."""
    value = float(int_part.replace(",", "") + (frac or ""))
    step = 10.0 ** -len(frac[1:]) if frac else 1.0
    if exp is not None:
        scale = 10.0 ** int(exp.replace("\u2212", "-"))
        value, step = value * scale, step * scale
    return value, step


def figures(markdown: str) -> list[Figure]:
    """The stated figures of one Markdown cell, in order."""
    found = []
    text = prose_text(markdown)
    text = _LIST_MARK.sub(lambda m: m.group(1) + " " * (len(m.group(2)) + 1) + m.group(4), text)
    text = _HEADING_NUMBER.sub(lambda m: m.group(1) + " " * len(m.group(2)) + m.group(3), text)
    for sentence in sentences(text):
        words = _COMPOUND.sub(_name_or_number, sentence)
        for match in _NUMBER.finditer(words):
            int_part, frac, exp = match.group("int"), match.group("frac"), match.group("exp")
            before, after = words[:match.start()], words[match.end():]
            plain = not (frac or exp or match.group("den") or match.group("scale")
                         or match.group("unit"))
            if plain and re.fullmatch(r"19\d\d|20[0-2]\d", int_part):
                continue                                     # a year
            if _INDEX_WORDS.search(before) or re.match(r"(?i)(st|nd|rd|th)\b", after):
                continue                                     # an index, a name, an ordinal
            value, step = _value_step(int_part, frac, exp)
            digits = int_part.replace(",", "")
            if not (frac or exp) and len(digits) >= 4 and _APPROXIMATE.search(before):
                zeros = len(digits) - len(digits.rstrip("0"))   # "about 1,500": two digits count
                step = 10.0 ** min(zeros, len(digits) - 2)
            scale = (match.group("scale") or "").strip()
            if scale:
                value, step = value * _SCALE[scale], step * _SCALE[scale]
            unit = (match.group("unit") or "").strip()
            if match.group("den"):
                kind = "fraction"
            elif unit == "%":
                kind = "percent"
            elif unit in ("x", "\u00d7"):
                kind = "ratio"
            elif unit:
                kind = "time"
                value, step = value * _SECONDS[unit], step * _SECONDS[unit]
            elif frac or exp or scale:
                kind = "decimal"
            else:
                kind = "integer"
            found.append(Figure(match.group(0).strip(), value, step, kind, sentence.strip()))
    return found


def is_cited(figure: Figure) -> bool:
    """A published figure: the sentence that states it links an external source."""
    return SOURCE in figure.context


# --------------------------------------------------------------------------- what the run shows
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_OUT_NUMBER = re.compile(
    r"(?<![\w.])(?P<int>\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?P<frac>\.\d+)?"
    r"(?:[eE](?P<exp>[-+]?\d+))?(?P<version>\.\d+)?"
    r"(?P<pct>\s?%)?(?:\s?(?P<time>" + _TIME_UNIT + r")\b)?"
    r"(?:\s?(?P<scale>[kMB]\b|thousand\b|million\b|billion\b))?")
_OUT_FRACTION = re.compile(r"(?<![\w.])(\d+)\s?/\s?(\d+)(?![\w.])")
_CODE_NUMBER = re.compile(r"(?<![\w.])\d[\d_]*(?:\.\d[\d_]*)?(?:[eE][-+]?\d+)?(?!\w)")


def output_texts(nb) -> list[str]:
    """The text of every stored output, and of the generated "Over seeds" cell."""
    texts = []
    for cell in nb.cells:
        if cell.cell_type == "markdown" and SWEEP_TAG in cell.metadata.get("tags", []):
            texts.append(cell.source)
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                texts.append(output.get("text", ""))
            for mime, data in output.get("data", {}).items():
                if mime in ("text/plain", "text/markdown", "text/html", "text/latex"):
                    texts.append(data if isinstance(data, str) else "".join(data))
    return [_ANSI.sub("", text) for text in texts]


@dataclass
class RunNumbers:
    """What a notebook shows and sets: its outputs' numbers and its code's literals."""
    values: list[float]           # printed numbers, unsigned
    percents: list[float]         # those printed with a % sign (in percent)
    seconds: list[float]          # those printed with a unit of time (in seconds)
    fractions: set[tuple[int, int]]
    code_literals: set[float]

    def shows(self, figure: Figure) -> bool:
        """The outputs show the figure at its precision, or the code sets it."""
        if figure.kind == "fraction":
            num, den = re.findall(r"\d+", figure.text.replace(",", ""))[:2]
            return (int(num), int(den)) in self.fractions
        wanted, step = figure.value, figure.step
        if figure.kind == "time":
            pools = [(self.seconds, wanted, step)]
        elif figure.kind == "percent":    # 85% is 85.x% printed, or 0.85x printed
            pools = [(self.percents, wanted, step), (self.values, wanted / 100, step / 100)]
        elif figure.kind == "decimal" and wanted <= 1:   # 0.85 is also 85.x% printed
            pools = [(self.values, wanted, step), (self.percents, wanted * 100, step * 100)]
        else:
            pools = [(self.values, wanted, step)]
        for pool, target, unit in pools:
            half = unit / 2 * (1 + 1e-9) + 1e-12 * max(target, 1e-300)
            if any(abs(v - target) <= half for v in pool):
                return True
        return self.is_setting(figure)

    def is_setting(self, figure: Figure) -> bool:
        """The code holds exactly this value: a setting restated (not a ratio, not a fraction)."""
        if figure.kind in ("ratio", "fraction"):
            return False
        wanted = figure.value / (100 if figure.kind == "percent" else 1)
        return any(math.isclose(wanted, c, rel_tol=1e-9, abs_tol=1e-300)
                   for c in self.code_literals)


def run_numbers(nb) -> RunNumbers:
    run = RunNumbers([], [], [], set(), set())
    for text in output_texts(nb):
        for match in _OUT_NUMBER.finditer(text):
            if match.group("version"):          # 2.21.0, 3.11.7: a version, not a figure
                continue
            value, _ = _value_step(match.group("int"), match.group("frac"), match.group("exp"))
            if match.group("pct"):
                run.percents.append(value)
            else:
                run.values.append(value)
            if match.group("time"):
                run.seconds.append(value * _SECONDS[match.group("time")])
            if match.group("scale"):             # 134.5 M parameters (also 134.5 as printed)
                run.values.append(value * _SCALE[match.group("scale")])
            if "," in match.group("int"):        # [52,23]: a list is two numbers too
                run.values.extend(float(part) for part in match.group("int").split(","))
        run.fractions.update((int(a), int(b)) for a, b in _OUT_FRACTION.findall(text))
    for cell in nb.cells:
        if cell.cell_type == "code":
            run.code_literals.update(code_literals(cell.source))
    return run


def code_literals(source: str) -> set[float]:
    """The number literals of a code cell (not the digits in its strings and comments)."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):   # not Python: every number
        return {float(m.group(0).replace("_", "")) for m in _CODE_NUMBER.finditer(source)}
    found = set()
    for token in tokens:
        if token.type == tokenize.NUMBER and not token.string.lower().endswith("j"):
            literal = token.string.lower().replace("_", "")
            try:
                found.add(float(int(literal, 0)) if literal[:2] in ("0x", "0o", "0b")
                          else float(literal))
            except ValueError:
                pass
    return found


# --------------------------------------------------------------------------- the rule
@dataclass(frozen=True)
class Unshown:
    cell: int
    figure: Figure

    def __str__(self) -> str:
        context = re.sub(r"\s+", " ", self.figure.context).strip()
        if len(context) > 170:
            at = max(context.find(self.figure.text), 0)
            context = (("..." if at > 80 else "") + context[max(at - 80, 0):at + 90]
                       + ("..." if at + 90 < len(context) else ""))
        return f"cell {self.cell}: {self.figure.text!r} is not in the outputs: {context}"


_UNCLAIMED = re.compile(
    r"(?i)^\s*#+\s.*\b(exercises?|questions|references|further reading|bibliography)\b")


def prose_cells(nb):
    """(index, text) of the Markdown an author writes: not the generated cells (macros, the
    badges, "Over seeds"), and not the Exercises, Questions and References sections."""
    unclaimed = False
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown" or GENERATED_TAGS & set(cell.metadata.get("tags", [])):
            continue
        source = nbtools._BADGES.sub(" ", cell.source)
        fenced = _FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), source)  # a '#' in code
        kept = []
        for line in fenced.splitlines():
            if line.lstrip().startswith("#"):
                unclaimed = bool(_UNCLAIMED.match(line))
            kept.append("" if unclaimed else line)
        if any(kept):
            yield index, "\n".join(kept)


def unshown_figures(nb) -> list[Unshown]:
    """Every stated figure of the notebook's prose that its outputs do not show, its code does
    not set, and no source is linked for."""
    run = run_numbers(nb)
    return [Unshown(index, figure) for index, text in prose_cells(nb)
            for figure in figures(text) if not is_cited(figure) and not run.shows(figure)]


def main(argv: list[str]) -> int:
    paths = [Path(a).resolve() for a in argv] or nbtools.course_notebooks()
    total = 0
    for path in paths:
        if path == nbtools.MACROS_NOTEBOOK:
            continue
        flagged = unshown_figures(nbtools.read(path))
        total += len(flagged)
        for item in flagged:
            print(f"{path.name}: {item}")
    print(f"{total} figure(s) stated in prose and not shown by the outputs")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
