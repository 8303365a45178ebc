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


def test_diagrams_in_images_are_drawn_fresh(tmp_path):
    """images/ holds what tools/diagrams.py draws now, byte for byte (a stale diagram fails:
    run `python3 tools/course.py diagrams`); drawing twice gives the same bytes."""
    import diagrams

    assert diagrams.draw_all(folder=tmp_path) and not diagrams.draw_all(folder=tmp_path,
                                                                          write_back=False)
    for name in diagrams.DIAGRAMS:
        for fmt in ("svg", "png"):
            drawn, stored = tmp_path / f"{name}.{fmt}", diagrams.IMAGES / f"{name}.{fmt}"
            assert stored.exists(), f"{stored.name} missing: run `python3 tools/course.py diagrams`"
            assert drawn.read_bytes() == stored.read_bytes(), (
                f"images/{stored.name} is stale: run `python3 tools/course.py diagrams`, then format")
    assert b"<dc:date>" not in (tmp_path / f"{name}.svg").read_bytes()


def test_embedded_diagrams_equal_the_drawn_files():
    """Every <!-- diagram: NAME --> cell carries images/NAME.png as an attachment and shows it;
    every `attachment:` link of a Markdown cell names an attachment of that cell."""
    import re

    import diagrams

    marked = 0
    for path in nbtools.course_notebooks():
        nb = nbtools.read(path)
        for cell in nb.cells:
            for name in re.findall(r"\]\(attachment:([^)\s]+)\)", cell.source):
                assert name in cell.get("attachments", {}), f"{path.name}: no attachment {name}"
            for name in diagrams.MARKER.findall(cell.source) if cell.cell_type == "markdown" else []:
                marked += 1
                assert f"](attachment:{name}.png)" in cell.source, f"{path.name}: {name} not shown"
        assert not diagrams.stale_attachments(nb), (
            f"{path.name}: embedded diagram differs from images/: run `python3 tools/course.py format`")
    assert marked >= 2


def test_embed_attaches_and_shows_a_marked_diagram():
    import diagrams

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("Text.\n\n<!-- diagram: transformer_decoder_only -->")]
    diagrams.embed(nb)
    cell = nb.cells[0]
    assert "](attachment:transformer_decoder_only.png)" in cell.source
    assert list(cell.attachments) == ["transformer_decoder_only.png"]
    assert not diagrams.stale_attachments(nb)
    cell.attachments["transformer_decoder_only.png"]["image/png"] = "AAAA"
    assert diagrams.stale_attachments(nb) == ["transformer_decoder_only"]
