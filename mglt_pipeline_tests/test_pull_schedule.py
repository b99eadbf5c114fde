"""The pulls' schedule, their job, and ``make pull``: configuration from the environment.

The schedule is hourly unless ``MGLT_PULL_CRON`` says otherwise, and requests only the pulls whose
inputs are there (a token file; a REDCap URL and token); ``make pull`` (``python -m
mglt_pipeline.pull``) runs them once with the resources built from the environment, here against
the stand-in APIs. The trial's own job never includes a pull.
"""
from __future__ import annotations

import dagster as dg

from mglt_pipeline.automation.jobs import TRIAL_JOB_NAME
from mglt_pipeline.defs.pull import PULL_JOB_NAME, build_pull_schedule
from mglt_pipeline.definitions import build_definitions
from mglt_pipeline.pull.__main__ import main as make_pull
from mglt_pipeline.pull.resources import OuraApi
from mglt_pipeline_tests.pull_fixtures import pull_trial, write_token_file
from mglt_pipeline_tests.recorded_api import ApiServer

API_VARIABLES = ("OURA_API_BASE_URL", "MGLT_OURA_TOKENS", "REDCAP_API_URL", "REDCAP_API_TOKEN", "REDCAP_PROJECT",
                 "MGLT_PULL_CRON", "DAGSTER_HOME")


def clear(monkeypatch) -> None:
    for name in API_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_the_pull_schedule_is_hourly_unless_the_environment_says_otherwise(monkeypatch):
    clear(monkeypatch)
    schedule = build_pull_schedule()
    assert (schedule.cron_schedule, schedule.job_name) == ("0 * * * *", PULL_JOB_NAME)
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    monkeypatch.setenv("MGLT_PULL_CRON", "*/15 * * * *")
    assert build_pull_schedule().cron_schedule == "*/15 * * * *"


def test_the_schedule_requests_only_the_configured_pulls(tmp_path, monkeypatch):
    clear(monkeypatch)
    schedule = build_pull_schedule()
    token_file = tmp_path / "secrets" / "oura_tokens.csv"

    def tick():
        context = dg.build_schedule_context(resources={"oura_api": OuraApi(token_file=str(token_file))})
        return schedule.evaluate_tick(context)

    nothing = tick()
    assert nothing.run_requests == [] and "no token file" in nothing.skip_message and "REDCAP_API_URL" in nothing.skip_message
    write_token_file(tmp_path, {"P001": "x" * 40})
    assert [k.to_user_string() for k in tick().run_requests[0].asset_selection] == ["oura_pull_status"]
    monkeypatch.setenv("REDCAP_API_URL", "https://redcap.example.org/api/")
    monkeypatch.setenv("REDCAP_API_TOKEN", "y" * 32)
    assert [k.to_user_string() for k in tick().run_requests[0].asset_selection] == ["oura_pull_status", "redcap_pull"]


def test_the_trial_job_never_calls_an_api(tmp_path, monkeypatch):
    clear(monkeypatch)
    defs = build_definitions(tmp_path)
    trial = {k.to_user_string() for k in defs.resolve_job_def(TRIAL_JOB_NAME).asset_layer.executable_asset_keys}
    pulls = {k.to_user_string() for k in defs.resolve_job_def(PULL_JOB_NAME).asset_layer.executable_asset_keys}
    assert pulls == {"oura_pull_status", "redcap_pull"} and not trial & pulls
    assert {"participants", "trial_report", "treatment_effects"} <= trial


def test_make_pull_runs_the_configured_pulls_once_from_the_environment(tmp_path, monkeypatch, capsys):
    clear(monkeypatch)
    root = tmp_path / "trial"
    assert make_pull([str(tmp_path / "empty")]) == 2
    api, tokens = pull_trial(root, participants=2)
    write_token_file(root, tokens)
    with ApiServer(api) as server:
        monkeypatch.setenv("OURA_API_BASE_URL", server.url)
        monkeypatch.setenv("REDCAP_API_URL", server.url + "/api/")
        monkeypatch.setenv("REDCAP_API_TOKEN", api.redcap_token)
        monkeypatch.setenv("REDCAP_PROJECT", "mglt")
        assert make_pull([str(root)]) == 0
    out = capsys.readouterr().out
    assert "oura_pull_status: {" in out and "'participants_pulled': 2" in out and "succeeded" in out
    assert sorted(p.name for p in (root / "raw" / "oura").iterdir()) == ["P001", "P002"]
    assert [p.name for p in (root / "raw" / "redcap").glob("mglt_*.csv")] != []
    assert (root / "pull" / "oura_pull_status.csv").is_file()
    assert all(t not in out for t in [*tokens.values(), api.redcap_token])
