"""Kill ``make run`` at random moments and check what a reader gets after each kill.

    python scripts/kill_runs.py --kills 20 [--participants 12] [--seed 1] [--raw DATA_ROOT/raw]

A clean run on a copy of the trial is the reference (and gives the run's length). On another copy,
``python -m mglt_pipeline.run`` is started and killed (SIGKILL) after a random delay between 0 and the
run's length until ``--kills`` runs were killed (a run that ends before its moment counts as a
finished run and shortens the length); after each the data root must hold whole runs only
(``warehouse.consistency``: every table from a committed run, the report of the last run that
committed one) and every table must come from one run. A last run then finishes, and every table
must equal the reference's. Prints one line per kill and a summary; exits 1 on any problem.
"""
from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pandas as pd

from mglt_pipeline.paths import WAREHOUSE_FILE
from mglt_pipeline.warehouse.consistency import data_root_state
from mglt_pipeline.warehouse.tables import RUNS_TABLE, TABLES_TABLE


def copy_trial(raw: Path, root: Path) -> Path:
    """A fresh data root holding a copy of ``raw``."""
    shutil.copytree(raw, root / "raw")
    return root


def start_run(root: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "mglt_pipeline.run", str(root)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run_to_end(root: Path) -> tuple[subprocess.CompletedProcess, float]:
    """One whole run; its outcome and how long it took (seconds)."""
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "mglt_pipeline.run", str(root)], capture_output=True, text=True)
    return done, time.monotonic() - started


def kill_after(root: Path, seconds: float) -> tuple[int, float]:
    """Start a run, SIGKILL it after ``seconds`` if still running; (return code, -9 if killed; seconds it ran)."""
    started, process = time.monotonic(), start_run(root)
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
    process.communicate()
    return process.returncode, time.monotonic() - started


def check_after_kill(root: Path) -> list[str]:
    """The consistency problems of the data root, and tables from more than one run (every run here
    writes the whole graph, so a mix of runs can only come from a half-committed run)."""
    state = data_root_state(root)
    runs = set(state.table_runs.values())
    return state.problems + ([f"tables from {len(runs)} runs: {sorted(runs)}"] if len(runs) > 1 else [])


def data_tables(root: Path) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(root / WAREHOUSE_FILE), read_only=True) as con:
        names = [r[0] for r in con.execute("select table_name from information_schema.tables where table_schema='main'")
                 .fetchall() if r[0] not in (RUNS_TABLE, TABLES_TABLE)]
        return {n: con.execute(f'select * from main."{n}"').df() for n in sorted(names)}


def table_differences(reference: Path, other: Path) -> list[str]:
    """The tables that differ between two data roots (values to 1e-12)."""
    a, b = data_tables(reference), data_tables(other)
    found = [f"table {n} only in one warehouse" for n in sorted(set(a) ^ set(b))]
    for name in sorted(set(a) & set(b)):
        try:
            pd.testing.assert_frame_equal(a[name], b[name], check_exact=False, rtol=1e-12, atol=1e-12)
        except AssertionError as error:
            found.append(f"table {name}: {str(error).splitlines()[0]}")
    return found


def kill_test(raw: Path, kills: int, seed: int, workdir: Path) -> list[str]:
    """Run the whole test; print one line per step; return every problem found."""
    rng = random.Random(seed)
    reference = copy_trial(raw, workdir / "reference")
    done, length = run_to_end(reference)
    if done.returncode != 0:
        return [f"the reference run failed: {done.stderr[-2000:]}"]
    print(f"reference run: {length:.1f} s")
    work, problems, killed, attempts = copy_trial(raw, workdir / "killed"), [], 0, 0
    while killed < kills and attempts < 3 * kills:
        attempts += 1
        delay = rng.uniform(0, length)
        code, ran = kill_after(work, delay)
        if code == 0:  # the run ended before its moment: a finished run, not a kill; runs are this fast
            length = min(length, ran)
        killed += code == -9
        found = check_after_kill(work)
        state = data_root_state(work)
        held = ", ".join(sorted(set(state.table_runs.values()))) or "none yet"
        what = f"kill {killed:2d} at {delay:5.1f} s" if code == -9 else f"run ended before {delay:5.1f} s"
        print(f"{what} (exit {code}): tables of run {held}; "
              + ("consistent" if not found else "PROBLEMS: " + "; ".join(found)))
        problems += [f"attempt {attempts}: {p}" for p in found]
    if killed < kills:
        problems.append(f"only {killed} of {attempts} runs were killed before they ended")
    done, _ = run_to_end(work)
    if done.returncode != 0:
        return problems + [f"the run after the kills failed: {done.stderr[-2000:]}"]
    differences = table_differences(reference, work)
    print(f"rerun after {kills} kills: {len(data_tables(work))} tables, "
          + ("all equal to the clean run's" if not differences else f"{len(differences)} differ"))
    return problems + differences + check_after_kill(work)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--participants", type=int, default=12, help="size of the simulated trial (without --raw)")
    parser.add_argument("--raw", type=Path, default=None, help="a raw/ folder to use instead of a simulated trial")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mglt_kill_") as tmp:
        workdir = Path(tmp)
        raw = args.raw
        if raw is None:
            subprocess.run([sys.executable, "-m", "mglt_pipeline.simulate", str(workdir / "trial"), "--participants",
                            str(args.participants), "--seed", str(args.seed)], check=True, capture_output=True)
            raw = workdir / "trial" / "raw"
        problems = kill_test(raw, args.kills, args.seed, workdir)
    print(f"{args.kills} kills: " + ("no problem" if not problems else f"{len(problems)} problems"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
