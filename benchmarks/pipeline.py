"""How fast the whole pipeline is, and how it grows with the trial.

For each trial size: simulate a trial into a temporary data root (not timed), then, in a fresh
process, materialize the whole asset graph on it and measure
- total wall time of the run (process start to exit, imports included) and the run alone
  (definitions built and every step executed, imports excluded),
- wall time per asset group, summed from the run's STEP_START/STEP_SUCCESS events,
- peak resident memory of the process (``wait4`` accounting of the child),
- size of the warehouse file,
- Oura records per second through the Oura ingestion steps.
Several repetitions per size; prints medians and ranges as a Markdown table and writes the raw
figures as JSON under ``benchmarks/results/``.

    python benchmarks/pipeline.py --participants 80 1000 5000 --repeat 3
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"
OURA_INGEST_STEP = "ingest_oura"


def step_groups(defs) -> dict[str, str]:
    """Step key -> asset group: an asset step's group, or for a check step the group of its asset."""
    graph = defs.resolve_asset_graph()
    groups: dict[str, str] = {}
    for assets_def in graph.assets_defs:
        if not assets_def.is_executable:
            continue
        key = next(iter(assets_def.keys), None) or next(iter(assets_def.check_specs)).asset_key
        groups[assets_def.node_def.name] = graph.get(key).group_name or "default"
    return groups


def run_worker(data_root: Path, out_json: Path) -> None:
    """Inside the fresh process: materialize everything and record per-step wall times."""
    import dagster as dg
    import duckdb

    from mglt_pipeline.automation.jobs import TRIAL_JOB_NAME
    from mglt_pipeline.definitions import build_definitions

    t0 = time.perf_counter()
    defs = build_definitions(data_root)
    job = defs.resolve_job_def(TRIAL_JOB_NAME)
    instance = dg.DagsterInstance.ephemeral()
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    run_seconds = time.perf_counter() - t0

    group_of_step = step_groups(defs)
    starts, seconds = {}, defaultdict(float)
    for entry in instance.all_logs(result.run_id):
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type_value == "STEP_START":
            starts[event.step_key] = entry.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and event.step_key in starts:
            seconds[event.step_key] += entry.timestamp - starts[event.step_key]
    by_group: dict[str, float] = defaultdict(float)
    for step, secs in seconds.items():
        by_group[group_of_step.get(step, "other")] += secs
    with duckdb.connect(str(data_root / "warehouse.duckdb"), read_only=True) as con:
        oura_rows = sum(
            con.execute(f"select count(*) from main.{t}").fetchone()[0]
            for t in ("oura_daily_sleep", "oura_sleep_periods", "oura_daily_activity", "oura_daily_readiness")
        )
    oura_seconds = seconds.get(OURA_INGEST_STEP, 0.0)
    out_json.write_text(json.dumps({
        "success": result.success,
        "run_seconds": run_seconds,
        "group_seconds": dict(by_group),
        "step_seconds": dict(seconds),
        "oura_rows": oura_rows,
        "oura_rows_per_second": oura_rows / oura_seconds if oura_seconds else None,
    }))


def measure(data_root: Path) -> dict:
    """One fresh-process run on ``data_root``: the worker's figures plus wall time and peak RSS."""
    (data_root / "warehouse.duckdb").unlink(missing_ok=True)
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out_json = Path(f.name)
    log = out_json.with_suffix(".log")
    start = time.perf_counter()
    with log.open("w") as log_file:
        proc = subprocess.Popen([sys.executable, __file__, "--worker", str(data_root), str(out_json)],
                                env={**os.environ, "MGLT_DATA_DIR": str(data_root)},
                                stdout=log_file, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0 or not json.loads(out_json.read_text() or "{}").get("success"):
        raise SystemExit(f"the pipeline run on {data_root} failed; Dagster's log: {log}")
    log.unlink()
    figures = json.loads(out_json.read_text())
    out_json.unlink()
    figures.update(wall_seconds=wall, peak_rss_mb=usage.ru_maxrss / 1024,
                   warehouse_mb=(data_root / "warehouse.duckdb").stat().st_size / 2**20)
    return figures


def summarise(values: list[float]) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    med = statistics.median(values)
    return f"{med:,.1f} ({min(values):,.1f}-{max(values):,.1f})" if len(values) > 1 else f"{med:,.1f}"


def table(results: dict[int, list[dict]]) -> str:
    groups = sorted({g for runs in results.values() for r in runs for g in r["group_seconds"]})
    head = ["participants", "wall s", "run s", "peak RSS MB", "warehouse MB", "Oura rows/s"] + [f"{g} s" for g in groups]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for n, runs in results.items():
        row = [str(n), summarise([r["wall_seconds"] for r in runs]), summarise([r["run_seconds"] for r in runs]),
               summarise([r["peak_rss_mb"] for r in runs]), summarise([r["warehouse_mb"] for r in runs]),
               summarise([r["oura_rows_per_second"] for r in runs])]
        row += [summarise([r["group_seconds"].get(g, 0.0) for r in runs]) for g in groups]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--participants", type=int, nargs="+", default=[80, 1000, 5000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work-dir", type=Path, default=None,
                        help="keep the simulated trials (and the last warehouse) here and reuse them "
                             "on the next call (default: a temporary folder, removed afterwards)")
    parser.add_argument("--worker", nargs=2, metavar=("DATA_ROOT", "OUT_JSON"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        run_worker(Path(args.worker[0]), Path(args.worker[1]))
        return 0

    from mglt_pipeline.simulate import simulate_trial

    results: dict[int, list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="mglt_bench_") as tmp:
        for n in args.participants:
            root = (args.work_dir or Path(tmp)) / f"participants_{n}_seed_{args.seed}"
            if not (root / "raw").is_dir():
                simulate_trial(root, participants=n, seed=args.seed)
            results[n] = []
            for rep in range(args.repeat):
                figures = measure(root)
                results[n].append(figures)
                print(f"{n} participants, run {rep + 1}/{args.repeat}: {figures['wall_seconds']:.1f} s, "
                      f"peak {figures['peak_rss_mb']:.0f} MB", file=sys.stderr)
    print(table(results))
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS_DIR / f"pipeline_{stamp}.json"
    out.write_text(json.dumps({"when": stamp, "cpu_count": os.cpu_count(), "results": results}, indent=1))
    print(f"\nraw figures: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
