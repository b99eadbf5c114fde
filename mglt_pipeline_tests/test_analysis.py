"""Analysis dataset (aval, base, chg, FAS, PP, arms) and the trial tables, on hand-made participants."""
import math

import pandas as pd
import pytest

from mglt_pipeline.analysis.dataset import derive_analysis_dataset, derive_arm_labels, per_protocol_ids
from mglt_pipeline.analysis.diary import derive_diary_daily, supplement_adherence
from mglt_pipeline.analysis.tables import (
    adverse_event_summary,
    baseline_markdown,
    derive_adverse_events,
    derive_baseline_characteristics,
    derive_participant_flow,
    flow_inconsistencies,
)
from mglt_pipeline.registry import OUTCOMES
from mglt_pipeline_tests import analysis_frames as f

DOSE = "2025-01-30"
PEOPLE = f.participants([
    ("P1", DOSE, "completed"), ("P2", DOSE, "completed"), ("P3", DOSE, "completed"),
    ("P4", DOSE, "withdrawn"), ("P5", DOSE, "completed"), ("P6", DOSE, "completed"),
    ("P7", None, "withdrawn"), ("P8", None, "withdrawn"),
])
ARMS = {"P1": "A", "P2": "B", "P3": "A", "P4": "B", "P5": "A", "P6": "B", "P7": "B"}  # P8 not randomized
ALL_DAYS = list(range(-7, 0)) + list(range(1, 22))
TREATMENT = set(range(1, 22))


def _diary():
    frames = [
        f.diary_entries("P1", ALL_DAYS, 5.0, events={3: "headache", -2: "cold"}),
        f.diary_entries("P2", ALL_DAYS, 5.0, taken_days=TREATMENT - {2, 5, 9, 11}),   # 17/21 = 81%: in
        f.diary_entries("P3", ALL_DAYS, 5.0, taken_days=TREATMENT - {2, 5, 9, 11, 13}),  # 16/21: out
        f.diary_entries("P4", ALL_DAYS, 5.0, events={4: "  "}),                         # withdrawn: out
        f.diary_entries("P5", [d for d in ALL_DAYS if d < 18], 5.0, events={10: "nausea"}),  # 17 entries
        f.diary_entries("P6", [d for d in ALL_DAYS if d < 17], 5.0),                    # 16 entries: out
    ]
    return derive_diary_daily(pd.concat(frames, ignore_index=True), PEOPLE)


def _windows():
    rows = [("P1", "baseline", 14.0), ("P1", "week_1", 12.0), ("P1", "week_2", 10.0), ("P1", "week_3", 9.5),
            ("P2", "week_1", 11.0),                               # no baseline: not in FAS
            ("P3", "baseline", 20.0), ("P3", "week_1", None),     # no post-baseline value: not in FAS
            ("P4", "baseline", 8.0), ("P4", "week_1", 7.0),
            ("P5", "baseline", 10.0), ("P5", "week_3", 4.0),
            ("P6", "baseline", 10.0), ("P6", "week_1", 10.0),
            ("P7", "baseline", 16.0)]
    frame = pd.DataFrame(rows, columns=["participant_id", "visit", "value"]).assign(outcome="isi_total")
    frame["visit_num"] = frame["visit"].map({"baseline": 0, "week_1": 1, "week_2": 2, "week_3": 3})
    frame["n_valid_days"] = pd.NA
    return frame


def _dataset(names=None):
    adherence = supplement_adherence(_diary(), pd.Series(list(ARMS)))
    return derive_analysis_dataset(_windows(), f.randomization(ARMS, names), PEOPLE, adherence)


def test_one_row_per_randomized_participant_outcome_and_visit():
    data = _dataset()
    assert len(data) == 7 * len(OUTCOMES) * 3
    assert list(data.columns) == ["participant_id", "arm", "outcome", "visit", "visit_num",
                                  "aval", "base", "chg", "fas", "pp"]
    assert "P8" not in set(data["participant_id"])
    assert data["aval"].isna().sum() > 0  # rows with missing aval are kept


def test_aval_base_and_chg():
    isi = _dataset().query("participant_id == 'P1' and outcome == 'isi_total'").set_index("visit")
    assert isi["aval"].tolist() == [12.0, 10.0, 9.5]
    assert isi["base"].tolist() == [14.0, 14.0, 14.0]
    assert isi["chg"].tolist() == [-2.0, -4.0, -4.5]
    assert isi["visit_num"].tolist() == [1, 2, 3]
    p5 = _dataset().query("participant_id == 'P5' and outcome == 'isi_total'").set_index("visit")
    assert math.isnan(p5.loc["week_1", "chg"]) and p5.loc["week_3", "chg"] == -6.0


def test_fas_per_outcome():
    data = _dataset()
    fas = data[data["outcome"] == "isi_total"].groupby("participant_id")["fas"].all()
    assert fas.to_dict() == {"P1": True, "P2": False, "P3": False, "P4": True, "P5": True, "P6": True, "P7": False}
    assert not data.loc[data["outcome"] == "oura_sleep_score", "fas"].any()  # no values at all


def test_pp_adherence_missing_entries_and_completion():
    pp = _dataset()[lambda d: d["outcome"] == "isi_total"].groupby("participant_id")["pp"].all()
    # P1 21/21, P5 17/21 with 4 missing entries: in; P6 16/21 (missing entries not taken): out;
    # P4 withdrawn: out; P2, P3 not in the FAS of isi_total.
    assert pp.to_dict() == {"P1": True, "P2": False, "P3": False, "P4": False, "P5": True, "P6": False, "P7": False}
    adherence = supplement_adherence(_diary(), pd.Series(["P2", "P3", "P6", "P9"])).set_index("participant_id")
    assert adherence["days_taken"].to_dict() == {"P2": 17, "P3": 16, "P6": 16, "P9": 0}
    assert (set(per_protocol_ids(adherence.reset_index(), PEOPLE))) == {"P2"}


def test_adherence_exactly_80_percent_is_in():
    # P2 skips Days 2, 5, 9, 11: over Days 6..10 that is 4 of 5 = exactly 80% (in);
    # P3 skips 2, 5, 9, 11, 13: over Days 9..13, 2 of 5 (out).
    diary = _diary()
    p2 = supplement_adherence(diary, pd.Series(["P2"]), days=(6, 10))
    assert (p2["days_taken"].iloc[0], p2["adherence"].iloc[0]) == (4, 0.8)
    assert per_protocol_ids(p2, PEOPLE) == {"P2"}
    p3 = supplement_adherence(diary, pd.Series(["P3"]), days=(9, 13))
    assert p3["days_taken"].iloc[0] == 2 and per_protocol_ids(p3, PEOPLE) == set()
    exact = pd.DataFrame({"participant_id": ["P1", "P5"], "days_taken": [4, 3], "days_planned": [5, 5]})
    assert per_protocol_ids(exact, PEOPLE) == {"P1"}  # 4/5 = 80% in, 3/5 = 60% out


def test_arm_labels_blinded_and_unblinded():
    assert set(_dataset()["arm"]) == {"A", "B"}
    named = _dataset({"A": "placebo", "B": "MgT"}).drop_duplicates("participant_id").set_index("participant_id")
    assert named.loc["P1", "arm"] == "placebo" and named.loc["P2", "arm"] == "MgT"
    partial = f.randomization(ARMS, {"A": "placebo", "B": "MgT"})
    partial.loc[0, "arm"] = None
    assert set(derive_arm_labels(partial)["arm"]) == {"A", "B"}


def test_baseline_characteristics():
    data = _dataset()
    table = derive_baseline_characteristics(PEOPLE, derive_arm_labels(f.randomization(ARMS)), data)
    rows = table.set_index(["characteristic", "level", "arm"], drop=False)
    # Arm A = P1, P3, P5 (ages 40, 42, 44); B = P2, P4, P6, P7 (41, 43, 45, 46).
    assert rows.loc[("participants", None, "A"), "count"] == 3
    assert rows.loc[("participants", None, "overall"), "count"] == 7
    assert rows.loc[("age", None, "A"), "mean"] == pytest.approx(42.0)
    assert rows.loc[("age", None, "A"), "sd"] == pytest.approx(2.0)
    assert rows.loc[("age", None, "B"), "mean"] == pytest.approx(43.75)
    # sex alternates F, M from P1: A = F, F, F; B = M, M, M, F
    assert rows.loc[("sex", "F", "A"), "count"] == 3
    assert rows.loc[("sex", "M", "B"), "count"] == 3
    assert rows.loc[("sex", "F", "overall"), "percent"] == pytest.approx(400 / 7)
    # baseline ISI: A = 14, 20, 10 -> 14.667; B = 8, 10, 16 (P2 none) -> n 3, mean 11.333
    assert rows.loc[("isi_total", None, "A"), "mean"] == pytest.approx(44 / 3)
    assert rows.loc[("isi_total", None, "B"), "n"] == 3
    assert "overall" in baseline_markdown(table)


def test_participant_flow_adds_up():
    data = _dataset()
    flow = derive_participant_flow(PEOPLE, derive_arm_labels(f.randomization(ARMS)), data)
    n = flow.pivot(index="stage", columns="arm", values="n")
    assert n.loc["enrolled", "total"] == 8
    assert n.loc["enrolled", "not randomized"] == 1
    assert n.loc["randomized", "total"] == 7 == n.loc["randomized", "A"] + n.loc["randomized", "B"]
    assert (n.loc["randomized", "A"], n.loc["randomized", "B"]) == (3, 4)
    assert n.loc["dosed", "total"] == 6
    assert n.loc["completed", "total"] == 5
    assert n.loc["withdrawn", "B"] == 2  # P4 and P7
    assert n.loc["fas_isi_total", "total"] == 4
    for arm in ("A", "B", "total"):
        assert n.loc["enrolled", arm] >= n.loc["randomized", arm] >= n.loc["dosed", arm] >= n.loc["completed", arm]
    assert (n.drop(columns="total").sum(axis=1) == n["total"]).all()


def test_flow_inconsistencies_finds_what_does_not_add_up():
    flow = derive_participant_flow(PEOPLE, derive_arm_labels(f.randomization(ARMS)), _dataset())
    assert flow_inconsistencies(flow) == []
    more_completed = flow.copy()
    more_completed.loc[(flow["stage"] == "completed") & (flow["arm"] == "A"), "n"] += 5  # A: 3 dosed
    problems = flow_inconsistencies(more_completed)
    assert "completed: total 5 is not the sum of its columns" in problems
    assert any(p.startswith("A: dosed") for p in problems)


def test_adverse_events_of_the_safety_set():
    arms = derive_arm_labels(f.randomization(ARMS))
    events = derive_adverse_events(_diary(), PEOPLE, arms)
    assert events[["participant_id", "study_day", "arm", "text"]].values.tolist() == [
        ["P1", -2, "A", "cold"], ["P1", 3, "A", "headache"], ["P5", 10, "A", "nausea"]]
    assert events["date"].iloc[1] == pd.Timestamp("2025-02-01")
    summary = adverse_event_summary(events, PEOPLE, arms).set_index("arm")
    # P1's Day -2 cold is a run-in event; P1 (Day 3) and P5 (Day 10) have treatment-emergent ones.
    assert summary.loc["A", "with_treatment_emergent_event"] == 2
    assert summary.loc["B", "with_treatment_emergent_event"] == 0
    assert summary.loc["total", "safety_set"] == 6
