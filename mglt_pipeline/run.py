"""``make run``: materialize the whole asset graph in-process on the data root, then say where it went.

Uses the persistent Dagster instance of ``$DAGSTER_HOME`` when set (the Makefile sets it under the
data root), so the runs show in ``make ui`` afterwards; otherwise an ephemeral one.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import dagster as dg

from mglt_pipeline.automation.jobs import TRIAL_JOB_NAME
from mglt_pipeline.definitions import build_definitions
from mglt_pipeline.resources import REPORTS_DIR, WAREHOUSE_FILE, default_data_root


def materialize_all(data_root: Path, instance: dg.DagsterInstance | None = None) -> dg.ExecuteInProcessResult:
    """One in-process run of every asset and asset check of the trial on ``data_root`` (the trial's
    job: everything but the API pulls, which ``make pull`` runs)."""
    defs = build_definitions(data_root)
    job = defs.resolve_job_def(TRIAL_JOB_NAME)
    return job.execute_in_process(instance=instance or dg.DagsterInstance.ephemeral(), raise_on_error=False,
                                  run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}})


def failed_checks(result: dg.ExecuteInProcessResult) -> list[str]:
    """``asset:check (severity)`` of every asset check that did not pass in the run."""
    return [f"{e.asset_key.to_user_string()}:{e.check_name} ({e.severity.value})"
            for e in result.get_asset_check_evaluations() if not e.passed]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data_root", nargs="?", type=Path, default=None,
                        help="data root (default: $MGLT_DATA_DIR or the repository's data/)")
    args = parser.parse_args(argv)
    root = (args.data_root or default_data_root()).resolve()
    if not (root / "raw").is_dir():
        print(f"error: no raw/ folder under the data root {root}", file=sys.stderr)
        return 2
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else None
    result = materialize_all(root, instance)
    failed = [e.step_key for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    print(f"run {result.run_id}: {'succeeded' if result.success else 'FAILED'}")
    print(f"warehouse: {root / WAREHOUSE_FILE}")
    report = root / REPORTS_DIR / "trial_report.html"
    if report.exists():
        print(f"report:    {report}")
    checks = failed_checks(result)
    print(f"asset checks not passed: {len(checks)}" + "".join(f"\n  {c}" for c in checks))
    if failed:
        print(f"failed steps: {', '.join(failed)}", file=sys.stderr)
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
