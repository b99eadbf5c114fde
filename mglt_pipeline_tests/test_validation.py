"""Rules and the quarantine: every bad-input kind of DATA_CONTRACT.md, written among good rows."""
from __future__ import annotations

import json
import logging

import pandas as pd

from mglt_pipeline.sources.oura import read_oura
from mglt_pipeline.sources.redcap import read_redcap
from mglt_pipeline.sources.trial_files import read_diary, read_participants, read_randomization
from mglt_pipeline.validation import oura_rules
from mglt_pipeline.validation.privacy import is_direct_identifier
from mglt_pipeline.validation.quarantine import QUARANTINE_COLUMNS, supersede
from mglt_pipeline_tests.ingest_fixtures import (
    PARTICIPANTS_HEADER, PARTICIPANTS_ROWS, collection, csv_text, daily_record, redcap_header, redcap_row,
    sleep_record, write,
)

KNOWN = pd.Series(["P001", "P002", "P003"])
DIARY_HEADER = ("participant_id,date,energy,productivity,mood,mental_alertness,grouchiness,"
                "sleep_quality,took_supplement,adverse_event")


ENTRY_COLUMNS = ["source", "file", "row", "field", "value", "rule"]


def entry(result, **where) -> list[dict]:
    """The quarantine entries matching ``where``, in the columns these tests assert on."""
    q = result.quarantine
    for column, value in where.items():
        q = q[q[column] == value]
    return q[ENTRY_COLUMNS].to_dict("records")


def assert_counts_add_up(result):
    assert result.rows_read == result.rows_clean + result.rows_quarantined + result.rows_superseded


def test_redcap_item_out_of_range_non_numeric_unknown_event_and_participant(tmp_path):
    rows = [redcap_row("P001", "baseline_arm_1"),
            redcap_row("P002", "baseline_arm_1", isi=["1", "1", "5", "1", "1", "1", "1"]),
            redcap_row("P003", "baseline_arm_1", isi=["1", "x", "1", "1", "1", "1", "1"]),
            redcap_row("P001", "day_99_arm_1"),
            redcap_row("P999", "day_7_arm_1"),
            redcap_row("P002", "day_7_arm_1", isi=["1", "1", "2.5", "1", "1", "1", "1"])]
    write(tmp_path / "raw/redcap/a.csv", csv_text(redcap_header(), rows))
    result = read_redcap(tmp_path / "raw", tmp_path, KNOWN)
    file = "raw/redcap/a.csv"
    assert entry(result, row="2") == [{"source": "redcap", "file": file, "row": "2", "field": "isi_3",
                                       "value": "5", "rule": "isi_3 must be an integer from 0 to 4"}]
    assert entry(result, row="3")[0]["field"] == "isi_2" and entry(result, row="3")[0]["value"] == "x"
    # day_99_arm_1 is another event of the project: set aside and counted, not quarantined.
    assert entry(result, row="4") == []
    assert result.set_aside_entries[["row", "participant_id", "key"]].values.tolist() == [["4", "P001", "day_99_arm_1"]]
    assert entry(result, row="5")[0]["rule"] == "record_id must be a participant listed in participants.csv"
    assert entry(result, row="6")[0]["value"] == "2.5"
    # A bad item rejects that item only (DATA_CONTRACT.md, "What bad input gets"): rows 2, 3 and 6
    # stay with the item missing; the unknown participant rejects its row.
    assert (result.rows_read, result.rows_clean, result.rows_quarantined, result.rows_set_aside) == (6, 4, 1, 1)
    assert len(result.clean) == 4 * 91
    assert set(result.clean["participant_id"]) == {"P001", "P002", "P003"}
    items = result.clean.set_index(["participant_id", "event", "instrument", "item"])["value"]
    assert pd.isna(items[("P002", "baseline_arm_1", "isi", 3)]) and items[("P002", "baseline_arm_1", "isi", 4)] == 1
    assert list(result.quarantine.columns) == list(QUARANTINE_COLUMNS)


def test_lseq_decimals_are_accepted(tmp_path):
    row = redcap_row("P001", "baseline_arm_1").replace(",50,", ",62.5,", 1)
    write(tmp_path / "raw/redcap/a.csv", csv_text(redcap_header(), [row]))
    result = read_redcap(tmp_path / "raw", tmp_path, KNOWN)
    assert result.rows_quarantined == 0 and 62.5 in result.clean["value"].tolist()


def test_impossible_date_and_missing_required_column(tmp_path):
    write(tmp_path / "raw/diary/a.csv", csv_text(DIARY_HEADER, [
        "P001,2025-02-28,5,5,5,5,5,5,yes,", "P001,2025-02-30,5,5,5,5,5,5,yes,", "P002,2025-03-01,11,5,5,5,5,5,no,"]))
    write(tmp_path / "raw/diary/b.csv", csv_text("participant_id,energy", ["P001,4"]))
    result = read_diary(tmp_path / "raw", tmp_path, KNOWN)
    assert entry(result, row="2") == [{"source": "diary", "file": "raw/diary/a.csv", "row": "2", "field": "date",
                                       "value": "2025-02-30",
                                       "rule": "date is required: a real date written YYYY-MM-DD"}]
    assert entry(result, row="3")[0]["rule"] == "energy must be empty or a number from 0 to 10"
    whole_file = entry(result, file="raw/diary/b.csv")
    assert {e["field"] for e in whole_file} >= {"date", "mood"} and all(pd.isna(e["row"]) for e in whole_file)
    # energy 11 rejects that cell only (the row stays), and b.csv, rejected whole, counts its row
    # as read and quarantined (DATA_CONTRACT.md, "What bad input gets").
    assert (result.rows_read, result.rows_clean, result.rows_quarantined) == (4, 2, 2)


def test_a_line_with_more_cells_than_the_header_is_quarantined_alone(tmp_path):
    # Line 2's adverse event "nausea, mild" is not quoted: 11 cells under a 10-column header.
    write(tmp_path / "raw/diary/a.csv", csv_text(DIARY_HEADER, [
        "P001,2025-03-01,5,5,5,5,5,5,yes,", "P001,2025-03-02,4,5,5,5,5,5,yes,nausea, mild",
        "P002,2025-03-01,6,5,5,5,5,5,no,"]))
    write(tmp_path / "raw/diary/b.csv", csv_text(DIARY_HEADER, ['P003,2025-03-01,5,5,5,5,5,5,yes,"open quote']))
    result = read_diary(tmp_path / "raw", tmp_path, KNOWN)
    assert entry(result, file="raw/diary/a.csv") == [{
        "source": "diary", "file": "raw/diary/a.csv", "row": "2", "field": None, "value": None,
        "rule": "the line has 11 cells where the header has 10, so its cells cannot be matched to columns"}]
    assert dict(zip(result.clean["participant_id"], result.clean["energy"])) == {"P001": 5.0, "P002": 6.0}
    # b.csv, rejected whole, counts its row as read and quarantined (DATA_CONTRACT.md).
    assert (result.rows_read, result.rows_clean, result.rows_quarantined, result.rows_superseded) == (4, 2, 2, 0)
    unreadable = entry(result, file="raw/diary/b.csv")  # a quote never closed: the file cannot be split
    assert len(unreadable) == 1 and pd.isna(unreadable[0]["row"])


def test_raw_folder_linked_from_another_disk(tmp_path):
    elsewhere = tmp_path / "mounted"
    write(elsewhere / "diary/a.csv", csv_text(DIARY_HEADER, ["P001,2025-03-01,5,5,5,5,5,5,yes,"]))
    write(elsewhere / "oura/P001/daily_readiness.json", collection([daily_record("r1", "2025-03-01", 80, {})]))
    root = tmp_path / "root"
    root.mkdir()
    (root / "raw").symlink_to(elsewhere, target_is_directory=True)
    diary = read_diary(root / "raw", root, KNOWN)
    assert diary.files == ["raw/diary/a.csv"] and diary.clean["source_file"].tolist() == ["raw/diary/a.csv"]
    readiness = read_oura(root / "raw", root, KNOWN).tables["oura_daily_readiness"]
    assert readiness.clean["source_file"].tolist() == ["raw/oura/P001/daily_readiness.json"]


def test_bom_crlf_accepted_and_email_column_dropped_with_log(tmp_path, caplog):
    header = PARTICIPANTS_HEADER + ",email,full_name"
    rows = [r + ",someone@example.org,Jane Doe" for r in PARTICIPANTS_ROWS]
    write(tmp_path / "raw/participants.csv", "\ufeff" + "\r\n".join([header, *rows]) + "\r\n")
    with caplog.at_level(logging.WARNING):
        result = read_participants(tmp_path / "raw", tmp_path)
    assert result.rows_clean == 3 and result.quarantine.empty
    assert "email" not in result.clean and "full_name" not in result.clean
    assert result.dropped_identifiers == {"raw/participants.csv": ["email", "full_name"]}
    assert "email, full_name" in caplog.text
    assert result.clean["age"].tolist() == [41, 38, 50]
    assert pd.isna(result.clean["first_dose_on"][2]) and result.clean["enrolled_on"][0] == pd.Timestamp("2025-01-01")


def test_identifier_names():
    assert all(map(is_direct_identifier, ["email", "E-mail", "phone_number", "date_of_birth", "dob",
                                          "first_name", "Last Name", "home_address"]))
    assert not any(map(is_direct_identifier, ["record_id", "redcap_event_name", "participant_id", "site"]))


def test_files_being_written_are_ignored(tmp_path):
    good = csv_text(DIARY_HEADER, ["P001,2025-01-01,5,5,5,5,5,5,yes,"])
    for name in ("a.csv", ".b.csv", "c.csv.part", "d.csv.tmp"):
        write(tmp_path / "raw/diary" / name, good.replace("P001", "BAD!") if name != "a.csv" else good)
    result = read_diary(tmp_path / "raw", tmp_path, KNOWN)
    assert result.files == ["raw/diary/a.csv"] and result.rows_read == 1 and result.quarantine.empty


def test_later_file_supersedes_and_quarantined_rows_never_do(tmp_path):
    write(tmp_path / "raw/diary/2025-01-01.csv", csv_text(DIARY_HEADER, [
        "P001,2025-01-01,5,5,5,5,5,5,yes,", "P002,2025-01-01,5,5,5,5,5,5,yes,"]))
    # P002's later line has 11 cells: rejected whole, so it cannot supersede the earlier good row.
    write(tmp_path / "raw/diary/2025-01-02.csv", csv_text(DIARY_HEADER, [
        "P001,2025-01-01,7,5,5,5,5,5,yes,", "P002,2025-01-01,99,5,5,5,5,5,yes,,"]))
    result = read_diary(tmp_path / "raw", tmp_path, KNOWN)
    energy = dict(zip(result.clean["participant_id"], result.clean["energy"]))
    assert energy == {"P001": 7.0, "P002": 5.0}
    assert (result.rows_read, result.rows_clean, result.rows_quarantined, result.rows_superseded) == (4, 2, 1, 1)
    assert_counts_add_up(result)


def test_a_later_row_with_a_bad_cell_supersedes_and_that_cell_is_missing(tmp_path):
    # The later export is the current statement: its unreadable energy is missing, never filled in
    # from the earlier export; the rest of its row is used.
    write(tmp_path / "raw/diary/export_2.csv", csv_text(DIARY_HEADER, ["P002,2025-01-01,5,5,5,5,5,5,yes,"]))
    write(tmp_path / "raw/diary/export_10.csv", csv_text(DIARY_HEADER, ["P002,2025-01-01,99,6,5,5,5,5,yes,"]))
    result = read_diary(tmp_path / "raw", tmp_path, KNOWN)
    assert pd.isna(result.clean["energy"][0]) and result.clean["productivity"][0] == 6.0
    assert entry(result) == [{"source": "diary", "file": "raw/diary/export_10.csv", "row": "1", "field": "energy",
                              "value": "99", "rule": "energy must be empty or a number from 0 to 10"}]
    assert (result.rows_read, result.rows_clean, result.rows_quarantined, result.rows_superseded) == (2, 1, 0, 1)


def test_supersede_keeps_last_copy():
    frame = pd.DataFrame({"k": [1, 2, 1], "v": ["first", "x", "last"]})
    kept, superseded = supersede(frame, ["k"])
    assert kept["v"].tolist() == ["x", "last"] and superseded == 1


def test_randomization_unknown_participant_and_blinded_arm(tmp_path):
    write(tmp_path / "raw/randomization.csv", csv_text("participant_id,arm_code,randomized_on",
                                                       ["P001,A,2025-01-01", "P404,B,2025-01-01", "P002,C,2025-01-01"]))
    result, unblinded = read_randomization(tmp_path / "raw", tmp_path, KNOWN)
    assert not unblinded and result.clean["arm"].isna().all() and result.rows_clean == 1
    assert entry(result, row="2")[0]["field"] == "participant_id"
    assert entry(result, row="3")[0]["rule"] == "arm_code must be A or B"


def test_oura_unparseable_file_bad_records_and_null_values(tmp_path):
    folder = tmp_path / "raw/oura/P001"
    write(folder / "sleep.json", collection([
        sleep_record("ok", "2025-01-02", "2025-01-02T07:00:00+01:00", average_hrv=None, lowest_heart_rate=255),
        sleep_record("hr", "2025-01-03", "2025-01-03T07:00:00+01:00", average_heart_rate=240),
        sleep_record("ty", "2025-01-04", "2025-01-04T07:00:00+01:00", type="nap"),
        sleep_record("dy", "2025-13-01", "2025-01-05T07:00:00+01:00")]))
    write(folder / "daily_sleep.json", '{"data": [{"id": ')
    write(folder / "daily_readiness.json", collection([daily_record("r1", "2025-01-02", 0, {"sleep_balance": 70})]))
    write(tmp_path / "raw/oura/P777/daily_activity.json", collection([daily_record("a1", "2025-01-02", 50, {})]))
    result = read_oura(tmp_path / "raw", tmp_path, KNOWN).tables
    periods = result["oura_sleep_periods"]
    # A heart rate of 240 rejects that cell, not the period (the smallest unit, DATA_CONTRACT.md).
    assert periods.clean["id"].tolist() == ["ok", "hr"] and pd.isna(periods.clean["lowest_heart_rate"][0])
    assert pd.isna(periods.clean["average_heart_rate"][1]) and periods.clean["average_hrv"][1] == 41
    fields = {e["row"]: (e["field"], e["rule"]) for e in periods.quarantine.to_dict("records")}
    assert fields["hr"] == ("average_heart_rate", "average_heart_rate must be empty or a heart rate from 25 to 220 bpm")
    assert fields["ty"][0] == "type" and fields["dy"][0] == "day"
    assert all(e["file"] == "raw/oura/P001/sleep.json" for e in periods.quarantine.to_dict("records"))
    broken = result["oura_daily_sleep"].quarantine
    assert len(broken) == 1 and broken["file"][0] == "raw/oura/P001/daily_sleep.json" and pd.isna(broken["row"][0])
    assert result["oura_daily_readiness"].quarantine["rule"].tolist() == ["score must be empty or a score from 1 to 100"]
    assert result["oura_daily_activity"].quarantine["field"].tolist() == ["participant_id"]
    for part in result.values():
        assert_counts_add_up(part)


def test_oura_pages_over_files_supersede_by_id(tmp_path):
    folder = tmp_path / "raw/oura/P001"
    write(folder / "sleep.json", collection([sleep_record("a", "2025-01-02", "2025-01-02T07:00:00+01:00"),
                                             sleep_record("b", "2025-01-03", "2025-01-03T07:00:00+01:00")]))
    write(folder / "sleep_2.json", json.dumps({"data": [sleep_record("b", "2025-01-03", "2025-01-03T07:00:00+01:00",
                                                                     latency=900)]}))
    periods = read_oura(tmp_path / "raw", tmp_path, KNOWN).tables["oura_sleep_periods"]
    assert (periods.rows_read, periods.rows_clean, periods.rows_superseded) == (3, 2, 1)
    assert periods.clean.set_index("id").loc["b", "latency"] == 900


def _periods(**columns) -> pd.DataFrame:
    base = {"deep_sleep_duration": [5400.0], "light_sleep_duration": [14400.0], "rem_sleep_duration": [5400.0],
            "total_sleep_duration": [25200.0], "awake_time": [3600.0], "time_in_bed": [28800.0],
            "efficiency": [88.0], "day": [pd.Timestamp("2025-01-02")], "bedtime_end": ["2025-01-02T07:00:00+01:00"]}
    base.update({k: [v] for k, v in columns.items()})
    return pd.DataFrame(base)


def test_sleep_identities():
    assert oura_rules.stage_sum_mismatches(_periods()).empty
    assert len(oura_rules.stage_sum_mismatches(_periods(rem_sleep_duration=5000.0))) == 1
    assert len(oura_rules.time_in_bed_mismatches(_periods(time_in_bed=30000.0))) == 1
    # 25200 / 28800 = 87.5 % -> 88; 17300 / 20000 = 86.5 % -> 87 (half up, not to even)
    assert oura_rules.efficiency_mismatches(_periods()).empty
    assert oura_rules.efficiency_mismatches(_periods(total_sleep_duration=17300.0, time_in_bed=20000.0,
                                                     efficiency=87.0)).empty
    assert oura_rules.round_half_up(pd.Series([86.5, 2.5, 2.4])).tolist() == [87.0, 3.0, 2.0]


def test_oura_day_rule():
    ends = pd.Series(["2025-01-02T07:00:00+01:00", "2025-01-02T18:00:00-05:00", "2025-01-02T17:59:59+00:00"])
    assert oura_rules.oura_day(ends).tolist() == [pd.Timestamp("2025-01-02"), pd.Timestamp("2025-01-03"),
                                                  pd.Timestamp("2025-01-02")]
    assert oura_rules.day_rule_mismatches(_periods()).empty
    assert len(oura_rules.day_rule_mismatches(_periods(day=pd.Timestamp("2025-01-01")))) == 1


def test_batches_change_nothing(tmp_path, monkeypatch):
    """A file read in batches of two rows gives what it gives in one: a conflict across batches, a
    bad line and a bad cell in a later batch, and a file unreadable after its first batch rejected
    whole (nothing of it kept)."""
    rows = ["P001,2025-01-08,5,5,5,5,5,5,yes,", "P001,2025-01-09,6,5,5,5,5,5,yes,", "P002,2025-01-09,4,5,5,5,5,5,no,",
            "P001,2025-01-08,7,5,5,5,5,5,yes,", "P002,2025-01-10,12,5,5,5,5,5,no,", "P003,2025-01-05,5,5"]
    write(tmp_path / "raw/diary/a.csv", csv_text(DIARY_HEADER, rows))
    good = [f"P003,2025-01-0{6 + i},5,5,5,5,5,5,yes,{'long text ' * 300}" for i in range(3)]  # > 8 KB first
    (tmp_path / "raw/diary/b.csv").write_bytes((csv_text(DIARY_HEADER, good)
                                                + "P003,2025-01-08,5,5,5,5,5,5,yes,caf\xe9\n").encode("latin-1"))
    whole = read_diary(tmp_path / "raw", tmp_path, KNOWN)
    monkeypatch.setattr("mglt_pipeline.sources.files.BATCH_CELLS", 20)
    batched = read_diary(tmp_path / "raw", tmp_path, KNOWN)
    pd.testing.assert_frame_equal(whole.clean, batched.clean)
    pd.testing.assert_frame_equal(whole.quarantine, batched.quarantine)
    # a.csv: rows 1 and 4 conflict, row 6 is short, row 5's energy 12 is rejected (the row stays):
    # 3 clean, 3 quarantined; b.csv is rejected whole: 4 read and quarantined.
    assert (batched.rows_read, batched.rows_clean, batched.rows_quarantined) == (6 + 4, 3, 3 + 4)
    assert set(batched.quarantine["row"].dropna()) == {"1", "4", "5", "6"}
    unreadable = entry(batched, file="raw/diary/b.csv")
    assert len(unreadable) == 1 and "UTF-8" in unreadable[0]["rule"]
