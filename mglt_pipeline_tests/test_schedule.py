"""The daily rerun: 02:00 in ``$MGLT_SCHEDULE_TZ`` (UTC by default), every asset, one process."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfoNotFoundError

import dagster as dg
import pytest

from mglt_pipeline.automation.jobs import TRIAL_JOB
from mglt_pipeline.automation.schedules import build_daily_schedule, schedule_timezone
from mglt_pipeline.defs import automation


def test_timezone_comes_from_the_environment_with_utc_default():
    assert schedule_timezone({}) == "UTC"
    assert schedule_timezone({"MGLT_SCHEDULE_TZ": "America/New_York"}) == "America/New_York"
    with pytest.raises(ZoneInfoNotFoundError):
        schedule_timezone({"MGLT_SCHEDULE_TZ": "Mars/Olympus_Mons"})


def test_schedule_runs_daily_at_two_in_its_time_zone(monkeypatch):
    monkeypatch.setenv("MGLT_SCHEDULE_TZ", "Europe/Berlin")
    schedule = build_daily_schedule()
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "Europe/Berlin"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING


def test_schedule_and_sensor_launch_the_whole_graph_but_the_api_pulls_in_one_process():
    schedule = automation.SCHEDULES[0]
    assert schedule.job_name == TRIAL_JOB.name
    assert TRIAL_JOB.selection == ((dg.AssetSelection.all() - dg.AssetSelection.groups("pull"))
                                   | dg.AssetSelection.all().upstream_source_assets())
    assert TRIAL_JOB.executor_def is dg.in_process_executor
    assert automation.raw_data_sensor.job_name == TRIAL_JOB.name
    assert automation.raw_data_sensor.minimum_interval_seconds == 30
    assert automation.raw_data_sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_schedule_requests_one_run_of_everything_raw_sources_observed_first():
    from mglt_pipeline.defs.ingest import raw_sources

    @dg.asset(group_name="redcap", deps=["raw_redcap"])
    def questionnaire_items(): ...

    @dg.asset(group_name="report", deps=[questionnaire_items])
    def trial_report(): ...

    defs = dg.Definitions(assets=[raw_sources(("redcap",)), questionnaire_items, trial_report], jobs=automation.JOBS,
                          schedules=automation.SCHEDULES, resources={"data_root": dg.ResourceDefinition.none_resource()})
    schedule = defs.resolve_schedule_def(automation.SCHEDULES[0].name)
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2026, 3, 2, 2, 0))
    data = schedule.evaluate_tick(context)
    assert len(data.run_requests) == 1
    job = defs.resolve_job_def(TRIAL_JOB.name)
    assert {k.to_user_string() for k in job.asset_layer.executable_asset_keys} == {
        "raw_redcap", "questionnaire_items", "trial_report"}


def test_instance_template_limits_runs_to_one(tmp_path, monkeypatch):
    import shutil
    from importlib.resources import files

    template = files("mglt_pipeline.automation").joinpath("dagster.yaml")
    shutil.copy(str(template), tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with dg.DagsterInstance.get() as instance:
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 1
