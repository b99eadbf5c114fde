"""Parsers: file listing, CSV as text, Oura collections, REDCap wide to long."""
from __future__ import annotations

import pandas as pd
import pytest

from mglt_pipeline.sources.files import UnreadableFile, read_csv_text, source_files
from mglt_pipeline.sources.oura import add_utc_times
from mglt_pipeline.sources.oura_collections import BY_NAME
from mglt_pipeline.sources.oura_records import CollectionRows, api_records, load_json
from mglt_pipeline.sources.redcap import export_to_items
from mglt_pipeline.sources.trial_files import arm_names
from mglt_pipeline_tests.ingest_fixtures import write


def test_source_files_ignores_files_being_written_and_sorts_by_name(tmp_path):
    for name in ("b.csv", "a.csv", ".hidden.csv", "c.csv.tmp", "d.csv.part", "e.txt"):
        write(tmp_path / name, "x\n1\n")
    assert [p.name for p in source_files(tmp_path, "*.csv")] == ["a.csv", "b.csv"]
    assert source_files(tmp_path / "absent") == []


def test_csv_with_bom_and_crlf_keeps_cells_as_text(tmp_path):
    path = write(tmp_path / "x.csv", "\ufeffid,code,score\r\n007,A,\r\n008,B,3.50\r\n")
    frame = read_csv_text(path).frame
    assert list(frame.columns) == ["id", "code", "score", "_row", "_line"]
    assert frame["id"].tolist() == ["007", "008"]
    assert frame["score"].isna().tolist() == [True, False] and frame.loc[1, "score"] == "3.50"
    assert frame["_row"].tolist() == ["1", "2"] and frame["_line"].tolist() == ["2", "3"]


def test_csv_that_is_not_utf8_is_unreadable(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"id,name\n1,\xff\xfe\n")
    with pytest.raises(UnreadableFile):
        read_csv_text(path)


def test_collection_records_requires_a_data_list(tmp_path):
    ok = load_json(write(tmp_path / "ok.json", '{"data": [{"id": "a"}], "next_token": null}'))
    assert api_records(ok) == ([{"id": "a"}], None)
    with pytest.raises(ValueError):
        api_records(load_json(write(tmp_path / "bad.json", '{"records": []}')))
    with pytest.raises(ValueError):
        load_json(write(tmp_path / "cut.json", '{"data": ['))


def test_records_frame_flattens_contributors_and_reads_255_as_no_data():
    records = [{"id": "a", "day": "2025-01-01", "score": 70, "contributors": {"deep_sleep": 80}, "extra": 1},
               {"id": "b", "day": "2025-01-02", "score": None, "contributors": None}]
    rows = CollectionRows(BY_NAME["daily_sleep"])
    rows.add_json(records, "P1", "raw/oura/P1/daily_sleep.json", "api", 0)
    frame = rows.frame()
    assert frame["contributors_deep_sleep"].tolist()[0] == 80 and pd.isna(frame["contributors_deep_sleep"][1])
    assert "extra" not in frame and frame["participant_id"].tolist() == ["P1", "P1"]
    assert frame["_row"].tolist() == ["a", "b"]
    sleep = CollectionRows(BY_NAME["sleep"])
    sleep.add_json([{"id": "s", "lowest_heart_rate": 255}, {"id": "t", "lowest_heart_rate": 48}], "P1", "f", "api", 0)
    periods = sleep.frame()
    assert pd.isna(periods["lowest_heart_rate"][0]) and periods["lowest_heart_rate"][1] == 48


def test_utc_times_and_offset_of_bedtime_end():
    periods = pd.DataFrame({"bedtime_start": ["2025-03-08T23:30:00-05:00", None],
                            "bedtime_end": ["2025-03-09T07:15:00-04:00", "2025-06-01T06:00:00+05:30"]})
    out = add_utc_times(periods)
    assert out["bedtime_start_utc"][0] == pd.Timestamp("2025-03-09 04:30:00")
    assert out["bedtime_end_utc"][0] == pd.Timestamp("2025-03-09 11:15:00")
    assert out["utc_offset_min"].tolist() == [-240, 330]
    assert pd.isna(out["bedtime_start_utc"][1])


def test_utc_offset_is_missing_without_bedtime_end():
    periods = pd.DataFrame({"bedtime_start": ["2025-03-09T01:00:00Z", None],
                            "bedtime_end": ["2025-03-09T07:00:00Z", None]})
    out = add_utc_times(periods)
    assert out["utc_offset_min"][0] == 0  # Z is UTC itself
    assert pd.isna(out["utc_offset_min"][1]) and pd.isna(out["bedtime_end_utc"][1])


def test_export_to_items_one_row_per_item_with_visit():
    export = pd.DataFrame({"record_id": ["P1"], "redcap_event_name": ["day_14_arm_1"],
                           "isi_1": [3.0], "isi_2": [None], "isi_timestamp": ["[not completed]"],
                           "isi_complete": pd.array([0], dtype="Int64"), "source_file": ["raw/redcap/a.csv"]})
    items = export_to_items(export)
    assert len(items) == 7 + 10 + 9 + 65
    isi = items[items["instrument"] == "isi"]
    assert isi["item"].tolist() == list(range(1, 8))
    assert isi["value"].tolist()[0] == 3.0 and isi["value"].isna().sum() == 6
    assert set(items["visit"]) == {"week_2"} and set(items["visit_num"]) == {2}
    assert isi["completed_at"].isna().all() and isi["complete_status"].tolist() == [0] * 7
    assert items[items["instrument"] == "poms"]["complete_status"].isna().all()


def test_arm_names_only_when_both_codes_name_different_arms():
    assert arm_names(pd.DataFrame({"arm_code": ["A", "B"], "arm": ["placebo", "MgT"]})) == {"A": "placebo", "B": "MgT"}
    assert arm_names(pd.DataFrame({"arm_code": ["A", "B"], "arm": ["MgT", "MgT"]})) == {}
    assert arm_names(pd.DataFrame({"arm_code": ["A"], "arm": ["MgT"]})) == {}
