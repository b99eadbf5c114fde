"""Adherence on a hand-built trial against a hand count, reasons included (SAP "Adherence and missing data").

The trial (first dose 2025-01-30 for everyone dosed; study nights -7..-1, 1..21: 28 nights):
- P1 (arm A, completed): a main sleep every night except
  Day -7 a nap only (no_main_sleep), Day -6 an unclassified period, type null (no_main_sleep),
  Day 2 a daily_activity with 50,000 s non-wear and no period (not_worn),
  Day 3 daily_sleep and daily_activity with 1 h non-wear, no period (no_sleep_recorded),
  Day 5 nothing at all although later days synced (no_data),
  Days 20 and 21 nothing, and nothing later (not_synced).
  Main sleep on 28 - 7 = 21 nights: 75%. Baseline 5/7, week 1 4/7 (Days 2, 3, 5), week 2 7/7,
  week 3 5/7. Diary every day but Days 4 and 15: 26/28; supplement yes on Days 1..21 except 4 and
  15 (no entry) and 7 ("no"): 18/21.
- P2 (arm B, withdrawn on Day 10): main sleep every night to Day 12 (the ring synced two nights
  past withdrawal), nothing after. In the study: Days -7..-1 and 1..10, 17 nights, all with a main
  sleep (100%); 11 nights withdrawn, the main sleeps of Days 11 and 12 included. Week 2 has 3
  nights in the study (8, 9, 10), 3/3; week 3 none (no share). Diary on the 17 days: 100%;
  supplement yes on Days 1..10: 10/21.
- P3 (arm A) never dosed: no study nights, no rows.
- P4 (arm B, completed) has no Oura document at all: 28 nights not_synced, 0%; no diary: 0/28, 0/21.
"""
from __future__ import annotations

import math

import pandas as pd
import pytest

from mglt_pipeline.analysis.adherence import derive_adherence
from mglt_pipeline.analysis.adherence_summary import (
    derive_adherence_summary, derive_outcome_missingness, derive_participant_adherence)
from mglt_pipeline.analysis.dataset import derive_arm_labels
from mglt_pipeline.analysis.diary import derive_diary_daily
from mglt_pipeline.registry import OUTCOMES
from mglt_pipeline_tests import analysis_frames as f

NIGHTS = [d for d in range(-7, 22) if d != 0]


def _trial():
    people = f.participants([("P1", "2025-01-30", "completed"), ("P2", "2025-01-30", "withdrawn"),
                             ("P3", None, "withdrawn"), ("P4", "2025-01-30", "completed")])
    people.loc[people["participant_id"] == "P2", "withdrawn_on"] = f.day(10)
    people.loc[people["participant_id"] == "P3", "withdrawn_on"] = pd.Timestamp("2025-01-25")
    arms = f.randomization({"P1": "A", "P2": "B", "P3": "A", "P4": "B"})
    p1_main = [d for d in NIGHTS if d not in (-7, -6, 2, 3, 5, 20, 21)]
    periods = [f.sleep_period("P1", f.day(d), "long_sleep", 25200, f"P1m{d}") for d in p1_main]
    periods += [f.sleep_period("P1", f.day(-7), "sleep", 3000, "P1nap"),
                f.sleep_period("P1", f.day(-6), None, 20000, "P1untyped")]
    periods += [f.sleep_period("P2", f.day(d), "long_sleep", 25000, f"P2m{d}") for d in NIGHTS if d <= 12]
    p1_docs = f.daily_documents("P1", [f.day(d) for d in p1_main + [-7, -6]], 70.0)
    p2_docs = f.daily_documents("P2", [f.day(d) for d in NIGHTS if d <= 12], 75.0)
    activity = pd.concat([p1_docs["oura_daily_activity"], p2_docs["oura_daily_activity"]]).assign(non_wear_time=0.0)
    extra = pd.DataFrame({"participant_id": "P1", "day": [f.day(2), f.day(3)], "id": ["a2", "a3"],
                          "non_wear_time": [50000.0, 3600.0]})
    daily_sleep = pd.concat([p1_docs["oura_daily_sleep"], p2_docs["oura_daily_sleep"],
                             pd.DataFrame({"participant_id": ["P1"], "day": [f.day(3)], "id": ["s3"]})])
    readiness = pd.concat([p1_docs["oura_daily_readiness"], p2_docs["oura_daily_readiness"]])
    diary = pd.concat([
        f.diary_entries("P1", [d for d in NIGHTS if d not in (4, 15)], 5.0,
                        taken_days={d for d in range(1, 22) if d not in (4, 7, 15)}),
        f.diary_entries("P2", [d for d in NIGHTS if d <= 10], 5.0)], ignore_index=True)
    nights = derive_adherence(people, derive_arm_labels(arms), pd.DataFrame(periods), daily_sleep,
                              pd.concat([activity, extra]), readiness, "not randomized")
    return nights, derive_diary_daily(diary, people)


@pytest.fixture(scope="module")
def trial():
    nights, diary_daily = _trial()
    per_participant = derive_participant_adherence(nights, diary_daily)
    return nights, diary_daily, per_participant.set_index("participant_id")


def test_one_row_per_dosed_participant_and_night(trial):
    nights, _, _ = trial
    assert sorted(nights["participant_id"].unique()) == ["P1", "P2", "P4"]       # P3 never dosed
    assert nights.groupby("participant_id").size().tolist() == [28, 28, 28]
    assert 0 not in set(nights["study_day"])
    assert nights.loc[nights["study_day"] == 1, "night"].unique().tolist() == [pd.Timestamp("2025-01-30")]
    assert nights.loc[nights["study_day"] == -1, "night"].unique().tolist() == [pd.Timestamp("2025-01-29")]


def test_reasons_are_the_hand_count(trial):
    nights, _, _ = trial
    p1 = nights.loc[nights["participant_id"] == "P1"].set_index("study_day")["reason"]
    assert {d: r for d, r in p1.items() if r is not None} == {
        -7: "no_main_sleep", -6: "no_main_sleep", 2: "not_worn", 3: "no_sleep_recorded", 5: "no_data",
        20: "not_synced", 21: "not_synced"}
    p2 = nights.loc[nights["participant_id"] == "P2"].set_index("study_day")
    assert p2.loc[p2["reason"].notna()].index.tolist() == list(range(11, 22))
    assert set(p2.loc[range(11, 22), "reason"]) == {"withdrawn"}
    assert p2.loc[[11, 12], "main_sleep"].tolist() == [True, True]             # recorded, but after withdrawal
    assert p2["in_study"].sum() == 17
    assert set(nights.loc[nights["participant_id"] == "P4", "reason"]) == {"not_synced"}


def test_participant_adherence_is_the_hand_count(trial):
    _, _, p = trial
    assert p.loc["P1", ["nights_in_study", "nights_main_sleep", "nights_no_main_sleep", "nights_not_worn",
                        "nights_no_sleep_recorded", "nights_no_data", "nights_not_synced",
                        "nights_after_withdrawal"]].tolist() == [28, 21, 2, 1, 1, 1, 2, 0]
    assert p.loc["P1", "oura_wear_pct"] == pytest.approx(75.0)
    assert p.loc["P1", ["oura_wear_baseline_pct", "oura_wear_week_1_pct", "oura_wear_week_2_pct",
                        "oura_wear_week_3_pct"]].tolist() == pytest.approx([500 / 7, 400 / 7, 100.0, 500 / 7])
    assert p.loc["P1", ["diary_days", "supplement_days_taken", "supplement_days_planned"]].tolist() == [26, 18, 21]
    assert p.loc["P1", "diary_completion_pct"] == pytest.approx(2600 / 28)
    assert p.loc["P2", ["nights_in_study", "nights_main_sleep", "nights_after_withdrawal", "diary_days",
                        "supplement_days_taken"]].tolist() == [17, 17, 11, 17, 10]
    assert p.loc["P2", "oura_wear_week_2_pct"] == 100.0 and math.isnan(p.loc["P2", "oura_wear_week_3_pct"])
    assert p.loc["P2", "supplement_pct"] == pytest.approx(1000 / 21)
    assert p.loc["P4", ["nights_in_study", "nights_main_sleep", "nights_not_synced", "diary_days",
                        "supplement_days_taken"]].tolist() == [28, 0, 28, 0, 0]


def test_summary_by_arm_is_the_hand_count(trial):
    nights, diary_daily, p = trial
    summary = derive_adherence_summary(nights, diary_daily, p.reset_index())
    row = summary.set_index(["arm", "measure", "period"])
    wear_b = row.loc[("B", "oura_wear", "all")]
    assert (wear_b["participants"], wear_b["days"], wear_b["of_days"]) == (2, 17, 45)
    assert wear_b["pooled_pct"] == pytest.approx(1700 / 45)
    assert wear_b["mean_pct"] == pytest.approx(50.0) and wear_b["sd_pct"] == pytest.approx(50 * math.sqrt(2))
    total = row.loc[("total", "oura_wear", "all")]
    assert (total["participants"], total["days"], total["of_days"]) == (3, 38, 73)
    assert row.loc[("B", "oura_wear", "week_3"), "participants"] == 1           # P2 has no week-3 nights
    assert row.loc[("A", "night_not_synced", "all"), "days"] == 2
    assert row.loc[("B", "night_not_synced", "all"), "days"] == 28
    supplement = row.loc[("total", "supplement", "all")]
    assert (supplement["days"], supplement["of_days"]) == (28, 63)
    assert row.loc[("A", "diary_completion", "all"), "pooled_pct"] == pytest.approx(2600 / 28)


def test_outcome_missingness_is_n_with_value_over_n_in_the_fas():
    outcome = OUTCOMES[0].id
    rows = pd.DataFrame({
        "participant_id": ["P1", "P2", "P3", "P4", "P5"], "arm": ["A", "A", "A", "B", "B"],
        "outcome": outcome, "visit": "week_3", "visit_num": 3,
        "aval": [1.0, None, 2.0, None, 3.0], "base": 1.0, "chg": 0.0,
        "fas": [True, True, False, True, True], "pp": False})
    table = derive_outcome_missingness(rows).set_index(["outcome", "visit", "arm"])
    assert table.loc[(outcome, "week_3", "A"), ["n_fas", "n_with_value", "n_missing"]].tolist() == [2, 1, 1]
    assert table.loc[(outcome, "week_3", "B"), "pct_with_value"] == 50.0
    assert table.loc[(outcome, "week_1", "B"), "n_fas"] == 0                   # every visit and arm listed
    assert len(table) == len(OUTCOMES) * 3 * 2
