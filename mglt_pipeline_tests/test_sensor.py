"""``raw_data_sensor`` on a temporary data root: one run per changed source, never twice, never early.

The sensor is the real one, evaluated with ``build_sensor_context`` against an ephemeral instance.
``test_redcap_export_reruns_the_redcap_branch`` uses the pipeline's full definitions; the other tests
use a small graph with the same group names, so the rules are checked whatever the rest of the
graph looks like.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import dagster as dg
import pytest

from mglt_pipeline.automation.fingerprint import SOURCES, source_files, source_fingerprints, unsettled_sources
from mglt_pipeline.automation.sensors import SOURCES_TAG, parse_cursor, raw_data_sensor
from mglt_pipeline.registry import OUTCOMES
from mglt_pipeline.resources import DataRoot

LONG_AGO = time.time() - 3600


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


def small_graph() -> list[dg.AssetsDefinition | dg.AssetSpec]:
    """One asset per source group (redcap's raw files also as an external asset, which no run can
    materialize), a score fed by redcap and participants, and a report after everything."""
    raw_redcap = dg.AssetSpec("raw_redcap", group_name="redcap")

    @dg.asset(group_name="participants")
    def participants(): ...

    @dg.asset(group_name="randomization")
    def randomization(): ...

    @dg.asset(group_name="oura")
    def oura_daily_sleep(): ...

    @dg.asset(group_name="redcap", deps=[raw_redcap])
    def questionnaire_items(): ...

    @dg.asset(group_name="diary")
    def diary_entries(): ...

    @dg.asset(group_name="scored", deps=[questionnaire_items, participants])
    def isi_scores(): ...

    @dg.asset(group_name="report", deps=[isi_scores, diary_entries, oura_daily_sleep, randomization])
    def trial_report(): ...

    return [raw_redcap, participants, randomization, oura_daily_sleep, questionnaire_items, diary_entries,
            isi_scores, trial_report]


def tick(defs: dg.Definitions, root: Path, instance: dg.DagsterInstance, cursor: str | None):
    """One evaluation of the sensor: (run requests, new cursor)."""
    context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs,
                                      resources={"data_root": DataRoot(path=str(root))})
    result = raw_data_sensor(context)
    return list(result.run_requests or []), result.cursor


def keys(request: dg.RunRequest) -> set[str]:
    return {k.to_user_string() for k in request.asset_selection}


def test_source_files_skip_files_still_being_written(data_root):
    raw = data_root / "raw"
    write(raw / "redcap" / "export_2.csv.part", "partial")
    write(raw / "redcap" / "export_3.tmp", "partial")
    write(raw / "redcap" / ".export_4.csv", "hidden")
    write(raw / "redcap" / "export_5.csv", "just copied", mtime=None)
    names = [p.name for p in source_files(raw)["redcap"]]
    assert names == ["export_2026-01-10.csv"]
    assert set(source_files(raw)) == set(SOURCES) == {"participants", "randomization", "oura", "redcap", "diary"}


def test_fingerprint_follows_content_not_time(data_root):
    raw = data_root / "raw"
    before = source_fingerprints(raw)
    os.utime(raw / "diary" / "diary_2026-01-10.csv", (LONG_AGO - 60, LONG_AGO - 60))
    assert source_fingerprints(raw) == before
    write(raw / "diary" / "diary_2026-01-10.csv", "participant_id,date\nP01,2026-01-06\n")
    after = source_fingerprints(raw)
    assert after["diary"] != before["diary"]
    assert {s: after[s] for s in SOURCES if s != "diary"} == {s: before[s] for s in SOURCES if s != "diary"}


def test_unchanged_files_are_not_read_again_but_a_replaced_one_is(data_root):
    from mglt_pipeline.automation.fingerprint import _digest

    raw = data_root / "raw"
    before = source_fingerprints(raw)
    misses = _digest.cache_info().misses
    assert source_fingerprints(raw) == before
    assert _digest.cache_info().misses == misses  # every file's digest came from the cache
    # Same size and the same (old) modification time, other content: as `cp -p` or `rsync -t` leave it.
    path = raw / "diary" / "diary_2026-01-10.csv"
    write(path, path.read_text().replace("P01", "P02"), mtime=path.stat().st_mtime)
    assert source_fingerprints(raw)["diary"] != before["diary"]
    assert _digest.cache_info().misses == misses + 1


def test_new_file_one_run_then_none_then_part_file_none(data_root):
    defs = dg.Definitions(assets=small_graph())
    instance = dg.DagsterInstance.ephemeral()
    first, cursor = tick(defs, data_root, instance, None)
    # Nothing was ever materialized: the first tick runs every source once, in one run.
    assert len(first) == 1 and set(first[0].tags[SOURCES_TAG].split(",")) == set(SOURCES)

    write(data_root / "raw" / "redcap" / "export_2026-01-17.csv", "record_id,redcap_event_name\nP01,day_7_arm_1\n")
    requests, cursor = tick(defs, data_root, instance, cursor)
    assert len(requests) == 1
    assert keys(requests[0]) == {"questionnaire_items", "isi_scores", "trial_report"}
    assert requests[0].tags[SOURCES_TAG] == "redcap"
    assert source_fingerprints(data_root / "raw")["redcap"] in requests[0].run_key

    again, cursor = tick(defs, data_root, instance, cursor)
    assert again == []

    write(data_root / "raw" / "redcap" / "export_2026-01-24.csv.part", "record_id\nP0")
    write(data_root / "raw" / "diary" / "diary_2026-01-24.csv", "participant_id,date\n", mtime=None)
    partial, cursor = tick(defs, data_root, instance, cursor)
    assert partial == []
    assert parse_cursor(cursor) == source_fingerprints(data_root / "raw")


def test_lost_cursor_reruns_only_sources_newer_than_their_assets(data_root, monkeypatch):
    defs = dg.Definitions(assets=small_graph())
    instance = dg.DagsterInstance.ephemeral()
    for asset in ("participants", "randomization", "oura_daily_sleep", "questionnaire_items", "diary_entries"):
        instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=asset))
    assert tick(defs, data_root, instance, None)[0] == []

    # An Oura page lands after the materializations while the daemon is off; the sensor restarts
    # two minutes later without its cursor.
    write(data_root / "raw" / "oura" / "P01" / "sleep.json", '{"data": [], "next_token": null}', mtime=None)
    later = time.time() + 120
    monkeypatch.setattr("mglt_pipeline.automation.fingerprint.time.time", lambda: later)
    requests, _ = tick(defs, data_root, instance, None)
    assert [r.tags[SOURCES_TAG] for r in requests] == ["oura"]
    assert keys(requests[0]) == {"oura_daily_sleep", "trial_report"}


def test_redcap_export_reruns_the_redcap_branch(data_root):
    from mglt_pipeline.definitions import build_definitions

    defs = build_definitions(data_root)
    instance = dg.DagsterInstance.ephemeral()
    _, cursor = tick(defs, data_root, instance, None)
    write(data_root / "raw" / "redcap" / "export_2026-01-17.csv", "record_id,redcap_event_name\nP01,day_7_arm_1\n")
    requests, cursor = tick(defs, data_root, instance, cursor)
    assert len(requests) == 1
    selected = keys(requests[0])
    expected = {"questionnaire_items", "isi_scores", "lseq_scores", "rsq_scores", "poms_scores",
                "analysis_dataset", "treatment_effects", "forest_plot", "trial_report"}
    expected |= {f"effect_{o.id}" for o in OUTCOMES}
    assert expected <= selected
    assert not selected & {"participants", "randomization", "oura_daily_sleep", "oura_sleep_periods",
                           "oura_daily_activity", "oura_daily_readiness", "diary_entries",
                           "oura_nightly", "diary_daily"}
    assert tick(defs, data_root, instance, cursor)[0] == []


def test_export_copied_over_itself_runs_nothing_and_a_changed_copy_runs_once_settled(data_root, monkeypatch):
    defs = dg.Definitions(assets=small_graph())
    instance = dg.DagsterInstance.ephemeral()
    _, cursor = tick(defs, data_root, instance, None)
    export = data_root / "raw" / "redcap" / "export_2026-01-10.csv"
    same = export.read_text()

    # The same bytes copied onto the same name: the file is being written for a few seconds, then it
    # is what it was. Neither the tick during the copy nor the one after it launches a run.
    write(export, same, mtime=None)
    assert unsettled_sources(data_root / "raw") == {"redcap"}
    during, cursor_during = tick(defs, data_root, instance, cursor)
    assert during == [] and parse_cursor(cursor_during) == parse_cursor(cursor)
    later = time.time() + 60
    monkeypatch.setattr("mglt_pipeline.automation.fingerprint.time.time", lambda: later)
    assert unsettled_sources(data_root / "raw") == set()
    after, cursor = tick(defs, data_root, instance, cursor_during)
    assert after == [] and parse_cursor(cursor) == parse_cursor(cursor_during)

    # A changed answer copied over it: nothing while it is being written, one run once it settled.
    monkeypatch.setattr("mglt_pipeline.automation.fingerprint.time.time", lambda: later)
    write(export, same.replace("baseline_arm_1", "day_7_arm_1"), mtime=later - 1)
    assert tick(defs, data_root, instance, cursor)[0] == []
    monkeypatch.setattr("mglt_pipeline.automation.fingerprint.time.time", lambda: later + 60)
    requests, cursor = tick(defs, data_root, instance, cursor)
    assert [r.tags[SOURCES_TAG] for r in requests] == ["redcap"]
    assert tick(defs, data_root, instance, cursor)[0] == []


def test_data_back_to_an_earlier_state_is_rerun_under_a_new_run_key(data_root):
    defs = dg.Definitions(assets=small_graph())
    instance = dg.DagsterInstance.ephemeral()
    _, cursor = tick(defs, data_root, instance, None)
    redcap = data_root / "raw" / "redcap"
    keys_seen = []
    # An edited export, then a wrong export uploaded, then removed again: the data return to the
    # edited state, which must be rerun (the daemon skips a run whose run_key was used before).
    for change in (lambda: write(redcap / "export_2026-01-10.csv", "record_id,redcap_event_name\nP02,baseline_arm_1\n"),
                   lambda: write(redcap / "export_wrong.csv", "record_id,redcap_event_name\nP09,baseline_arm_1\n"),
                   lambda: (redcap / "export_wrong.csv").unlink()):
        change()
        requests, cursor = tick(defs, data_root, instance, cursor)
        assert [r.tags[SOURCES_TAG] for r in requests] == ["redcap"]
        keys_seen.append(requests[0].run_key)
    assert len(set(keys_seen)) == 3
    # The same tick evaluated again (the daemon restarted before recording it) asks for the same key.
    write(redcap / "export_2026-01-24.csv", "record_id,redcap_event_name\nP01,day_14_arm_1\n")
    first, _ = tick(defs, data_root, instance, cursor)
    again, _ = tick(defs, data_root, instance, cursor)
    assert first[0].run_key == again[0].run_key


def test_a_cursor_of_fingerprints_alone_is_still_read():
    assert parse_cursor(json.dumps({"redcap": "abc"})) == {"redcap": "abc"}
    assert parse_cursor(json.dumps({"fingerprints": {"redcap": "abc"}, "reruns": 4})) == {"redcap": "abc"}
    assert parse_cursor("not json") is None and parse_cursor(None) is None
