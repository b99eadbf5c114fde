"""The Oura rules of issue 10 (DATA_CONTRACT.md "Fields and rules"), each fault alone in a small folder.

Every entry must name the file, the record (id, or position), the participant, the day and the field,
and reject the smallest unit that is wrong: a bad value rejects that field, a bad key or a period
that cannot be placed (day rule, more than 24 hours) rejects the record.
"""
from __future__ import annotations

import json

import pandas as pd

from mglt_pipeline.sources.oura import read_oura
from mglt_pipeline_tests.ingest_fixtures import collection, daily_record, sleep_record, write

KNOWN = pd.Series(["P001"])


def _periods(tmp_path, *records, raw_text: str | None = None):
    write(tmp_path / "raw/oura/P001/sleep.json", raw_text or collection(list(records)))
    return read_oura(tmp_path / "raw", tmp_path, KNOWN).tables["oura_sleep_periods"]


def _entry(part, row):
    (entry,) = part.quarantine[part.quarantine["row"] == row].to_dict("records")
    return entry


def test_booleans_nan_and_infinity_are_not_numbers_and_reject_only_their_field(tmp_path):
    text = json.dumps({"data": [
        sleep_record("t", "2025-01-02", "2025-01-02T07:00:00+01:00", average_hrv=True),
        sleep_record("n", "2025-01-03", "2025-01-03T07:00:00+01:00", average_hrv="NAN_TOKEN"),
        sleep_record("i", "2025-01-04", "2025-01-04T07:00:00+01:00", lowest_heart_rate="INF_TOKEN"),
        sleep_record("s", "2025-01-05", "2025-01-05T07:00:00+01:00", average_hrv="38")]})
    text = text.replace('"NAN_TOKEN"', "NaN").replace('"INF_TOKEN"', "Infinity")  # JSON as Python writes it
    part = _periods(tmp_path, raw_text=text)
    assert part.clean["id"].tolist() == ["t", "n", "i", "s"] and part.rows_quarantined == 0
    assert part.clean["average_hrv"].isna().tolist() == [True, True, False, False]
    assert part.clean["average_hrv"].tolist()[3] == 38  # a numeric string is a number
    assert pd.isna(part.clean["lowest_heart_rate"][2])
    assert (_entry(part, "t")["field"], _entry(part, "t")["value"]) == ("average_hrv", "true")
    assert (_entry(part, "n")["value"], _entry(part, "i")["value"]) == ("NaN", "Infinity")
    assert _entry(part, "n")["participant_id"] == "P001" and _entry(part, "n")["key"] == "2025-01-03"


def test_durations_beyond_a_day_reject_the_field_and_a_30_hour_period_the_record(tmp_path):
    part = _periods(tmp_path,
                    sleep_record("d", "2025-01-02", "2025-01-02T07:00:00+01:00", awake_time=90000),
                    sleep_record("long", "2025-01-03", "2025-01-03T07:00:00+01:00",
                                 bedtime_start="2025-01-02T01:00:00+01:00"),
                    sleep_record("ok", "2025-01-04", "2025-01-04T07:00:00+01:00"))
    assert part.clean["id"].tolist() == ["d", "ok"] and pd.isna(part.clean["awake_time"][0])
    assert _entry(part, "d")["rule"] == "awake_time must be empty or a number of seconds from 0 to 86,400"
    long = _entry(part, "long")
    assert long["field"] == "bedtime_end" and "at most 24 hours" in long["rule"]
    assert (part.rows_read, part.rows_clean, part.rows_quarantined) == (3, 2, 1)


def test_a_period_whose_day_breaks_the_day_rule_is_quarantined(tmp_path):
    # ends 19:30 local: Oura's day is the next date, 2025-01-03, not 2025-01-02
    part = _periods(tmp_path, sleep_record("late", "2025-01-02", "2025-01-02T19:30:00+01:00", type="late_nap"),
                    sleep_record("main", "2025-01-02", "2025-01-02T07:00:00+01:00"))
    assert part.clean["id"].tolist() == ["main"]
    entry = _entry(part, "late")
    assert (entry["field"], entry["value"], entry["key"]) == ("day", "2025-01-02", "2025-01-02")
    assert "Oura's day of bedtime_end" in entry["rule"]


def test_a_bad_key_rejects_the_record_and_a_record_without_id_is_named_by_position(tmp_path):
    write(tmp_path / "raw/oura/P001/oura_daily-sleep_2025-02-01T10-00-00.json",
          json.dumps({"daily_sleep": [{"day": "2025-01-02", "score": 70}, {"day": "2025-02-30", "score": 71},
                                      {"day": "2025-01-04", "score": True}]}))
    part = read_oura(tmp_path / "raw", tmp_path, KNOWN).tables["oura_daily_sleep"]
    assert part.clean["day"].dt.strftime("%Y-%m-%d").tolist() == ["2025-01-02", "2025-01-04"]
    assert pd.isna(part.clean["score"][1])
    bad_day = _entry(part, "2")
    assert (bad_day["field"], bad_day["value"], bad_day["key"]) == ("day", "2025-02-30", "2025-02-30")
    assert _entry(part, "3")["field"] == "score"


def test_a_day_that_is_a_json_array_or_object_rejects_its_record_and_nothing_else(tmp_path):
    # 30 participants x 2 nights, the bad days last: from 50 values, when the first tenth repeats,
    # pandas parses dates through a cache of the distinct values, which cannot hash a list (the
    # crash this guards against: found by fuzzing a 30-participant trial)
    people = pd.Series([f"P{n:03d}" for n in range(1, 31)])
    for person in people:
        records = [{"id": f"{person}-{day}", "day": day, "score": 70} for day in ("2025-01-02", "2025-01-03")]
        if person == "P030":
            records[0]["day"], records[1]["day"] = [1], {"a": 1}
        write(tmp_path / f"raw/oura/{person}/daily_sleep.json", json.dumps({"data": records, "next_token": None}))
    part = read_oura(tmp_path / "raw", tmp_path, people).tables["oura_daily_sleep"]
    assert len(part.clean) == 58 and not part.clean["participant_id"].eq("P030").any()
    assert sorted((e["row"], e["field"]) for e in part.quarantine.to_dict("records")) == [
        ("P030-2025-01-02", "day"), ("P030-2025-01-03", "day")]


def test_a_dangling_next_token_is_one_entry_and_the_records_are_kept(tmp_path):
    write(tmp_path / "raw/oura/P001/daily_readiness.json",
          json.dumps({"data": [daily_record("r1", "2025-01-02", 80, {})], "next_token": "abc"}))
    write(tmp_path / "raw/oura/P001/daily_readiness_2.json",
          json.dumps({"data": [daily_record("r2", "2025-01-03", 81, {})], "next_token": "def"}))
    part = read_oura(tmp_path / "raw", tmp_path, KNOWN).tables["oura_daily_readiness"]
    assert part.clean["id"].tolist() == ["r1", "r2"] and part.rows_quarantined == 0
    (entry,) = part.quarantine.to_dict("records")
    assert entry["file"] == "raw/oura/P001/daily_readiness_2.json" and "collection incomplete" in entry["rule"]
    assert entry["participant_id"] == "P001"


def test_iso_times_read_local_time_and_offset_and_refuse_anything_else():
    from mglt_pipeline.validation.oura_rules import iso_times

    stamps = pd.Series(["2025-03-09T07:15:00-04:00", "2023-10-14T21:44:01.000+02:00", "2025-01-02T07:00:00Z",
                        "2025-01-02T07:00:00.123456+05:30", None, "2025-02-30T07:00:00+01:00",
                        "2025-01-02 07:00:00+01:00", "2025-01-02T07:00:00", "2025-01-02T24:00:00+01:00",
                        "2025-01-02T07:00:00+25:00", "2025-01-02T07:00:00.+01:00", 7], dtype=object)
    local, offset = iso_times(stamps)
    assert local[:4].tolist() == [pd.Timestamp("2025-03-09 07:15:00"), pd.Timestamp("2023-10-14 21:44:01"),
                                  pd.Timestamp("2025-01-02 07:00:00"), pd.Timestamp("2025-01-02 07:00:00")]
    assert offset[:4].tolist() == [-240, 120, 0, 330]
    assert local[4:].isna().all() and offset[4:].isna().all()
