"""One row per participant and diary date (table ``diary_daily``), and supplement adherence.

Each registry outcome with ``source == "diary_daily"`` reads the diary column its registry ``raw``
field names (``DiaryField("energy")``): the participant's 0..10 rating of that day (INSTRUMENTS.md
"Diary"). A diary entry belongs to the study day of its ``date`` (SAP).
"""
from __future__ import annotations

import pandas as pd

from mglt_pipeline.analysis.study_days import add_study_day_and_visit
from mglt_pipeline.visits import TREATMENT_DAYS
from mglt_pipeline.registry import outcomes_from

SOURCE = "diary_daily"
KEY = ["participant_id", "date"]
TAKEN = "yes"


def derive_diary_daily(diary_entries: pd.DataFrame, participants: pd.DataFrame) -> pd.DataFrame:
    """Diary entries with study day, visit, the diary outcome columns, adherence and adverse events."""
    outcomes = outcomes_from(SOURCE)
    outcome_ids = [o.id for o in outcomes]
    daily = diary_entries[KEY].copy()
    daily["date"] = pd.to_datetime(daily["date"])
    for o in outcomes:
        daily[o.id] = pd.to_numeric(diary_entries[o.raw.field], errors="coerce").astype(float)
    supplement = diary_entries["took_supplement"].astype(object)
    daily["took_supplement"] = supplement.where(supplement.notna(), None)
    text = diary_entries["adverse_event"].astype("string").str.strip()
    text = text.where(text.str.len() > 0).astype(object)
    daily["adverse_event"] = text.where(text.notna(), None)
    daily = add_study_day_and_visit(daily, "date", participants)
    columns = KEY + ["study_day", "visit", "visit_num"] + outcome_ids + ["took_supplement", "adverse_event"]
    return daily[columns].sort_values(KEY).reset_index(drop=True)


def supplement_adherence(diary_daily: pd.DataFrame, participant_ids: pd.Series,
                         days: tuple[int, int] = TREATMENT_DAYS) -> pd.DataFrame:
    """Per participant: days with ``took_supplement == "yes"`` among study ``days`` (inclusive).

    SAP "Per-protocol set": a missing diary entry counts as not taken, so the denominator is the
    number of planned days, never the number of entries. Columns ``participant_id``,
    ``days_taken``, ``days_planned``, ``adherence`` (fraction).
    """
    first, last = days
    in_period = diary_daily["study_day"].between(first, last) & (diary_daily["took_supplement"] == TAKEN)
    taken = diary_daily.loc[in_period.fillna(False).astype(bool)].drop_duplicates(KEY).groupby("participant_id").size()
    out = pd.DataFrame({"participant_id": pd.Series(participant_ids).drop_duplicates().to_numpy()})
    out["days_taken"] = out["participant_id"].map(taken).fillna(0).astype(int)
    out["days_planned"] = last - first + 1
    out["adherence"] = out["days_taken"] / out["days_planned"]
    return out
