"""The seed sweep: run notebooks under several seeds and both oneDNN modes, and collect every
check's claim, bar and measured value into one table.

    python3 tools/course.py sweep Review_LLM.ipynb GAN_Generative.ipynb --seeds 5
    python3 tools/course.py sweep --all --seeds 5 --jobs 2

Each run executes one notebook alone in a fresh temporary folder (as the test suite does) with
``COURSE_SEED`` set, ``TF_ENABLE_ONEDNN_OPTS`` set to 1 (on) or 0 (off), and the checks in
record mode: a failed check is recorded and the notebook goes on, so one run shows every
check. The table (printed, and written as CSV beside the raw records under
``<course cache>/sweep/``) gives, per check, its pass rate over the runs, its bar, the worst
measured value and the worst margin (how far the worst run stayed inside the bar; negative
when it failed). It is not part of the test suite: 5 seeds x 2 modes is ten runs a notebook.
"""
from __future__ import annotations

import argparse
import collections
import concurrent.futures
import csv
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import nbtools

DEFAULT_SEEDS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
MODES = {"on": "1", "off": "0"}
SUMMARY_TAG = "sweep-summary"   # the generated Markdown cell stating each check's range


def _cache() -> Path:
    sys.path.insert(0, str(nbtools.ROOT))
    from advml.cache import cache_dir

    folder = cache_dir() / "sweep"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def run_one(path: Path, seed: int, mode: str, threads: int | None, timeout: int) -> dict:
    """One notebook, one seed, one oneDNN mode: its check records, time and any error."""
    with tempfile.NamedTemporaryFile("w+", suffix=".jsonl", delete=False) as log:
        log_path = log.name
    env = {"COURSE_SEED": str(seed), "TF_ENABLE_ONEDNN_OPTS": MODES[mode],
           "COURSE_CHECK_LOG": log_path, "COURSE_CHECK_MODE": "record",
           "COURSE_NOTEBOOK": path.name}
    if threads:
        env.update({"OMP_NUM_THREADS": str(threads), "TF_NUM_INTRAOP_THREADS": str(threads)})
    error, seconds = None, None
    start = time.perf_counter()
    try:
        _, seconds = nbtools.run_alone(path, env=env, timeout=timeout)
    except Exception as exc:  # a crash (not a failed check): report it, keep sweeping
        error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"
        seconds = time.perf_counter() - start
    records = [json.loads(line) for line in Path(log_path).read_text().splitlines() if line]
    os.unlink(log_path)
    for index, record in enumerate(records):
        record.update({"index": index, "seed": seed, "onednn": mode})
    return {"notebook": path.name, "seed": seed, "onednn": mode, "seconds": seconds,
            "error": error, "records": records}


def summarize(runs: list[dict]) -> list[dict]:
    """One row per (notebook, check): pass rate, bar, worst value and margin over the runs."""
    rows = collections.OrderedDict()
    for run in sorted(runs, key=lambda r: (r["notebook"], r["seed"], r["onednn"])):
        for record in run["records"]:
            key = (run["notebook"], record["index"])
            row = rows.setdefault(key, {"notebook": run["notebook"], "index": record["index"],
                                        "claim": record["claim"], "expected": record["expected"],
                                        "runs": 0, "passed": 0, "values": [], "margins": [],
                                        "failed_in": [], "measured": []})
            row["runs"] += 1
            row["passed"] += record["passed"]
            if record.get("measured") is not None and record["value"] is None:
                row["measured"].append(record["measured"])
            if not record["passed"]:
                row["failed_in"].append(f"seed {run['seed']}/oneDNN {run['onednn']}")
            if record["value"] is not None:
                row["values"].append(record["value"])
            if record["margin"] is not None:
                row["margins"].append((record["margin"], record["value"]))
    table = []
    for row in rows.values():
        worst_margin, worst_value = min(row["margins"]) if row["margins"] else (None, None)
        values = row["values"]
        table.append({
            "notebook": row["notebook"], "check": row["index"] + 1, "claim": row["claim"],
            "bar": row["expected"], "runs": row["runs"], "passed": row["passed"],
            "pass_rate": row["passed"] / row["runs"],
            "worst_value": worst_value if worst_value is not None else (
                None if not values else min(values)),
            "min_value": min(values) if values else None,
            "max_value": max(values) if values else None,
            "worst_margin": worst_margin, "failed_in": "; ".join(row["failed_in"]),
            # a measurement that is not one number (e.g. "7 of 8"): its distinct values
            "measured_values": " | ".join(sorted(set(row["measured"]))[:6])})
    return table


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value)


def print_table(table: list[dict], runs: list[dict]) -> None:
    print("\n== runs ==")
    for run in sorted(runs, key=lambda r: (r["notebook"], r["seed"], r["onednn"])):
        failed = sum(not r["passed"] for r in run["records"])
        status = run["error"] or ("ok" if not failed else f"{failed} check(s) failed")
        print(f"{run['notebook']:<58} seed {run['seed']:>2} oneDNN {run['onednn']:<3} "
              f"{run['seconds']:7.1f} s  {len(run['records']):3d} checks  {status}")
    print("\n== checks (pass rate, bar, measured range over the runs, worst margin) ==")
    for row in table:
        flag = "  " if row["passed"] == row["runs"] else "!!"
        print(f"{flag} {row['notebook']} #{row['check']:<3} {row['passed']}/{row['runs']}  "
              f"bar {row['bar'] or '-'}  range [{_fmt(row['min_value'])}, {_fmt(row['max_value'])}]"
              f"  worst margin {_fmt(row['worst_margin'])}  {row['claim'][:90]}"
              + (f"\n     measured: {row['measured_values'][:150]}" if row["measured_values"] else "")
              + (f"\n     failed in: {row['failed_in']}" if row["failed_in"] else ""))
    checks = len(table)
    perfect = sum(r["passed"] == r["runs"] for r in table)
    crashed = [r for r in runs if r["error"]]
    notebooks = sorted({r["notebook"] for r in runs})
    print(f"\n== summary: {len(notebooks)} notebook(s), {len(runs)} runs, {checks} checks; "
          f"{perfect}/{checks} checks passed in every run; {len(crashed)} run(s) crashed ==")


def _short(value) -> str:
    return "-" if value is None else f"{value:.3g}"


def summary_markdown(notebook: str, table: list[dict], runs: list[dict]) -> str:
    """The sentence a notebook carries about its checks over seeds (a generated cell)."""
    mine = [r for r in runs if r["notebook"] == notebook]
    seeds = sorted({r["seed"] for r in mine})
    modes = sorted({r["onednn"] for r in mine})
    rows = [r for r in table if r["notebook"] == notebook]
    passed_all = sum(r["passed"] == r["runs"] for r in rows)
    lines = [f"**Over seeds.** The seed sweep (`python3 tools/course.py sweep`, "
             f"{time.strftime('%Y-%m-%d')}) ran this notebook {len(mine)} times: `COURSE_SEED` "
             f"{', '.join(map(str, seeds))} with oneDNN {' and '.join(modes)}. "
             f"{passed_all} of its {len(rows)} checks held in every run; the measured values ranged:",
             ""]
    for r in rows:
        rate = f"{r['passed']}/{r['runs']}"
        span = (f"{_short(r['min_value'])} to {_short(r['max_value'])}"
                if r["min_value"] is not None else (r["measured_values"] or "no value"))
        claim = r["claim"].rstrip(".")
        lines.append(f"- {claim}: {span} (bar {r['bar'] or 'the claim'}; held {rate})")
    return "\n".join(lines)


def annotate(table: list[dict], runs: list[dict]) -> list[str]:
    """Write (or refresh) each swept notebook's summary cell right after its Checks heading."""
    import nbformat

    done = []
    for name in sorted({r["notebook"] for r in runs}):
        if any(r["error"] for r in runs if r["notebook"] == name):
            continue                     # a crashed run: no summary to state
        if not any(r["records"] for r in runs if r["notebook"] == name):
            continue                     # no check ran (e.g. a student version): nothing to state
        path = next((p for p in nbtools.course_notebooks() if p.name == name), None)
        if path is None:
            continue
        nb = nbtools.read(path)
        nb.cells = [c for c in nb.cells if SUMMARY_TAG not in c.metadata.get("tags", [])]
        heading = next((i for i, c in enumerate(nb.cells) if c.cell_type == "markdown"
                        and any(l.strip().lower().startswith("## checks")
                                for l in c.source.splitlines())), None)
        if heading is None:
            continue
        cell = nbformat.v4.new_markdown_cell(summary_markdown(name, table, runs),
                                             metadata={"tags": [SUMMARY_TAG]})
        nb.cells.insert(heading + 1, cell)
        nbtools.write(nbtools.format_notebook(nb, path.relative_to(nbtools.ROOT).as_posix()), path)
        done.append(name)
    return done


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="course.py sweep", description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="notebooks to sweep (default: --all)")
    parser.add_argument("--all", action="store_true", help="every lesson notebook")
    parser.add_argument("--seeds", type=int, default=5, help="how many seeds (1..10; default 5)")
    parser.add_argument("--seed-list", default="", help="explicit seeds, e.g. 1,2,42")
    parser.add_argument("--onednn", choices=["both", "on", "off"], default="both")
    parser.add_argument("--jobs", type=int, default=1,
                        help="runs at once (each gets cores/jobs threads; default 1)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    parser.add_argument("--annotate", action="store_true",
                        help="write each notebook's range-over-seeds cell (after its Checks heading)")
    parser.add_argument("--from-raw", default="",
                        help="summarize (and --annotate) an earlier sweep's raw .jsonl instead of running")
    args = parser.parse_args(argv)
    if args.all == bool(args.notebooks):
        parser.error("name notebooks to sweep, or pass --all")
    paths = ([p for p in nbtools.course_notebooks() if p != nbtools.MACROS_NOTEBOOK] if args.all
             else [Path(n).resolve() for n in args.notebooks])
    for path in paths:
        if not path.exists() or path.suffix != ".ipynb":
            parser.error(f"{path} is not a notebook")
    if args.seed_list:
        seeds = [int(s) for s in args.seed_list.split(",") if s.strip()]
    else:
        if not 1 <= args.seeds <= len(DEFAULT_SEEDS):
            parser.error(f"--seeds must be from 1 to {len(DEFAULT_SEEDS)}")
        seeds = list(DEFAULT_SEEDS[:args.seeds])
    modes = ["on", "off"] if args.onednn == "both" else [args.onednn]
    jobs = max(1, args.jobs)
    threads = max(1, len(os.sched_getaffinity(0)) // jobs) if jobs > 1 else None
    if args.from_raw:
        runs = [json.loads(line) for path in args.from_raw.split(",")
                for line in Path(path).read_text().splitlines() if line]
        runs = [r for r in runs if r["notebook"] in {p.name for p in paths}]
        table = summarize(runs)
        print_table(table, runs)
        if args.annotate:
            print("annotated:", ", ".join(annotate(table, runs)) or "none")
        return 0
    plan = [(p, s, m) for p in paths for s in seeds for m in modes]
    print(f"sweeping {len(paths)} notebook(s) x {len(seeds)} seeds {seeds} x oneDNN {modes}: "
          f"{len(plan)} runs, {jobs} at a time", flush=True)
    runs = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(run_one, p, s, m, threads, args.timeout): (p, s, m)
                   for p, s, m in plan}
        for future in concurrent.futures.as_completed(futures):
            run = future.result()
            runs.append(run)
            failed = sum(not r["passed"] for r in run["records"])
            print(f"  done {run['notebook']} seed {run['seed']} oneDNN {run['onednn']}: "
                  f"{run['seconds']:.0f} s, {len(run['records'])} checks, {failed} failed"
                  + (f", ERROR {run['error']}" if run["error"] else ""), flush=True)
    table = summarize(runs)
    print_table(table, runs)
    # the process id keeps two sweeps that finish in the same second from overwriting each other
    stamp = f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    out = _cache()
    csv_path = out / f"sweep-{stamp}.csv"
    with open(csv_path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(table[0]) if table else ["notebook"])
        writer.writeheader()
        writer.writerows(table)
    raw_path = out / f"sweep-{stamp}.jsonl"
    raw_path.write_text("".join(json.dumps({k: v for k, v in r.items()}) + "\n" for r in runs))
    print(f"table: {csv_path}\nraw records: {raw_path}")
    if args.annotate:
        print("annotated:", ", ".join(annotate(table, runs)) or "none")
    bad = [r for r in table if r["passed"] < r["runs"]] or [r for r in runs if r["error"]]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
