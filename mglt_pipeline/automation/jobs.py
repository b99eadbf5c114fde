"""The one job the sensor, the schedule and ``make run`` launch: every raw-source observation, asset
and check, one step at a time.

Every asset but the API pulls (group ``pull``): a rerun of the trial reads what is in ``raw/`` and
never calls an API; the pulls have their own job and schedule (``defs.pull``).

DuckDB takes one writer, so a run executes its steps in one process (in-process executor) and the
instance runs one run at a time (``dagster.yaml``: ``concurrency.runs.max_concurrent_runs: 1``).
"""
from __future__ import annotations

import dagster as dg

from mglt_pipeline.pull import PULL_GROUP

TRIAL_JOB_NAME = "trial_refresh_job"

TRIAL_JOB = dg.define_asset_job(
    name=TRIAL_JOB_NAME,
    selection=(dg.AssetSelection.all() - dg.AssetSelection.groups(PULL_GROUP))
    | dg.AssetSelection.all().upstream_source_assets(),
    executor_def=dg.in_process_executor,
    description=(
        "Observes the raw sources, then materializes the trial's assets and checks in one process "
        "(DuckDB takes one writer). The raw-data sensor launches it for the branch of a changed "
        "source; the daily schedule and make run for all."
    ),
)
