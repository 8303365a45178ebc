"""The tooling behind the test suite: notebooks run alone, and the seed sweep's table."""
import json

import nbformat
import pytest

import nbtools
import sweep


def _notebook(path, *sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in sources]
    nb.metadata["kernelspec"] = nbtools.KERNELSPEC
    nbformat.write(nb, str(path))
    return path


def test_a_notebook_runs_alone_in_an_empty_folder(tmp_path):
    path = _notebook(tmp_path / "Alone.ipynb",
                     "import os, advml\nprint(sorted(os.listdir('.')), os.environ['COURSE_NOTEBOOK'])",
                     "print(advml.get_seed(42), os.environ['COURSE_SEED'])")
    (tmp_path / "requirements.txt").write_text("numpy==1.0\n")  # beside it here, not there
    nb, seconds = nbtools.run_alone(path, env={"COURSE_SEED": "7"})
    outputs = [o["text"].strip() for c in nb.cells for o in c.outputs]
    assert outputs == ["['Alone.ipynb'] Alone.ipynb", "7 7"] and seconds > 0


def test_sweep_records_every_check_of_a_run(tmp_path):
    path = _notebook(tmp_path / "Checks.ipynb",
                     "import advml\nenv = advml.setup(seed=42, quiet=True)",
                     "advml.check('seed is even', env.seed % 2 == 0, expected='== 0', measured=env.seed % 2)",
                     "advml.check('accuracy is high', True, expected='>= 0.5', measured=0.5 + env.seed / 10)")
    run = sweep.run_one(path, seed=3, mode="off", threads=1, timeout=120)
    assert run["error"] is None and [r["passed"] for r in run["records"]] == [False, True]
    assert run["records"][1]["value"] == pytest.approx(0.8) and run["records"][1]["onednn"] == "off"


def test_sweep_summary_gives_pass_rate_range_and_worst_margin():
    def record(index, passed, value, margin, claim="c"):
        return {"index": index, "claim": claim, "expected": ">= 0.5", "passed": passed,
                "value": value, "margin": margin}
    runs = [{"notebook": "A.ipynb", "seed": s, "onednn": m, "seconds": 1.0, "error": None,
             "records": [record(0, v >= 0.5, v, v - 0.5)]}
            for s, m, v in [(1, "on", 0.9), (1, "off", 0.7), (2, "on", 0.4)]]
    (row,) = sweep.summarize(runs)
    assert (row["runs"], row["passed"]) == (3, 2)
    assert row["min_value"] == 0.4 and row["max_value"] == 0.9
    assert row["worst_margin"] == pytest.approx(-0.1) and row["worst_value"] == 0.4
    assert row["failed_in"] == "seed 2/oneDNN on"
    json.dumps(row)  # the CSV/JSON writers take it as is


def test_sweep_summary_sentence_states_runs_and_ranges():
    runs = [{"notebook": "A.ipynb", "seed": s, "onednn": m, "seconds": 1.0, "error": None,
             "records": [{"index": 0, "claim": "accuracy is high", "expected": ">= 0.5",
                          "passed": True, "value": v, "margin": v - 0.5}]}
            for s, m, v in [(1, "on", 0.9), (1, "off", 0.7)]]
    text = sweep.summary_markdown("A.ipynb", sweep.summarize(runs), runs)
    assert "ran this notebook 2 times" in text and "`COURSE_SEED` 1 with oneDNN off and on" in text
    assert "1 of its 1 checks held in every run" in text
    assert "- accuracy is high: 0.7 to 0.9 (bar >= 0.5; held 2/2)" in text
