"""The daily rerun of the whole graph, so time-dependent derivations stay current.

A participant reaches Day 21, or a window gains its third valid day, without any file changing; the
02:00 rerun refreshes every asset anyway. The time zone is ``$MGLT_SCHEDULE_TZ`` (an IANA name),
UTC by default. The schedule is on by default: ``make ui`` starts the daemon that runs it.
"""
from __future__ import annotations

import os
from zoneinfo import ZoneInfo

import dagster as dg

from mglt_pipeline.automation.jobs import TRIAL_JOB

SCHEDULE_NAME = "daily_full_refresh"
DAILY_CRON = "0 2 * * *"
TIMEZONE_VARIABLE = "MGLT_SCHEDULE_TZ"
DEFAULT_TIMEZONE = "UTC"


def schedule_timezone(environ: dict[str, str] | None = None) -> str:
    """The schedule's IANA time zone from ``$MGLT_SCHEDULE_TZ`` (default UTC); an unknown name fails."""
    name = (os.environ if environ is None else environ).get(TIMEZONE_VARIABLE) or DEFAULT_TIMEZONE
    ZoneInfo(name)
    return name


def build_daily_schedule(timezone: str | None = None) -> dg.ScheduleDefinition:
    """Every asset and check rematerialized daily at 02:00 in ``timezone`` (default: from the env)."""
    tz = timezone or schedule_timezone()
    return dg.ScheduleDefinition(
        name=SCHEDULE_NAME,
        cron_schedule=DAILY_CRON,
        execution_timezone=tz,
        job=TRIAL_JOB,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=(
            f"Reruns the whole graph daily at 02:00 ({tz}; set {TIMEZONE_VARIABLE} to change), so that "
            "study-day derivations are refreshed even when no raw file changed."
        ),
    )
