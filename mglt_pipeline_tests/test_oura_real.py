"""The Oura readers on real files from public repositories (data/real/oura/PROVENANCE.md).

Every expected number here was read off the files themselves (the JSON and CSV as downloaded), not
from the pipeline's output; the weekly windows are worked out by hand below.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from mglt_pipeline.analysis.nightly import derive_oura_nightly
from mglt_pipeline.analysis.windows import window_means
from mglt_pipeline.sources.oura import read_oura

REAL = Path(__file__).parent / "data" / "real" / "oura"
EXPORT = REAL / "export" / "cmc-lab-pourya"
FIRST_DOSE = "2023-10-23"  # Day 1: baseline 10-16..10-22, week_1 10-23..10-29 (offset change), ...


def _folder(root: Path, participant: str, *sources: Path) -> Path:
    folder = root / "raw" / "oura" / participant
    folder.mkdir(parents=True)
    for source in sources:
        for path in (source.iterdir() if source.is_dir() else [source]):
            shutil.copy(path, folder / path.name)
    return root


def _read(root: Path, *participants: str):
    return read_oura(root / "raw", root, pd.Series(list(participants)))


def _counts_add_up(part) -> None:
    assert part.rows_read == part.rows_clean + part.rows_quarantined + part.rows_superseded + part.rows_set_aside


@pytest.fixture(scope="module")
def export_read(tmp_path_factory):
    return _read(_folder(tmp_path_factory.mktemp("export"), "P001", EXPORT), "P001")


def test_account_export_every_night_read_nothing_quarantined(export_read):
    tables = export_read.tables
    periods = tables["oura_sleep_periods"].clean
    # 29 long sleeps (one a night, 15 Oct .. 13 Nov without 29 Oct) and 14 periods Oura left untyped
    assert len(periods) == 43 and periods["type"].isna().sum() == 14
    assert (periods["type"] == "long_sleep").sum() == 29 and periods["day"].nunique() == 29
    assert len(tables["oura_daily_sleep"].clean) == 29 and len(tables["oura_daily_readiness"].clean) == 29
    assert len(tables["oura_daily_activity"].clean) == 30  # activity has 29 October too
    for part in tables.values():
        assert part.quarantine.empty and part.rows_quarantined == 0
        _counts_add_up(part)
    assert export_read.quarantine.empty
    assert tables["oura_daily_sleep"].rows_superseded == 29  # the second, identical download
    assert set(periods["source_format"]) == {"export"} and periods["id"].isna().all()


def test_account_export_offsets_change_at_the_end_of_daylight_saving(export_read):
    periods = export_read.tables["oura_sleep_periods"].clean.set_index("day")
    assert periods.loc["2023-10-28", "utc_offset_min"] == 120 and periods.loc["2023-10-30", "utc_offset_min"] == 60
    # 02:07:03+01:00 on 30 October is 01:07:03 UTC
    assert periods.loc["2023-10-30", "bedtime_start_utc"] == pd.Timestamp("2023-10-30 01:07:03")


def test_account_export_other_types_listed_as_not_analysed(export_read):
    reasons = dict(zip(export_read.set_aside["file"].str.rsplit("/", n=1).str[-1], export_read.set_aside["reason"]))
    assert "not use" in reasons["oura_bedtime_2023-12-02T18-27-46.json"]
    assert "not use" in reasons["oura_daily-spo2_2023-12-02T18-28-41.json"]
    assert "not use" in reasons["oura_heart-rate_2023-12-02T18-27-04.csv"]  # CSV only: it is counted
    for twin in ("oura_sleep_2023-12-02T18-25-22.csv", "oura_daily-readiness_2023-12-02T18-26-31.csv",
                 "oura_bedtime_2023-12-02T18-27-40.csv"):
        assert "CSV twin" in reasons[twin]
    assert export_read.records_set_aside == {"bedtime": 26, "daily_spo2": 29, "heart_rate": 703}


def test_account_export_weekly_windows_equal_the_hand_computation(export_read):
    tables = export_read.tables
    people = pd.DataFrame({"participant_id": ["P001"], "first_dose_on": [pd.Timestamp(FIRST_DOSE)]})
    nightly = derive_oura_nightly(tables["oura_daily_sleep"].clean, tables["oura_sleep_periods"].clean,
                                  tables["oura_daily_activity"].clean, tables["oura_daily_readiness"].clean, people)
    ids = ["oura_deep_sleep_min", "oura_lowest_hr", "oura_sleep_score", "oura_steps",
           "oura_readiness_hrv_balance"]
    windows = window_means(nightly, ids).set_index(["outcome", "visit"])["value"]
    # deep_sleep_duration (s) of the long_sleep of each night, from oura_sleep_...json:
    # baseline 16..22 Oct: 2460 3810 3690 3480 3990 4260 2310
    assert windows["oura_deep_sleep_min", "baseline"] == pytest.approx((2460 + 3810 + 3690 + 3480 + 3990 + 4260 + 2310) / 7 / 60)
    # week_1 23..29 Oct, no record for 29 Oct (the night the clocks changed): six nights
    assert windows["oura_deep_sleep_min", "week_1"] == pytest.approx((4830 + 4170 + 5190 + 3720 + 3060 + 3810) / 6 / 60)
    # week_2 30 Oct..5 Nov, after the change to +01:00
    assert windows["oura_deep_sleep_min", "week_2"] == pytest.approx((4830 + 4290 + 3180 + 3900 + 4710 + 6150 + 3990) / 7 / 60)
    assert windows["oura_deep_sleep_min", "week_3"] == pytest.approx((3570 + 3570 + 4140 + 4440 + 2010 + 2970 + 3120) / 7 / 60)
    # lowest_heart_rate of the long sleeps, 6..12 Nov
    assert windows["oura_lowest_hr", "week_3"] == pytest.approx((60 + 58 + 59 + 61 + 59 + 60 + 61) / 7)
    # daily_sleep score, oura_daily-sleep_...json, 23..28 Oct
    assert windows["oura_sleep_score", "week_1"] == pytest.approx((72 + 63 + 69 + 63 + 57 + 67) / 6)
    # daily_activity steps, 23..29 Oct (activity has 29 Oct)
    assert windows["oura_steps", "week_1"] == pytest.approx((7462 + 8862 + 9022 + 7661 + 6033 + 12526 + 6440) / 7)
    # daily_readiness contributors.hrv_balance, 16..22 Oct
    assert windows["oura_readiness_hrv_balance", "baseline"] == pytest.approx((72 + 67 + 71 + 63 + 64 + 65 + 72) / 7)
    # 15 Oct (Day -8) and 13 Nov (Day 22) are outside every window
    assert nightly.loc[nightly["day"] == "2023-10-15", "visit"].isna().all()


def test_trends_csv_newer_layout(tmp_path):
    read = _read(_folder(tmp_path, "P003", REAL / "trends" / "newer-layout"), "P003")
    tables = read.tables
    assert read.quarantine.empty and all(part.quarantine.empty for part in tables.values())
    # 318 rows; 12 without any sleep value (no bedtime, durations None or empty)
    assert len(tables["oura_daily_activity"].clean) == 318
    assert len(tables["oura_sleep_periods"].clean) == 306
    sleep = tables["oura_sleep_periods"].clean.set_index("day").loc["2022-01-13"]
    # 2022-01-13: Total Sleep Duration 24930, Total Bedtime  33780, Awake Time 8850, Sleep Latency 150,
    # Lowest Resting Heart Rate 49.0, Average HRV 43, Bedtime Start 00:53:31+02:00
    assert (sleep["total_sleep_duration"], sleep["time_in_bed"], sleep["awake_time"]) == (24930, 33780, 8850)
    assert (sleep["latency"], sleep["lowest_heart_rate"], sleep["average_hrv"]) == (150, 49, 43)
    assert sleep["type"] == "long_sleep" and sleep["utc_offset_min"] == 120
    score = tables["oura_daily_sleep"].clean.set_index("day").loc["2022-01-13"]
    # Sleep Score 67, Restfulness Score 77, Sleep Timin Score 35
    assert (score["score"], score["contributors_restfulness"], score["contributors_timing"]) == (67, 77, 35)
    readiness = tables["oura_daily_readiness"].clean.set_index("day").loc["2022-01-13"]
    assert readiness["score"] == 85 and pd.isna(readiness["contributors_sleep_balance"])  # written None
    activity = tables["oura_daily_activity"].clean.set_index("day").loc["2022-01-13"]
    assert (activity["steps"], activity["equivalent_walking_distance"]) == (8368, 10355)
    offsets = set(tables["oura_sleep_periods"].clean["utc_offset_min"].dropna())
    assert offsets == {-360, -300, 60, 120}


def test_trends_csv_older_layout(tmp_path):
    read = _read(_folder(tmp_path, "P004", REAL / "trends" / "older-layout"), "P004")
    tables = read.tables
    assert read.quarantine.empty and all(part.quarantine.empty for part in tables.values())
    assert len(tables["oura_daily_activity"].clean) == 37
    assert len(tables["oura_sleep_periods"].clean) == 34  # 2 Aug, 15 Aug and 22 Aug have no sleep
    sleep = tables["oura_sleep_periods"].clean.set_index("day").loc["2021-08-03"]
    # Total Bedtime 39720, Total Sleep Time 27690, Awake Time 12030, REM Sleep Time 4020,
    # Light Sleep Time 17310, Deep Sleep Time 6360, Sleep Efficiency 70, Sleep Latency 660
    assert (sleep["time_in_bed"], sleep["total_sleep_duration"], sleep["awake_time"]) == (39720, 27690, 12030)
    assert (sleep["rem_sleep_duration"], sleep["light_sleep_duration"], sleep["deep_sleep_duration"]) == (4020, 17310, 6360)
    assert (sleep["efficiency"], sleep["latency"]) == (70, 660)
    score = tables["oura_daily_sleep"].clean.set_index("day").loc["2021-08-03"]
    assert (score["score"], score["contributors_restfulness"], score["contributors_timing"]) == (71, 57, 22)
    activity = tables["oura_daily_activity"].clean.set_index("day").loc["2021-08-03"]
    assert (activity["score"], activity["steps"], activity["equivalent_walking_distance"]) == (63, 6109, 5420)
    readiness = tables["oura_daily_readiness"].clean.set_index("day").loc["2021-08-03"]
    assert (readiness["score"], readiness["contributors_sleep_balance"]) == (80, 73)


def test_api_responses_recorded_by_a_public_client(tmp_path):
    read = _read(_folder(tmp_path, "P002", REAL / "api" / "go-oura"), "P002")
    tables = read.tables
    periods = tables["oura_sleep_periods"]
    assert periods.clean["id"].tolist() == ["02e54fa5-f514-46f6-9ac6-b651d8f84b75"]
    assert periods.clean["total_sleep_duration"].tolist() == [20940]
    # sleep.json ends with next_token "your-token" and no page follows: one entry, the record kept
    assert len(periods.quarantine) == 1 and "collection incomplete" in periods.quarantine["rule"][0]
    assert periods.rows_quarantined == 0
    assert tables["oura_daily_sleep"].clean["score"].tolist() == [83]
    assert tables["oura_daily_activity"].clean["steps"].tolist() == [5797]
    assert tables["oura_daily_readiness"].clean["contributors_hrv_balance"].tolist() == [4]
    # sleep_time.json is its own collection (not a page of sleep), with its own dangling token:
    # not analysed, so set aside and never quarantined
    assert read.records_set_aside["sleep_time"] == 1 and read.quarantine.empty
    assert set(read.records_set_aside) == {"sleep_time", "daily_spo2", "daily_stress", "enhanced_tag",
                                           "heartrate", "ring_configuration", "session", "workout"}
