"""Automation (no assets): the raw-data sensor, the daily schedule and the job they launch."""
from __future__ import annotations

from mglt_pipeline.automation.jobs import TRIAL_JOB
from mglt_pipeline.automation.schedules import build_daily_schedule
from mglt_pipeline.automation.sensors import raw_data_sensor

SENSORS = [raw_data_sensor]
SCHEDULES = [build_daily_schedule()]
JOBS = [TRIAL_JOB]
