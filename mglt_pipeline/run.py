"""``make run``: materialize the whole asset graph in-process on the data root, then say where it went.

One run at a time per data root: a second ``make run`` on the same root stops at once with one line
naming the run in progress (``warehouse.lock``). A run's tables and report files are committed
together when it succeeds; when a step fails, this says which step and why, that the warehouse and
report are still those of the last committed run, prints no report path and exits 1.

Uses the persistent Dagster instance of ``$DAGSTER_HOME`` when set (the Makefile sets it under the
data root), so the runs show in ``make ui`` afterwards; otherwise an ephemeral one.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from mglt_pipeline.paths import REPORT_FILE, REPORTS_DIR, WAREHOUSE_FILE, default_data_root
from mglt_pipeline.warehouse import lock

EXIT_FAILED = 1
EXIT_NO_DATA = 2
EXIT_BUSY = 3


def materialize_all(data_root: Path, instance=None):
    """One in-process run of the trial job (every raw-source observation, asset and check but the API
    pulls, which ``make pull`` runs) on ``data_root``; the ``ExecuteInProcessResult``."""
    import dagster as dg

    from mglt_pipeline.automation.jobs import TRIAL_JOB_NAME
    from mglt_pipeline.definitions import build_definitions

    job = build_definitions(data_root).resolve_job_def(TRIAL_JOB_NAME)
    return job.execute_in_process(instance=instance or dg.DagsterInstance.ephemeral(), raise_on_error=False,
                                  run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}})


def failed_checks(result) -> list[str]:
    """``asset:check (severity)`` of every asset check that did not pass in the run."""
    return [f"{e.asset_key.to_user_string()}:{e.check_name} ({e.severity.value})"
            for e in result.get_asset_check_evaluations() if not e.passed]


def _error_text(error) -> str:
    while getattr(error, "cause", None) is not None:
        error = error.cause
    return "; ".join(line.strip() for line in str(getattr(error, "message", error)).splitlines() if line.strip())


def step_failures(result) -> list[tuple[str, str]]:
    """(step, error) of every failed step of the run, the error's innermost cause on one line."""
    failures = []
    for event in result.all_events:
        if event.is_step_failure:
            step = (event.logging_tags or {}).get("step_key") or str(event.node_handle)
            failures.append((step, _error_text(getattr(event.event_specific_data, "error", None))))
    return failures


def last_committed_run(root: Path) -> str:
    """The run whose tables and report the data root holds, as a phrase."""
    import duckdb

    from mglt_pipeline.warehouse.tables import RUNS_TABLE

    warehouse = root / WAREHOUSE_FILE
    if not warehouse.exists():
        return "no run has committed to this data root yet"
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        row = connection.execute(f"select run_id, committed_at from {RUNS_TABLE} "
                                 "order by committed_at desc limit 1").fetchone()
    return f"they hold run {row[0]} of {row[1]:%Y-%m-%d %H:%M:%S} UTC" if row else "no run has committed yet"


def report_outcome(root: Path, result) -> int:
    """Print what the run did and return the exit code."""
    if not result.success:
        print(f"run {result.run_id}: FAILED", file=sys.stderr)
        for step, error in step_failures(result) or [("(run)", "see the run log above")]:
            print(f"  failed step {step}: {error}", file=sys.stderr)
        print(f"nothing of this run was committed: the warehouse and report are unchanged; "
              f"{last_committed_run(root)}", file=sys.stderr)
        return EXIT_FAILED
    print(f"run {result.run_id}: succeeded")
    print(f"warehouse: {root / WAREHOUSE_FILE}")
    report = root / REPORTS_DIR / REPORT_FILE
    if report.exists():
        print(f"report:    {report}")
    checks = failed_checks(result)
    print(f"asset checks not passed: {len(checks)}" + "".join(f"\n  {c}" for c in checks))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data_root", nargs="?", type=Path, default=None,
                        help="data root (default: $MGLT_DATA_DIR or the repository's data/)")
    args = parser.parse_args(argv)
    root = (args.data_root or default_data_root()).resolve()
    if not (root / "raw").is_dir():
        print(f"error: no raw/ folder under the data root {root}", file=sys.stderr)
        return EXIT_NO_DATA
    try:
        lock.acquire(root)
    except lock.DataRootBusy as busy:
        print(f"error: {busy}", file=sys.stderr)
        return EXIT_BUSY
    try:
        import dagster as dg

        instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else None
        return report_outcome(root, materialize_all(root, instance))
    finally:
        lock.release(root)


if __name__ == "__main__":
    sys.exit(main())
