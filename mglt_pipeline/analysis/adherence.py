"""Oura wear night by night (table ``adherence``), SAP "Adherence and missing data".

For every dosed participant and study night from Day -7 to Day 21 (no Day 0): whether the night has
a main sleep (a ``long_sleep`` period, as ``oura_nightly`` picks it) and, when it has none, one
reason, the first that applies:

- ``withdrawn``: the night is after ``withdrawn_on`` (withdrawn or lost to follow-up); such nights
  are out of the study and out of every adherence denominator, whatever the ring recorded;
- ``not_synced``: no Oura document of any kind on this day or any later day of the participant
  (the ring stopped syncing);
- ``not_worn``: a ``daily_activity`` document with ``non_wear_time`` of at least 12 h and no sleep
  period;
- ``no_main_sleep``: sleep periods, but only naps, rest, deleted or unclassified ones (Oura leaves
  ``type`` empty for a period it did not classify: never a main sleep);
- ``no_sleep_recorded``: other Oura documents that day, no sleep period;
- ``no_data``: no Oura document at all that day although the ring synced later. The SAP's five
  reasons leave this night without one; it is named rather than folded into another reason.

Participants never dosed have no study days and no rows (the participant flow counts them).
"""
from __future__ import annotations

import pandas as pd

from mglt_pipeline.analysis.nightly import select_main_sleep
from mglt_pipeline.analysis.study_days import derive_visit
from mglt_pipeline.visits import VISIT_NUM, VISIT_WINDOWS

WITHDRAWN = "withdrawn"
NOT_SYNCED = "not_synced"
NOT_WORN = "not_worn"
NO_MAIN_SLEEP = "no_main_sleep"
NO_SLEEP_RECORDED = "no_sleep_recorded"
NO_DATA = "no_data"
REASONS: tuple[str, ...] = (WITHDRAWN, NOT_SYNCED, NOT_WORN, NO_MAIN_SLEEP, NO_SLEEP_RECORDED, NO_DATA)
"""Reasons a night has no main sleep, in the order they are tried (the first that applies wins)."""
MISSING_REASONS: tuple[str, ...] = REASONS[1:]
"""The reasons of nights inside the study (``withdrawn`` nights are outside it)."""
NON_WEAR_SECONDS = 12 * 3600
STUDY_NIGHTS: tuple[int, ...] = tuple(d for d in range(VISIT_WINDOWS[0].first_day, VISIT_WINDOWS[-1].last_day + 1)
                                      if d != 0)
COLUMNS = ["participant_id", "arm", "study_day", "night", "visit", "visit_num", "main_sleep", "in_study", "reason"]
KEY = ["participant_id", "day"]


def night_date(first_dose_on: pd.Series, study_day: pd.Series) -> pd.Series:
    """The calendar date of ``study_day`` for a first dose on ``first_dose_on`` (Day 1; no Day 0)."""
    offset = study_day.where(study_day < 0, study_day - 1)
    return pd.to_datetime(first_dose_on).dt.normalize() + pd.to_timedelta(offset, unit="D")


def study_night_grid(participants: pd.DataFrame, arms: pd.DataFrame, not_randomized: str) -> pd.DataFrame:
    """One row per dosed participant and study night: ``participant_id``, ``arm``, ``study_day``,
    ``night``, ``visit``, ``visit_num``, ``withdrawn_on``. ``arms`` gives ``participant_id`` and
    ``arm``; a dosed participant who was never randomized gets ``not_randomized``."""
    people = participants.loc[participants["first_dose_on"].notna(),
                              ["participant_id", "first_dose_on", "withdrawn_on"]].drop_duplicates("participant_id")
    people = people.merge(arms[["participant_id", "arm"]], on="participant_id", how="left")
    people["arm"] = people["arm"].astype(object).where(people["arm"].notna(), not_randomized)
    grid = people.merge(pd.DataFrame({"study_day": list(STUDY_NIGHTS)}), how="cross")
    grid["night"] = night_date(grid["first_dose_on"], grid["study_day"])
    grid["visit"] = derive_visit(grid["study_day"])
    grid["visit_num"] = grid["visit"].map(VISIT_NUM).astype(int)
    return grid.drop(columns="first_dose_on")


def _days(frame: pd.DataFrame, flag: str) -> pd.DataFrame:
    """Distinct participant days of ``frame`` with ``flag`` set True."""
    days = frame[KEY].assign(day=pd.to_datetime(frame["day"]).dt.normalize()).drop_duplicates()
    return days.assign(**{flag: True})


def oura_days(sleep_periods: pd.DataFrame, daily_sleep: pd.DataFrame, daily_activity: pd.DataFrame,
              daily_readiness: pd.DataFrame) -> pd.DataFrame:
    """Per participant and Oura day: ``any_document``, ``any_period``, ``main_sleep``, ``non_wear``
    (a daily_activity document with at least 12 h of non-wear time)."""
    documents = pd.concat([t[KEY] for t in (sleep_periods, daily_sleep, daily_activity, daily_readiness)])
    non_wear = daily_activity.loc[pd.to_numeric(daily_activity["non_wear_time"], errors="coerce") >= NON_WEAR_SECONDS]
    days = _days(documents, "any_document")
    for frame, flag in ((sleep_periods, "any_period"), (select_main_sleep(sleep_periods), "main_sleep"),
                        (non_wear, "non_wear")):
        days = days.merge(_days(frame, flag), on=KEY, how="left")
    flags = ["any_period", "main_sleep", "non_wear"]
    days[flags] = days[flags].notna()  # True where the day is in that set, NaN elsewhere
    return days


def classify_nights(grid: pd.DataFrame, days: pd.DataFrame) -> pd.DataFrame:
    """``grid`` with ``main_sleep``, ``in_study`` and ``reason`` (null for a night with a main sleep
    inside the study), by the rules of the module docstring."""
    last_synced = days.groupby("participant_id")["day"].max().rename("last_synced")
    nights = grid.merge(days.rename(columns={"day": "night"}), on=["participant_id", "night"], how="left")
    nights = nights.merge(last_synced, left_on="participant_id", right_index=True, how="left")
    flags = ["any_document", "any_period", "main_sleep", "non_wear"]
    nights[flags] = nights[flags].eq(True)
    withdrawn = nights["withdrawn_on"].notna() & (nights["night"] > pd.to_datetime(nights["withdrawn_on"]))
    not_synced = nights["last_synced"].isna() | (nights["night"] > nights["last_synced"])
    rules = [
        (WITHDRAWN, withdrawn),
        (None, nights["main_sleep"]),
        (NOT_SYNCED, not_synced),
        (NOT_WORN, nights["non_wear"] & ~nights["any_period"]),
        (NO_MAIN_SLEEP, nights["any_period"]),
        (NO_SLEEP_RECORDED, nights["any_document"]),
        (NO_DATA, pd.Series(True, index=nights.index)),
    ]
    reason = pd.Series(None, index=nights.index, dtype=object)
    decided = pd.Series(False, index=nights.index)
    for name, applies in rules:
        reason = reason.mask(applies & ~decided, name)
        decided |= applies
    nights["reason"] = reason.astype(object).where(reason.notna(), None)
    nights["in_study"] = ~withdrawn
    return nights


def derive_adherence(participants: pd.DataFrame, arms: pd.DataFrame, sleep_periods: pd.DataFrame,
                     daily_sleep: pd.DataFrame, daily_activity: pd.DataFrame, daily_readiness: pd.DataFrame,
                     not_randomized: str) -> pd.DataFrame:
    """The ``adherence`` table: one row per dosed participant and study night (``COLUMNS``)."""
    grid = study_night_grid(participants, arms, not_randomized)
    nights = classify_nights(grid, oura_days(sleep_periods, daily_sleep, daily_activity, daily_readiness))
    return nights[COLUMNS].sort_values(["participant_id", "study_day"]).reset_index(drop=True)
