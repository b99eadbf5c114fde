"""Pull (group ``pull``): the Oura API and REDCap API pulls, their job and their hourly schedule.

``oura_pull_status`` pulls every participant's Oura collections into ``raw/oura/`` and stores the
per-participant pull status (``pull.state``) as a warehouse table; ``redcap_pull`` exports the
REDCap project into ``raw/redcap/``. Both report what they did as metadata. What they write is raw
input like any other: the raw-data sensor reruns the branches whose files changed. The trial's own
jobs leave this group out, so a rerun of the trial never calls an API.
"""
import os
from datetime import datetime, timezone

import dagster as dg
import pandas as pd
from dagster import AssetExecutionContext, ScheduleEvaluationContext

from mglt_pipeline.automation.schedules import schedule_timezone
from mglt_pipeline.pull import PULL_GROUP
from mglt_pipeline.pull.files import PullRunning
from mglt_pipeline.pull.http import PullError
from mglt_pipeline.pull.oura_run import OuraPullRun
from mglt_pipeline.pull.resources import (OURA_PULL_ASSET, REDCAP_PULL_ASSET, OuraApi, RedcapApi,
                                          configured_pulls)
from mglt_pipeline.pull.state import status_table
from mglt_pipeline.pull.tokens import TokenFileRefused
from mglt_pipeline.resources import DataRoot

PULL_JOB_NAME = "api_pull_job"
PULL_SCHEDULE_NAME = "api_pull_schedule"
CRON_VARIABLE = "MGLT_PULL_CRON"
DEFAULT_CRON = "0 * * * *"


def oura_pull_metadata(run: OuraPullRun) -> dict:
    """What one Oura pull did, for the UI: participants, pages, days and records, failures by kind."""
    outcomes = run.outcomes
    failures = pd.Series([o.status for o in outcomes if o.status != "ok"], dtype=object).value_counts().to_dict()
    retries: dict[str, int] = {}
    for outcome in outcomes:
        for kind, count in outcome.stats.retries.items():
            retries[kind] = retries.get(kind, 0) + count
    return {
        "participants_in_token_file": len(outcomes),
        "participants_pulled": sum(o.status == "ok" for o in outcomes),
        "participants_without_token": len(run.without_token),
        "pages_fetched": sum(o.pages_fetched for o in outcomes),
        "pages_written": sum(o.pages_written for o in outcomes),
        "days_new": sum(o.days_new for o in outcomes),
        "records_new": sum(o.records_new for o in outcomes),
        "records_restated": sum(o.records_restated for o in outcomes),
        "records_no_longer_served": sum(o.records_absent for o in outcomes),
        "failures_by_kind": dg.MetadataValue.json(failures),
        "retries_by_kind": dg.MetadataValue.json(retries),
        "seconds_waited": round(sum(o.stats.waited_s for o in outcomes), 1),
        "token_file_lines_unusable": dg.MetadataValue.json(run.unusable_lines),
        "known_participants_without_token": dg.MetadataValue.json(run.without_token[:200]),
    }


@dg.asset(name=OURA_PULL_ASSET, group_name=PULL_GROUP, kinds={"python", "duckdb"})
def oura_pull_status(context: AssetExecutionContext, data_root: DataRoot, oura_api: OuraApi) -> dg.Output:
    """Pull every participant of the token file from the Oura API v2 into raw/oura/<participant_id>/
    (one file per page, incrementally), and the pull status per participant: status (ok,
    token_expired, token_revoked, membership_ended, failed), since, last pulled day, last day with
    data, reason."""
    try:
        run = oura_api.pull(data_root.root, datetime.now(timezone.utc))
    except (TokenFileRefused, PullRunning) as error:
        raise dg.Failure(str(error)) from None
    for outcome in run.outcomes:
        if outcome.status != "ok":
            context.log.warning(f"{outcome.participant_id}: {outcome.status} ({outcome.reason})")
    table = status_table(run.status)
    metadata = oura_pull_metadata(run)
    metadata.update({"dagster/row_count": len(table),
                     "preview": dg.MetadataValue.md(table.head(20).to_markdown(index=False))})
    return dg.Output(table, metadata=metadata)


@dg.asset(name=REDCAP_PULL_ASSET, group_name=PULL_GROUP, kinds={"python", "csv"})
def redcap_pull(context: AssetExecutionContext, data_root: DataRoot, redcap_api: RedcapApi) -> dg.MaterializeResult:
    """Export the REDCap project's records (flat raw CSV) and data dictionary into raw/redcap/, only
    when they changed."""
    try:
        pulled = redcap_api.pull(data_root.raw / "redcap", datetime.now(timezone.utc))
    except PullError as error:
        raise dg.Failure(f"REDCap pull failed: {error.detail}") from None
    except PullRunning as error:
        raise dg.Failure(str(error)) from None
    context.log.info(f"REDCap export: {pulled.export_file or 'nothing new'}; "
                     f"dictionary {'written' if pulled.dictionary_written else 'unchanged'}")
    return dg.MaterializeResult(metadata={
        "export_file": pulled.export_file or "none: identical to the latest export",
        "export_rows": pulled.export_rows,
        "compared_with": pulled.compared_with or "none",
        "dictionary_written": pulled.dictionary_written,
        "retries_by_kind": dg.MetadataValue.json(dict(pulled.stats.retries)),
    })


PULL_JOB = dg.define_asset_job(
    name=PULL_JOB_NAME, selection=dg.AssetSelection.groups(PULL_GROUP), executor_def=dg.in_process_executor,
    description="Pulls the Oura API and the REDCap API into raw/ (the configured ones).")


def pull_cron(environ: dict[str, str] | None = None) -> str:
    """The pulls' cron schedule: ``$MGLT_PULL_CRON``, hourly by default."""
    return (os.environ if environ is None else environ).get(CRON_VARIABLE) or DEFAULT_CRON


def build_pull_schedule(cron: str | None = None) -> dg.ScheduleDefinition:
    """The pulls on ``cron`` (default: from the environment), running only the configured pulls."""
    cron = cron or pull_cron()

    @dg.schedule(name=PULL_SCHEDULE_NAME, cron_schedule=cron, job=PULL_JOB, execution_timezone=schedule_timezone(),
                 default_status=dg.DefaultScheduleStatus.RUNNING,
                 description=f"Runs the configured API pulls ({cron}; set {CRON_VARIABLE} to change); skips "
                             "when neither the Oura token file nor the REDCap API is configured.")
    def api_pull_schedule(context: ScheduleEvaluationContext, oura_api: OuraApi):
        keys, missing = configured_pulls(oura_api.token_file)
        if not keys:
            return dg.SkipReason("; ".join(missing))
        return dg.RunRequest(asset_selection=[dg.AssetKey(k) for k in keys])

    return api_pull_schedule


ASSETS = [oura_pull_status, redcap_pull]
JOBS = [PULL_JOB]
SCHEDULES = [build_pull_schedule()]
__all__ = ["ASSETS", "JOBS", "SCHEDULES"]
