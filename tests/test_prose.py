"""Prose matches the run (issue 11, rule 3): no Markdown cell states a figure that the
notebook's stored outputs do not show, unless the figure is a setting of its code or a cited
fact. Reads notebook JSON only (fast); the rule itself is ``tools/prose.py``.

What counts as a stated figure: a number in the words of a Markdown cell (``0.46``, ``85%``,
``1,500``, ``1e-3``, ``3x``, ``28 s``, ``135M``, ``4/10``) or a math span that is only a number
(``$0.24$``, ``$10^{-3}$``). Not one: other math, inline code and code blocks, HTML comments and
tags, URLs and link targets, the generated cells (macros ``course-macros``, the badges, the seed
sweep's "Over seeds" cell ``sweep-summary``), the Exercises, Questions and References sections
(settings for the reader to try, bibliographic volumes and pages), digits in
names and compounds (``float32``, ``GPT-2``, ``2-D``, ``8-bit``), versions, list and heading
numbers, years, ordinals, and a number right after a word that makes it an index or a name
(``Week 5``, ``Section 7``, ``Algorithm 1``, ``step 2``, ``Python 3``). Numbers in words and
trends are left to the reader: the rule catches figures.

How a figure matches: a number in the outputs (stream, text/plain, text/markdown, text/html;
never images) or in the "Over seeds" cell that rounds to it at its written precision (0.46
matches 0.459; 1e-3 matches 9.7e-04; 135M matches 134,515,008 or 134.5 M; after "about" the trailing
zeros of a four-digit-or-longer integer are not significant, down to two digits); 85% matches
85.2% or 0.852, and 0.85 matches 85.0%; 1,500 is 1500; signs are ignored; a time matches a
printed time in any unit (3 minutes matches 183 s); a fraction 4/10 must be printed as such.
A figure that is not a ratio or a fraction also passes when the code holds exactly that value
as a literal (a setting restated: ``300``, ``60_000``, ``2%`` for ``0.02``; a time in seconds).

A cited fact (a paper's result, a datasheet's peak, a dataset's size) is marked by linking
its source in the same sentence: an external http(s) link (``GPT-3 has 175B parameters
([Brown et al., 2020](https://arxiv.org/abs/2005.14165))``). A link to a notebook is not a
source.
"""
import nbformat
import pytest

import nbtools
import prose

ROOT = nbtools.ROOT
LESSONS = [p for p in nbtools.course_notebooks() if p != nbtools.MACROS_NOTEBOOK]


def ids(path):
    return path.relative_to(ROOT).as_posix()


@pytest.mark.parametrize("path", LESSONS, ids=ids)
def test_prose_states_only_figures_the_outputs_show(path):
    unshown = prose.unshown_figures(nbtools.read(path))
    assert not unshown, (
        f"{ids(path)}: {len(unshown)} figure(s) in the Markdown that the stored outputs do not "
        "show: state what the outputs print, print it in code, or link the source of a cited "
        "fact in the same sentence (see tests/test_prose.py)\n"
        + "\n".join(f"  {item}" for item in unshown))


# --------------------------------------------------------------------------- the rule itself
def notebook(markdown, printed="", code="", tags=()):
    """A tiny executed notebook: one code cell with ``code`` that printed ``printed``, then
    one Markdown cell (with ``tags``)."""
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(code or "print(result)", execution_count=1)
    if printed:
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=printed)]
    nb.cells = [cell, nbformat.v4.new_markdown_cell(markdown, metadata={"tags": list(tags)})]
    return nb


def flagged(markdown, printed="", code="", tags=()):
    return [u.figure.text for u in prose.unshown_figures(notebook(markdown, printed, code, tags))]


def test_a_contradicted_figure_fails_and_the_same_figure_shown_passes():
    claim = "The classifier reaches a test accuracy of 0.91 after two epochs."
    assert flagged(claim, printed="test accuracy 0.874\n") == ["0.91"]
    assert flagged(claim, printed="test accuracy 0.912\n") == []
    message = str(prose.unshown_figures(notebook(claim, "test accuracy 0.874\n"))[0])
    assert message.startswith("cell 1: '0.91' is not in the outputs") and "test accuracy" in message


@pytest.mark.parametrize("said, printed", [
    ("R^2 is 0.46 here.", "R^2 = 0.459"),                       # rounding
    ("It recognizes 85% of them.", "fraction recognized: 0.85"),
    ("It recognizes 85% of them.", "recognized 85.0%"),
    ("It recognizes 0.85 of them.", "recognized 85.0%"),
    ("It took 1,500 steps.", "steps: 1500"),
    ("The gradient is near 1e-3.", "gradient 9.7e-04"),
    ("The gradient is near $10^{-3}$.", "gradient 9.65e-04"),
    ("The error falls by 0.47.", "change -0.47"),
    ("Training took about 28 s.", "trained in 27.9 s"),
    ("Training took about 3 minutes.", "trained in 183 s"),
    ("The model has 135M parameters.", "134,515,008 parameters"),
    ("A 135 M-parameter model.", "loaded: 134.5 M parameters"),
    ("It covers 8/10 classes.", "classes covered 8/10"),
    ("Attention is 3.2x faster.", "speed-up 3.21"),
    ("It ran about 1,500 steps.", "ran 1523 steps"),
])
def test_matching(said, printed):
    assert flagged(said, printed) == []


@pytest.mark.parametrize("said, printed, figure", [
    ("R^2 is 0.46 here.", "R^2 = 0.449", "0.46"),
    ("It recognizes 85% of them.", "fraction recognized: 0.80", "85%"),
    ("It covers 8/10 classes.", "classes covered 4/10", "8/10"),
    ("The gradient is near $10^{-3}$.", "gradient 2.1e-03", "1e-3"),
    ("Training took about 3 minutes.", "trained in 27.9 s", "3 minutes"),
    ("It reaches $0.24$ at k = d.", "0.25 at k = d", "0.24"),
    ("The model has 135M parameters.", "22,713,216 parameters", "135M"),
    ("It ran 1,500 steps.", "ran 1523 steps", "1,500"),
    ("The versions printed, but the prose says 0.21.", "TF 2.21.0", "0.21"),
])
def test_mismatch(said, printed, figure):
    assert flagged(said, printed) == [figure]


@pytest.mark.parametrize("said", [
    "The loss is $\\loss = 0.5 \\normof{x}^2$ with $\\beta_1 = 0.9$.",     # math
    "Call `model.fit(x, epochs=40)` first.",                              # inline code
    "```python\nlr = 0.123\n```",                                         # code block
    "See [the paper](https://arxiv.org/abs/1706.03762) and https://example.org/v/0.77.",
    "## Week 5: Transformers",
    "### 2. Keys and queries",
    "1. First step\n2. Second step",
    "Vaswani et al. (2017) introduced it; Hochreiter, 1997.",
    "We use float32, GPT-2, all-MiniLM-L6-v2, a 2-D mixture and 8-bit weights on 64x64 images.",
    "Section 7 of the paper, Algorithm 1, step 3, layer 2, Python 3 and TF 2.21.0.",
    "Its 3rd and 21st tokens.",
    "<!-- measured 0.77 on a laptop --> A comment is not prose. <img width=\"400\" src=\"a.png\">",
    "### Exercises\n\n1. Train for 40 epochs with a learning rate of 0.003.",
    "### References\n\n- Hinton, *Science* 313 (2006), pages 504-507.",
    "### Questions (answer below)\n\n1. With 60 posts, what is the standard error near 0.9?",
])
def test_not_a_stated_figure(said):
    assert flagged(said) == []


def test_years_are_not_figures_but_sizes_that_look_like_years_are():
    assert flagged("Vaswani et al. (2017) and the 2024 release.") == []
    assert flagged("Sizes go up to 2048.") == ["2048"]


def test_settings_restated_from_the_code_pass_but_not_measurements():
    code = "num_steps = 1_500\nnoise_std = 0.05\nmin_fraction = 0.02\ntimeout_s = 600"
    assert flagged("We train 1,500 steps with noise 0.05; a class needs 2% of the samples, "
                   "and the run stops after 10 minutes.", code=code) == []
    assert flagged("The speed-up is 5x.", code="repeats = 5") == ["5x"]    # a ratio is measured
    assert flagged("We train 2,000 steps.", code=code) == ["2,000"]
    assert flagged("We train 2,000 steps.", code="# 2000 steps\nprint('2000')") == ["2,000"]


def test_a_cited_fact_links_its_source_in_the_same_sentence():
    cited = "GPT-3 has 175B parameters ([Brown et al., 2020](https://arxiv.org/abs/2005.14165))."
    assert flagged(cited) == []
    assert flagged("GPT-3 has 175B parameters (Brown et al., 2020).") == ["175B"]
    assert flagged("As [the other notebook](GAN_Generative.ipynb) shows, 0.97.") == ["0.97"]
    assert flagged("MFU was 46% for PaLM ([Chowdhery et al. 2022]"
                   "(https://arxiv.org/abs/2204.02311)).") == []   # no sentence break after "al."
    # the link covers its own sentence only
    assert flagged("MNIST has 70,000 digits (https://keras.io/api/datasets/mnist/). "
                   "Ours reach 0.93.") == ["0.93"]


def test_generated_cells_are_not_prose_and_over_seeds_figures_count_as_shown():
    over_seeds = "**Over seeds.** ... the accuracy ranged 0.91 to 0.95 (bar >= 0.9; held 10/10)"
    nb = notebook("Across seeds the accuracy stayed between 0.91 and 0.95.")
    nb.cells.append(nbformat.v4.new_markdown_cell(over_seeds, metadata={"tags": [prose.SWEEP_TAG]}))
    nb.cells.append(nbformat.v4.new_markdown_cell("$$\n\\newcommand{\\x}{0.123}\n$$",
                                                  metadata={"tags": [nbtools.MACROS_TAG]}))
    assert prose.unshown_figures(nb) == []
    badges = nbtools.badges("Some_Notebook.ipynb")
    assert flagged(f"# Title\n\n{badges}\n\n**Week 5**") == []


def test_the_sweep_tags_its_cell_as_the_rule_expects():
    import sweep

    assert sweep.SUMMARY_TAG == prose.SWEEP_TAG
