"""Main sleep, nightly table and weekly windows, against numbers worked out by hand."""
import math

import pandas as pd
import pytest

from mglt_pipeline.analysis.diary import derive_diary_daily
from mglt_pipeline.analysis.nightly import derive_oura_nightly, select_main_sleep
from mglt_pipeline.analysis.study_days import add_study_day_and_visit
from mglt_pipeline.analysis.windows import derive_outcome_windows, window_means
from mglt_pipeline.registry import OUTCOMES, outcome, outcomes_from
from mglt_pipeline_tests import analysis_frames as f

P = "P1"


def _periods():
    d1, d2, d3 = f.day(-7), f.day(-6), f.day(-5)
    return pd.DataFrame([
        f.sleep_period(P, d1, "long_sleep", 25200, "a"),        # 7 h main sleep
        f.sleep_period(P, d1, "sleep", 3600, "b"),              # a nap never counts
        f.sleep_period(P, d1, "late_nap", 30000, "c"),          # even a long late nap
        f.sleep_period(P, d1, "rest", 28000, "d"),              # rejected detection
        f.sleep_period(P, d1, "deleted", 29000, "e"),
        f.sleep_period(P, d2, "long_sleep", 14400, "f"),        # two long sleeps: 4 h ...
        f.sleep_period(P, d2, "long_sleep", 21600, "g", 255),   # ... and 6 h wins; HR 255 = no data
        f.sleep_period(P, d3, "sleep", 5400, "h"),              # only a nap: no main sleep that day
    ])


def test_main_sleep_is_the_longest_long_sleep():
    main = select_main_sleep(_periods())
    assert main["id"].tolist() == ["a", "g"]
    assert main["total_sleep_duration"].tolist() == [25200, 21600]
    assert math.isnan(main["lowest_heart_rate"].iloc[1])


def test_registry_names_oura_fields_as_data():
    assert outcome("oura_deep_sleep_score").raw.column == "contributors_deep_sleep"
    field = outcome("oura_light_sleep_min").raw
    assert (field.collection, field.column, field.divide_by) == ("sleep", "light_sleep_duration", 60.0)
    assert outcome("oura_daily_movement_m").raw.column == "equivalent_walking_distance"
    assert outcome("oura_lowest_hr").raw.column == "lowest_heart_rate"
    assert outcome("diary_mental_alertness").raw.field == "mental_alertness"


def test_nightly_table_one_row_per_day_with_minutes():
    docs = f.daily_documents(P, [f.day(-7), f.day(-6), f.day(-5)], 70.0)
    people = f.participants([(P, "2025-01-30", "completed")])
    nightly = derive_oura_nightly(docs["oura_daily_sleep"], _periods(), docs["oura_daily_activity"],
                                  docs["oura_daily_readiness"], people)
    assert len(nightly) == 3
    assert nightly["study_day"].tolist() == [-7, -6, -5]
    assert set(o.id for o in outcomes_from("oura_nightly")) <= set(nightly.columns)
    assert nightly["oura_total_sleep_min"].iloc[0] == 420.0          # 25200 s / 60
    assert nightly["oura_total_sleep_min"].iloc[1] == 360.0          # 21600 s / 60, the longer one
    assert nightly["oura_light_sleep_min"].iloc[1] == 180.0          # half of 6 h
    assert math.isnan(nightly["oura_total_sleep_min"].iloc[2])       # nap only: no main sleep
    assert math.isnan(nightly["oura_lowest_hr"].iloc[1])             # 255 read as missing
    assert nightly["oura_deep_sleep_score"].tolist() == [70.0, 70.0, 70.0]
    assert nightly["oura_steps"].iloc[0] == 7000.0


def _daily(values_by_day):
    rows = pd.DataFrame({"participant_id": P, "day": [f.day(d) for d in values_by_day],
                         "value_x": list(values_by_day.values())})
    people = f.participants([(P, "2025-01-30", "completed")])
    return add_study_day_and_visit(rows, "day", people)


def test_window_needs_three_valid_days():
    # baseline: 2 valid nights (one null, one day absent) -> missing; week_1: exactly 3 -> mean;
    # week_2: 4 nights; Day 22 is outside every window.
    daily = _daily({-7: 60.0, -3: None, -1: 64.0, 1: 50.0, 4: 52.0, 7: 57.0,
                    8: 10.0, 9: 20.0, 13: 30.0, 14: 41.0, 22: 99.0})
    out = window_means(daily, ["value_x"]).set_index("visit")
    assert math.isnan(out.loc["baseline", "value"])
    assert out.loc["baseline", "n_valid_days"] == 2
    assert out.loc["week_1", "value"] == pytest.approx(53.0)        # (50 + 52 + 57) / 3
    assert out.loc["week_1", "n_valid_days"] == 3
    assert out.loc["week_2", "value"] == pytest.approx(25.25)       # 101 / 4
    assert "week_3" not in out.index
    assert out.loc["week_2", "visit_num"] == 2


def test_outcome_windows_cover_every_registry_outcome():
    people = f.participants([(P, "2025-01-30", "completed")])
    days = [f.day(d) for d in (-3, -2, -1, 1, 2, 3)]
    docs = f.daily_documents(P, days, 80.0)
    periods = pd.DataFrame([f.sleep_period(P, d, "long_sleep", 27000, f"s{i}") for i, d in enumerate(days)])
    nightly = derive_oura_nightly(docs["oura_daily_sleep"], periods, docs["oura_daily_activity"],
                                  docs["oura_daily_readiness"], people)
    diary = derive_diary_daily(f.diary_entries(P, [-3, -2, -1, 1, 2], 6.0), people)
    tables = {"oura_nightly": nightly, "diary_daily": diary}
    for source in ("isi_scores", "lseq_scores", "rsq_scores", "poms_scores"):
        tables[source] = f.score_table(source, {(P, "baseline"): 12.0, (P, "week_1"): 9.0})
    windows = derive_outcome_windows(tables).set_index(["outcome", "visit"])
    assert set(windows.index.get_level_values("outcome")) == {o.id for o in OUTCOMES}
    assert windows.loc[("oura_total_sleep_min", "baseline"), "value"] == 450.0   # 27000 / 60
    assert windows.loc[("oura_total_sleep_min", "week_1"), "n_valid_days"] == 3
    assert math.isnan(windows.loc[("diary_energy", "week_1"), "value"])          # 2 entries only
    assert windows.loc[("diary_energy", "baseline"), "value"] == 6.0
    assert windows.loc[("isi_total", "week_1"), "value"] == 9.0
    assert pd.isna(windows.loc[("isi_total", "week_1"), "n_valid_days"])
