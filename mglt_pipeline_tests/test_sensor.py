"""``raw_data_sensor`` on a temporary data root: one run per change of a source's files, never twice,
never early; what a run read is its observation of ``raw_<source>``.

The sensor is the real one, evaluated with ``build_sensor_context`` against an ephemeral instance; the
raw sources are the pipeline's observable assets, observed by the trial job as a run observes them
(``observe_all`` stands for the run a request launches). ``test_redcap_export_reruns_the_redcap_branch``
uses the pipeline's full definitions; the other tests use a small graph with the same group names.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import dagster as dg
import pytest

from mglt_pipeline.automation.fingerprint import (SOURCES, raw_asset_key, source_files, source_state,
                                                  unsettled_sources)
from mglt_pipeline.automation.jobs import TRIAL_JOB, TRIAL_JOB_NAME
from mglt_pipeline.automation.sensors import SOURCES_TAG, raw_data_sensor
from mglt_pipeline.defs.ingest import RAW_SOURCES
from mglt_pipeline.registry import OUTCOMES
from mglt_pipeline.resources import DataRoot

LONG_AGO = time.time() - 3600
CLOCK = "mglt_pipeline.automation.sensors.time.time"


def write(path: Path, text: str, mtime: float | None = LONG_AGO) -> Path:
    """A raw file as a finished upload: written, then dated ``mtime`` (None: just now)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


@pytest.fixture
def data_root(tmp_path) -> Path:
    raw = tmp_path / "raw"
    write(raw / "participants.csv", "participant_id,site\nP01,S1\n")
    write(raw / "randomization.csv", "participant_id,arm_code,randomized_on\nP01,A,2026-01-01\n")
    write(raw / "oura" / "P01" / "daily_sleep.json", '{"data": [], "next_token": null}')
    write(raw / "redcap" / "export_2026-01-10.csv", "record_id,redcap_event_name\nP01,baseline_arm_1\n")
    write(raw / "diary" / "diary_2026-01-10.csv", "participant_id,date\nP01,2026-01-05\n")
    return tmp_path


def small_graph() -> list:
    """The observable raw sources, one asset per source group, a score fed by redcap and
    participants, and a report after everything."""
    @dg.asset(group_name="participants", deps=["raw_participants"])
    def participants(): ...

    @dg.asset(group_name="randomization", deps=["raw_randomization"])
    def randomization(): ...

    @dg.asset(group_name="oura", deps=["raw_oura"])
    def oura_daily_sleep(): ...

    @dg.asset(group_name="redcap", deps=["raw_redcap"])
    def questionnaire_items(): ...

    @dg.asset(group_name="diary", deps=["raw_diary"])
    def diary_entries(): ...

    @dg.asset(group_name="scored", deps=[questionnaire_items, participants])
    def isi_scores(): ...

    @dg.asset(group_name="report", deps=[isi_scores, diary_entries, oura_daily_sleep, randomization])
    def trial_report(): ...

    return [*RAW_SOURCES, participants, randomization, oura_daily_sleep, questionnaire_items, diary_entries,
            isi_scores, trial_report]


def small_defs(root: Path) -> dg.Definitions:
    return dg.Definitions(assets=small_graph(), jobs=[TRIAL_JOB], resources={"data_root": DataRoot(path=str(root))})


def tick(defs: dg.Definitions, root: Path, instance: dg.DagsterInstance) -> list[dg.RunRequest]:
    """One evaluation of the sensor: its run requests (none when it skips)."""
    context = dg.build_sensor_context(instance=instance, definitions=defs,
                                      resources={"data_root": DataRoot(path=str(root))})
    result = raw_data_sensor(context)
    return [result] if isinstance(result, dg.RunRequest) else []


def observe_all(defs: dg.Definitions, instance: dg.DagsterInstance) -> None:
    """What the requested run does first: observe every raw source (its data version = fingerprint)."""
    job = defs.resolve_job_def(TRIAL_JOB_NAME)
    raw = [dg.AssetKey(raw_asset_key(s)) for s in SOURCES]
    assert job.execute_in_process(instance=instance, asset_selection=raw).success


def keys(request: dg.RunRequest) -> set[str]:
    return {k.to_user_string() for k in request.asset_selection}


def test_source_files_skip_files_still_being_written_and_cover_every_oura_file(data_root):
    raw = data_root / "raw"
    write(raw / "redcap" / "export_2.csv.part", "partial")
    write(raw / "redcap" / "export_3.tmp", "partial")
    write(raw / "redcap" / ".export_4.csv", "hidden")
    write(raw / "redcap" / "export_5.csv", "just copied", mtime=None)
    assert [p.name for p in source_files(raw, "redcap", settle_seconds=5)] == ["export_2026-01-10.csv"]
    assert unsettled_sources(raw) == {"redcap"}
    for name in ("sleep.JSON", "oura_sleep_2025-01-01T00-00-00.csv", "trends.csv", "notes.txt"):
        write(raw / "oura" / "P01" / name, "x")
    write(raw / "oura" / "P01" / ".hidden" / "sleep.json", "x")
    assert [p.name for p in source_files(raw, "oura")] == [
        "daily_sleep.json", "notes.txt", "oura_sleep_2025-01-01T00-00-00.csv", "sleep.JSON", "trends.csv"]


def test_fingerprint_follows_content_not_time(data_root):
    raw = data_root / "raw"
    before = {s: source_state(raw, s).fingerprint for s in SOURCES}
    os.utime(raw / "diary" / "diary_2026-01-10.csv", (LONG_AGO - 60, LONG_AGO - 60))
    assert {s: source_state(raw, s).fingerprint for s in SOURCES} == before
    text = "participant_id,date\nP01,2026-01-06\n"
    write(raw / "diary" / "diary_2026-01-10.csv", text)
    after = {s: source_state(raw, s).fingerprint for s in SOURCES}
    assert after["diary"] != before["diary"]
    assert {s: after[s] for s in SOURCES if s != "diary"} == {s: before[s] for s in SOURCES if s != "diary"}
    state = source_state(raw, "diary")
    assert (state.files, state.newest_file, state.size_bytes) == (1, "diary/diary_2026-01-10.csv", len(text))


def test_unchanged_files_are_not_read_again_but_a_replaced_one_is(data_root):
    from mglt_pipeline.automation.fingerprint import _digest

    raw = data_root / "raw"
    before = source_state(raw, "diary").fingerprint
    misses = _digest.cache_info().misses
    assert source_state(raw, "diary").fingerprint == before
    assert _digest.cache_info().misses == misses  # every file's digest came from the cache
    # Same size and the same (old) modification time, other content: as `cp -p` or `rsync -t` leave it.
    path = raw / "diary" / "diary_2026-01-10.csv"
    write(path, path.read_text().replace("P01", "P02"), mtime=path.stat().st_mtime)
    assert source_state(raw, "diary").fingerprint != before
    assert _digest.cache_info().misses == misses + 1


def test_new_file_one_run_then_none_then_part_file_none(data_root):
    defs = small_defs(data_root)
    instance = dg.DagsterInstance.ephemeral()
    [first] = tick(defs, data_root, instance)
    # Nothing was ever observed: the first tick runs every source once, in one run.
    assert set(first.tags[SOURCES_TAG].split(",")) == set(SOURCES)
    observe_all(defs, instance)
    assert tick(defs, data_root, instance) == []

    write(data_root / "raw" / "redcap" / "export_2026-01-17.csv", "record_id,redcap_event_name\nP01,day_7_arm_1\n")
    [request] = tick(defs, data_root, instance)
    assert keys(request) == {"raw_redcap", "questionnaire_items", "isi_scores", "trial_report"}
    assert request.tags[SOURCES_TAG] == "redcap"
    assert source_state(data_root / "raw", "redcap").fingerprint in request.run_key
    # Until the run has observed the export, a tick asks for the same run key (Dagster launches it once).
    assert [r.run_key for r in tick(defs, data_root, instance)] == [request.run_key]
    observe_all(defs, instance)
    assert tick(defs, data_root, instance) == []

    write(data_root / "raw" / "redcap" / "export_2026-01-24.csv.part", "record_id\nP0")
    write(data_root / "raw" / "diary" / "diary_2026-01-24.csv", "participant_id,date\n", mtime=None)
    assert tick(defs, data_root, instance) == []  # a .part file is not data; a fresh copy waits


def test_a_restarted_daemon_requests_nothing_and_data_changed_meanwhile_runs(data_root):
    defs = small_defs(data_root)
    instance = dg.DagsterInstance.ephemeral()
    observe_all(defs, instance)
    assert tick(defs, data_root, instance) == []  # a new evaluation context: no cursor, nothing requested
    # An Oura page lands while the daemon is off; it is looked at again after a restart.
    write(data_root / "raw" / "oura" / "P01" / "sleep.json", '{"data": [], "next_token": null}')
    [request] = tick(defs, data_root, instance)
    assert request.tags[SOURCES_TAG] == "oura"
    assert keys(request) == {"raw_oura", "oura_daily_sleep", "trial_report"}


def test_redcap_export_reruns_the_redcap_branch(data_root):
    from mglt_pipeline.definitions import build_definitions

    defs = build_definitions(data_root)
    instance = dg.DagsterInstance.ephemeral()
    observe_all(defs, instance)
    write(data_root / "raw" / "redcap" / "export_2026-01-17.csv", "record_id,redcap_event_name\nP01,day_7_arm_1\n")
    [request] = tick(defs, data_root, instance)
    selected = keys(request)
    expected = {"raw_redcap", "questionnaire_items", "isi_scores", "lseq_scores", "rsq_scores", "poms_scores",
                "analysis_dataset", "treatment_effects", "forest_plot", "trial_report"}
    expected |= {f"effect_{o.id}" for o in OUTCOMES}
    assert expected <= selected
    assert not selected & {"raw_oura", "participants", "randomization", "oura_daily_sleep", "oura_sleep_periods",
                           "oura_daily_activity", "oura_daily_readiness", "diary_entries", "oura_nightly",
                           "diary_daily"}
    checks = {f"{c.asset_key.to_user_string()}:{c.name}" for c in request.asset_check_keys}
    assert {"questionnaire_items:no_quarantined_rows", "analysis_dataset:trial_expectations",
            "treatment_effects:one_consistent_row_per_outcome"} <= checks
    assert not {c for c in checks if c.startswith(("oura_", "participants:", "diary_entries:"))}


def test_export_copied_over_itself_runs_nothing_and_a_changed_copy_runs_once_settled(data_root, monkeypatch):
    defs = small_defs(data_root)
    instance = dg.DagsterInstance.ephemeral()
    observe_all(defs, instance)
    export = data_root / "raw" / "redcap" / "export_2026-01-10.csv"
    same = export.read_text()

    # The same bytes copied onto the same name: the file is being written for a few seconds, then it
    # is what it was. Neither the tick during the copy nor the one after it launches a run.
    write(export, same, mtime=None)
    assert tick(defs, data_root, instance) == []
    later = time.time() + 60
    monkeypatch.setattr(CLOCK, lambda: later)
    assert tick(defs, data_root, instance) == []

    # A changed answer copied over it: nothing while it is being written, one run once it settled.
    write(export, same.replace("baseline_arm_1", "day_7_arm_1"), mtime=later - 1)
    assert tick(defs, data_root, instance) == []
    monkeypatch.setattr(CLOCK, lambda: later + 60)
    assert [r.tags[SOURCES_TAG] for r in tick(defs, data_root, instance)] == ["redcap"]


def test_data_back_to_an_earlier_state_is_rerun_under_a_new_run_key(data_root):
    defs = small_defs(data_root)
    instance = dg.DagsterInstance.ephemeral()
    observe_all(defs, instance)
    redcap = data_root / "raw" / "redcap"
    keys_seen = []
    # An edited export, then a wrong export uploaded, then removed again: the data return to the
    # edited state, which must be rerun (the daemon skips a run whose run_key was used before).
    for change in (lambda: write(redcap / "export_2026-01-10.csv", "record_id,redcap_event_name\nP02,baseline_arm_1\n"),
                   lambda: write(redcap / "export_wrong.csv", "record_id,redcap_event_name\nP09,baseline_arm_1\n"),
                   lambda: (redcap / "export_wrong.csv").unlink()):
        change()
        [request] = tick(defs, data_root, instance)
        assert request.tags[SOURCES_TAG] == "redcap"
        keys_seen.append(request.run_key)
        observe_all(defs, instance)
    assert len(set(keys_seen)) == 3
    assert keys_seen[0].split("@")[0] == keys_seen[2].split("@")[0]  # same files, a later observation
