"""Study day (Day 1 = first dose, no Day 0) and visit windows, against dates worked out on a calendar."""
import pandas as pd
import pytest

from mglt_pipeline.analysis.study_days import add_study_day_and_visit, derive_study_day, derive_visit


@pytest.mark.parametrize(
    ("date", "first_dose_on", "expected"),
    [
        ("2025-01-30", "2025-01-30", 1),
        ("2025-01-31", "2025-01-30", 2),
        ("2025-02-01", "2025-01-30", 3),  # across a month end
        ("2025-01-29", "2025-01-30", -1),  # the day before the dose: no Day 0
        ("2025-01-23", "2025-01-30", -7),
        ("2025-01-02", "2024-12-30", 4),  # across a year end
        ("2024-12-22", "2024-12-30", -8),
        ("2024-03-01", "2024-02-28", 3),  # leap year: 29 February exists
        ("2025-02-20", "2025-01-30", 22),
    ],
)
def test_study_day_of_a_date(date, first_dose_on, expected):
    assert derive_study_day(date, first_dose_on) == expected


def test_study_day_is_missing_without_a_first_dose():
    assert derive_study_day("2025-01-29", None) is None
    days = derive_study_day(pd.Series(pd.to_datetime(["2025-01-29", "2025-02-01", "2025-02-01"])),
                            pd.Series(pd.to_datetime(["2025-01-30", "2025-01-30", None])))
    assert days.tolist()[:2] == [-1, 3]
    assert pd.isna(days.iloc[2])


@pytest.mark.parametrize(
    ("study_day", "visit"),
    [(-8, None), (-7, "baseline"), (-1, "baseline"), (1, "week_1"), (7, "week_1"), (8, "week_2"),
     (14, "week_2"), (15, "week_3"), (21, "week_3"), (22, None)],
)
def test_visit_window_boundaries(study_day, visit):
    assert derive_visit(study_day) == visit
    assert derive_visit(pd.Series([study_day])).tolist() == [visit]


def test_dates_to_visits_through_the_participants_first_dose():
    # First dose 2025-01-30: Day -1 = 01-29, Day 1 = 01-30, Day 7 = 02-05, Day 8 = 02-06,
    # Day 21 = 02-19, Day 22 = 02-20.
    frame = pd.DataFrame({"participant_id": ["P1"] * 6 + ["P2"],
                          "date": pd.to_datetime(["2025-01-29", "2025-01-30", "2025-02-05", "2025-02-06",
                                                  "2025-02-19", "2025-02-20", "2025-02-01"])})
    participants = pd.DataFrame({"participant_id": ["P1", "P2"],
                                 "first_dose_on": pd.to_datetime(["2025-01-30", None])})
    out = add_study_day_and_visit(frame, "date", participants)
    assert out["study_day"].tolist()[:6] == [-1, 1, 7, 8, 21, 22]
    assert out["visit"].tolist() == ["baseline", "week_1", "week_1", "week_2", "week_3", None, None]
    assert out["visit_num"].tolist()[:5] == [0, 1, 1, 2, 3]
