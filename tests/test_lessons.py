"""Lesson code written once (tools/lessons.py): the ``#@save`` cells of the notebooks, harvested
in syllabus order into the generated ``advml/lessons.py``."""
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import lessons  # noqa: E402
import nbtools  # noqa: E402


def notebook(folder: Path, name: str, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    path = folder / name
    nbformat.write(nb, str(path))
    return path


# --------------------------------------------------------------------------- the repository
def test_lessons_module_is_up_to_date():
    assert not lessons.write_module(nbtools.course_notebooks(), write_back=False), (
        "advml/lessons.py is stale: run `python3 tools/course.py format`")


def test_no_notebook_defines_a_saved_name_again():
    assert lessons.redefinitions(nbtools.course_notebooks()) == []


def test_lessons_module_imports_and_names_where_each_name_is_taught():
    from advml import lessons as module

    for notebook_name, _, names in lessons.saved_blocks(nbtools.course_notebooks()):
        for name in names:
            assert hasattr(module, name)
            assert f"``{name}``: {notebook_name}" in module.__doc__


def test_ring_mixture_samples_cover_every_mode():
    from advml.lessons import RingMixture

    mixture = RingMixture(num_modes=8, radius=2.0, std=0.05, seed=0)
    covered, near, counts = mixture.coverage(mixture.sample(2_000))
    assert covered == 8 and near > 0.99 and counts.sum() > 1_980
    # the control: every point at one centre covers one mode
    assert mixture.coverage(np.repeat(mixture.centers[:1], 100, axis=0))[0] == 1


# --------------------------------------------------------------------------- the harvester
def test_blocks_follow_the_syllabus_not_the_file_names(tmp_path):
    late = notebook(tmp_path, "Transformer_code.ipynb", "#@save\ndef later():\n    return early()")
    early = notebook(tmp_path, "Transformer.ipynb", "#@save\ndef early():\n    return 1",
                     "x = 2  # not saved")
    blocks = lessons.saved_blocks([late, early])
    assert [b[0] for b in blocks] == ["Transformer.ipynb", "Transformer_code.ipynb"]
    assert [b[2] for b in blocks] == [["early"], ["later"]]
    source = lessons.module_source([late, early])
    assert "\n#@save" not in source and "x = 2" not in source
    assert source.index("def early") < source.index("def later")
    compile(source, "lessons.py", "exec")


def test_a_name_saved_twice_is_an_error(tmp_path):
    a = notebook(tmp_path, "GAN_Generative.ipynb", "#@save\nclass Mixture:\n    pass")
    b = notebook(tmp_path, "Wasserstein_GAN_Generative.ipynb", "#@save\nclass Mixture:\n    pass")
    with pytest.raises(lessons.LessonError, match="saved by both GAN_Generative.ipynb and Wass"):
        lessons.saved_blocks([a, b])


def test_a_saved_cell_must_be_plain_python_and_define_something(tmp_path):
    magic = notebook(tmp_path, "Transformer.ipynb", "#@save\n%timeit f()\ndef f():\n    pass")
    with pytest.raises(lessons.LessonError, match="plain Python"):
        lessons.saved_blocks([magic])
    empty = notebook(tmp_path, "Transformer_code.ipynb", "#@save\nprint('hello')")
    with pytest.raises(lessons.LessonError, match="defines nothing"):
        lessons.saved_blocks([empty])


def test_defining_a_saved_name_again_elsewhere_is_found(tmp_path):
    a = notebook(tmp_path, "Transformer.ipynb", "#@save\ndef positional_encoding(n):\n    return n")
    b = notebook(tmp_path, "Transformer_code.ipynb",
                 "%matplotlib inline\ndef positional_encoding(n):\n    return 2 * n")
    c = notebook(tmp_path, "Review_LLM.ipynb", "from advml.lessons import positional_encoding")
    found = lessons.redefinitions([a, b, c])
    assert len(found) == 1 and found[0].startswith("Transformer_code.ipynb defines 'positional_enc")

