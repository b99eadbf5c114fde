"""Which copy of an Oura record is used, and what is listed as not read (DATA_CONTRACT.md "Oura ring").

Small hand-made folders: one night of one participant arrives several times, by several ways or
files, with values chosen so that the copy used can be told from the others.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from mglt_pipeline.sources.oura import read_oura
from mglt_pipeline_tests.ingest_fixtures import collection, daily_record, sleep_record, write

KNOWN = pd.Series(["P001", "P002"])
TRENDS_HEADER = ("date,Sleep Score,Deep Sleep Score,Total Sleep Duration,Total Bedtime ,Deep Sleep Duration,"
                 "Bedtime Start,Bedtime End,Activity Score,Steps,Readiness Score")


def _read(root: Path):
    return read_oura(root / "raw", root, KNOWN)


def _export(folder: Path, kind: str, name: str, records: list[dict], stamp: str = "2025-02-01T10-00-00") -> None:
    write(folder / f"oura_{kind}_{stamp}.json", json.dumps({name: records}, indent=2))


def _counts_add_up(part) -> None:
    assert part.rows_read == part.rows_clean + part.rows_quarantined + part.rows_superseded + part.rows_set_aside


def test_the_same_night_from_api_export_and_trends_gives_the_api_value(tmp_path):
    folder = tmp_path / "raw/oura/P001"
    end = "2025-01-02T07:00:00+01:00"
    write(folder / "daily_sleep.json", collection([daily_record("api-1", "2025-01-02", 81, {"deep_sleep": 91})]))
    write(folder / "sleep.json", collection([sleep_record("api-s", "2025-01-02", end, deep_sleep_duration=6000,
                                                          light_sleep_duration=13800)]))
    _export(folder, "daily-sleep", "daily_sleep", [{"day": "2025-01-02", "score": 72, "contributors": {"deep_sleep": 62}}])
    _export(folder, "sleep", "sleep", [{k: v for k, v in sleep_record("x", "2025-01-02", end,
                                                                     deep_sleep_duration=4000,
                                                                     light_sleep_duration=15800).items() if k != "id"}])
    write(folder / "oura_2025-01-01_2025-01-03_trends.csv",
          TRENDS_HEADER + f"\n2025-01-02,63,53,25200,28800,2000,2025-01-02T00:00:00+01:00,{end},70,9000,80\n")
    tables = _read(tmp_path).tables
    sleep_score, periods = tables["oura_daily_sleep"], tables["oura_sleep_periods"]
    assert sleep_score.clean["score"].tolist() == [81] and sleep_score.clean["contributors_deep_sleep"].tolist() == [91]
    assert periods.clean["deep_sleep_duration"].tolist() == [6000] and periods.clean["id"].tolist() == ["api-s"]
    assert sleep_score.rows_superseded == 2 and periods.rows_superseded == 2  # the export's and the Trends copy
    # activity and readiness came by Trends only: the Trends copy is used
    assert tables["oura_daily_activity"].clean["steps"].tolist() == [9000]
    assert tables["oura_daily_activity"].clean["source_format"].tolist() == ["trends"]
    for part in tables.values():
        _counts_add_up(part)
        assert part.quarantine.empty


def test_export_wins_over_trends_and_the_later_export_over_the_earlier(tmp_path):
    folder = tmp_path / "raw/oura/P001"
    _export(folder, "daily-sleep", "daily_sleep", [{"day": "2025-01-02", "score": 50}], "2025-02-01T10-00-00")
    _export(folder, "daily-sleep", "daily_sleep", [{"day": "2025-01-02", "score": 55}], "2025-02-09T10-00-00")
    write(folder / "t.csv", TRENDS_HEADER + "\n2025-01-02,40,,,,,,,,,\n2025-01-03,41,,,,,,,,,\n")
    part = _read(tmp_path).tables["oura_daily_sleep"]
    assert dict(zip(part.clean["day"].astype(str), part.clean["score"])) == {"2025-01-02": 55, "2025-01-03": 41}
    assert part.rows_superseded == 2


def test_later_page_in_natural_order_and_later_restatement_win(tmp_path):
    folder = tmp_path / "raw/oura/P001"
    stale = daily_record("d1", "2025-01-02", 60, {})
    write(folder / "daily_sleep_10.json", collection([daily_record("d1", "2025-01-02", 70, {})]))
    write(folder / "daily_sleep_2.json", collection([stale]))  # natural order: _2 before _10
    restated = {**daily_record("d2", "2025-01-03", 90, {}), "meta": {"updated_at": "2025-01-05T08:00:00+00:00"}}
    first = {**daily_record("d2", "2025-01-03", 30, {}), "meta": {"updated_at": "2025-01-03T08:00:00+00:00"}}
    write(folder / "daily_sleep.json", collection([restated]))
    write(folder / "daily_sleep_11.json", collection([first]))  # a later file, an earlier statement
    part = _read(tmp_path).tables["oura_daily_sleep"]
    assert dict(zip(part.clean["id"], part.clean["score"])) == {"d1": 70, "d2": 90}
    assert part.rows_superseded == 2 and part.quarantine.empty


def test_copies_in_one_file_collapse_when_equal_and_conflict_when_not(tmp_path):
    folder = tmp_path / "raw/oura/P001"
    same = daily_record("d1", "2025-01-02", 70, {})
    write(folder / "daily_sleep.json", collection([same, same, daily_record("d2", "2025-01-03", 70, {}),
                                                   daily_record("d2", "2025-01-03", 75, {})]))
    part = _read(tmp_path).tables["oura_daily_sleep"]
    assert part.clean["id"].tolist() == ["d1"]
    assert part.rows_superseded == 1 and part.rows_quarantined == 2
    entries = part.quarantine
    assert entries["row"].tolist() == ["d2", "d2"] and entries["value"].tolist() == ["70", "75"]
    assert set(entries["field"]) == {"score"}  # the field that differs
    assert entries["participant_id"].tolist() == ["P001", "P001"] and set(entries["key"]) == {"2025-01-03"}
    assert entries["rule"].str.startswith("conflict:").all()
    _counts_add_up(part)


def test_two_different_daily_documents_of_one_day_are_a_conflict(tmp_path):
    folder = tmp_path / "raw/oura/P001"
    write(folder / "daily_readiness.json", collection([daily_record("r1", "2025-01-02", 70, {}),
                                                       daily_record("r2", "2025-01-02", 40, {}),
                                                       daily_record("r3", "2025-01-03", 77, {})]))
    part = _read(tmp_path).tables["oura_daily_readiness"]
    assert part.clean["id"].tolist() == ["r3"] and part.rows_quarantined == 2
    assert set(part.quarantine["row"]) == {"r1", "r2"} and "r1, r2" in part.quarantine["rule"][0]


def test_untyped_periods_are_kept_and_never_the_main_sleep(tmp_path):
    folder = tmp_path / "raw/oura/P001"
    untyped = {k: v for k, v in sleep_record("u", "2025-01-02", "2025-01-02T08:00:00+01:00",
                                             total_sleep_duration=30000, time_in_bed=30000).items() if k != "type"}
    write(folder / "sleep.json", collection([untyped, sleep_record("m", "2025-01-02", "2025-01-02T07:00:00+01:00")]))
    part = _read(tmp_path).tables["oura_sleep_periods"]
    assert part.quarantine.empty and sorted(part.clean["id"]) == ["m", "u"]
    from mglt_pipeline.analysis.nightly import select_main_sleep
    assert select_main_sleep(part.clean)["id"].tolist() == ["m"]


def test_files_and_folders_not_read_are_listed_with_a_reason(tmp_path):
    oura = tmp_path / "raw/oura"
    write(oura / "P001/SLEEP.JSON", collection([sleep_record("s", "2025-01-02", "2025-01-02T07:00:00+01:00")]))
    write(oura / "P001/personal_info.json", "not even JSON: it must never be opened")
    write(oura / "P001/notes.txt", "call back on Monday")
    write(oura / "P001/sleep_time.json", collection([{"id": "t", "day": "2025-01-02"}]))
    write(oura / "..P013/sleep.json", collection([sleep_record("x", "2025-01-02", "2025-01-02T07:00:00+01:00")]))
    write(oura / "stray.json", "{}")
    write(oura / "P001/old/sleep.json", "{}")
    read = _read(tmp_path)
    assert read.tables["oura_sleep_periods"].clean["id"].tolist() == ["s"]  # extension without regard to case
    reasons = dict(zip(read.set_aside["file"], read.set_aside["reason"]))
    assert "never opened" in reasons["raw/oura/P001/personal_info.json"]
    assert "not an Oura file" in reasons["raw/oura/P001/notes.txt"]
    assert "sleep_time" in reasons["raw/oura/P001/sleep_time.json"]
    assert "not a valid participant_id" in reasons["raw/oura/..P013"]
    assert "outside any participant folder" in reasons["raw/oura/stray.json"]
    assert "inside a participant folder" in reasons["raw/oura/P001/old"]
    assert read.quarantine.empty and all(t.quarantine.empty for t in read.tables.values())
    assert read.records_set_aside == {"sleep_time": 1}
