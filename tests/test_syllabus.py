"""The syllabus as data (advml.syllabus) and the README tables generated from it."""
import graphlib

import pytest

import nbtools
import website
from advml import syllabus

ROOT = nbtools.ROOT
ALL = syllabus.modules(assignments=True)


# --------------------------------------------------------------------------- the repository
def test_readme_syllabus_is_generated_from_advml_syllabus():
    text = nbtools.README.read_text(encoding="utf-8")
    assert nbtools.readme_with_syllabus(text) == text, (
        "README.md's syllabus tables are stale: run `python3 tools/course.py format`")


@pytest.mark.parametrize("path", [p for p in nbtools.course_notebooks() if p != nbtools.MACROS_NOTEBOOK],
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_notebook_is_in_the_syllabus(path):
    rel = path.relative_to(ROOT).as_posix()
    assert rel in {m.notebook for m in ALL}, f"{rel} is missing from advml/syllabus.py"


def test_the_package_module_is_the_file_the_readme_is_generated_from():
    loaded = nbtools.load_syllabus()
    assert [dataclass_tuple(m) for m in loaded.modules(assignments=True)] == [
        dataclass_tuple(m) for m in ALL]


def dataclass_tuple(m):
    return (m.notebook, m.title, m.week, m.theme, m.description, m.builds_on)


def test_the_website_navigation_equals_the_syllabus():
    weeks = website.syllabus()
    expected = [(w.heading, [m.notebook for m in w.modules]) for w in syllabus.weeks()]
    expected.append(("Assignments", [m.notebook for m in syllabus.assignments()]))
    assert [(w["title"], [m["path"] for m in w["modules"]]) for w in weeks] == expected
    for week in weeks:
        for m in week["modules"]:
            assert m["planned"] == (not (ROOT / m["path"]).exists())
            assert m["module"] == syllabus.module(m["path"]).title


# --------------------------------------------------------------------------- the data
def test_weeks_are_zero_to_seven_in_order_with_titles_and_modules():
    weeks = syllabus.weeks()
    assert [w.number for w in weeks] == list(range(8))
    assert all(w.title and w.modules for w in weeks)
    assert weeks[1].heading == "Week 1: the course, review, Transformers"
    assert [m for w in weeks for m in w.modules] == syllabus.modules()


def test_notebooks_are_unique_and_fields_are_filled():
    notebooks = [m.notebook for m in ALL]
    assert len(notebooks) == len(set(notebooks))
    for m in ALL:
        assert m.notebook.endswith(".ipynb") and m.title and m.description
        assert "\n" not in m.description and "|" not in m.description + m.title  # one table cell
        assert m.theme in syllabus.THEMES or (m.week is None and m.theme == syllabus.ASSIGNMENTS_THEME)
        assert m.notebook not in m.builds_on


def test_builds_on_names_known_modules_and_has_no_cycle():
    known = {m.notebook for m in ALL}
    for m in ALL:
        unknown = set(m.builds_on) - known
        assert not unknown, f"{m.notebook} builds on unknown modules {unknown}"
    graph = {m.notebook: set(m.builds_on) for m in ALL}
    order = list(graphlib.TopologicalSorter(graph).static_order())  # raises CycleError
    assert sorted(order) == sorted(known)


def test_no_module_builds_on_a_later_week():
    """Prerequisites follow the syllabus: where the lectures meet a topic before the week that
    treats it in depth, the notebook is self-contained and links forward instead."""
    later = [(m.notebook, b) for m in syllabus.modules() for b in m.builds_on
             if syllabus.module(b).week is not None and syllabus.module(b).week > m.week]
    assert later == []


def test_no_title_cell_requires_a_later_week():
    """The title cell's "Prerequisites:" (up to the next " · ") names no later-week notebook;
    forward links belong in "more detail" phrases."""
    import re

    for m in syllabus.modules():
        path = ROOT / m.notebook
        if not path.exists():
            continue
        title = nbtools.read(path).cells[0].source
        found = re.search(r"Prerequisites?:(.*?)(?: · |$)", title, re.S)
        named = re.findall(r"\(([\w-]+\.ipynb)\)", found.group(1)) if found else []
        later = [n for n in named if syllabus.module(n).week is not None
                 and syllabus.module(n).week > m.week]
        assert not later, f"{m.notebook} (week {m.week}) requires later-week {later}"


def test_a_cycle_would_be_detected():
    graph = {m.notebook: set(m.builds_on) for m in ALL}
    graph["Setup_NYU.ipynb"] = {"Getting_Started.ipynb"}    # Getting_Started builds on Setup_NYU
    with pytest.raises(graphlib.CycleError):
        list(graphlib.TopologicalSorter(graph).static_order())


def test_module_lookup_by_name_or_path():
    assert syllabus.module("Review_LLM").notebook == "Review_LLM.ipynb"
    assert syllabus.module("Review_LLM.ipynb").title == "LLM review"
    assert syllabus.module("assignments/Assignment_Guidelines").week is None
    assert syllabus.module("Assignment_Guidelines").name == "Assignment_Guidelines"
    with pytest.raises(KeyError, match="not a module"):
        syllabus.module("No_Such_Notebook")


def test_modules_by_week_and_assignments():
    assert [m.name for m in syllabus.modules(week=0)] == [
        "Setup_NYU", "Choosing_an_ML_Environment_NYU", "Getting_Started"]
    assert all(m.week is None for m in syllabus.assignments())
    assert syllabus.modules(assignments=True) == syllabus.modules() + syllabus.assignments()
    with pytest.raises(ValueError, match="no week 9"):
        syllabus.modules(week=9)


def test_edges_and_positions():
    edges = syllabus.edges()
    assert ("Review_Transformer.ipynb", "Review_LLM.ipynb") in edges
    assert all(b.week is not None for b in map(syllabus.module, (e[1] for e in edges)))
    assert syllabus.position("Setup_NYU") == (0, 0)
    assert syllabus.position("Review_LLM.ipynb") == (1, 8)
    assert syllabus.position("assignments/Assignment_1_Fine_Tuning.ipynb")[0] == 8


# --------------------------------------------------------------------------- the generator
def test_generated_tables_link_existing_notebooks_and_mark_planned_ones(tmp_path):
    (tmp_path / "Setup_NYU.ipynb").write_text("{}")
    text = nbtools.syllabus_markdown(tmp_path)
    assert text.startswith(nbtools.SYLLABUS_START) and text.endswith(nbtools.SYLLABUS_END)
    assert ("| Setting up your ML environment | [Setup_NYU.ipynb](Setup_NYU.ipynb) | "
            + syllabus.module("Setup_NYU").description + " |") in text
    assert "| A quick intro to the tools | `Getting_Started.ipynb` (planned) |" in text
    assert text.count("### Week ") == 8 and "### Assignments" in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line
            and not line.startswith("| module ")]
    assert len(rows) == len(ALL)


def test_a_stale_block_is_regenerated_and_a_missing_one_is_an_error():
    text = nbtools.README.read_text(encoding="utf-8")
    stale = text.replace("| LLM review |", "| LLM overview |")
    assert stale != text and nbtools.readme_with_syllabus(stale) == text
    with pytest.raises(ValueError, match="exactly one syllabus block"):
        nbtools.readme_with_syllabus(text.replace(nbtools.SYLLABUS_END, ""))
