"""One row per participant and Oura day: the nightly and daily Oura outcomes (table ``oura_nightly``).

Rules (DATA_CONTRACT.md "Oura ring", INSTRUMENTS.md "Oura"):
- the night of a participant is the Oura ``day`` of the documents, taken as given;
- the main sleep of a day is its ``long_sleep`` period, the longest ``total_sleep_duration`` if there
  are several; naps (``sleep``, ``late_nap``), ``rest``, ``deleted`` and unclassified periods (no
  ``type``) never count;
- ``lowest_heart_rate`` 255 means no data.
Which collection and field each outcome reads, and its unit conversion, is the registry's ``raw``
field (``registry.OuraField``) of the outcomes whose ``source`` is ``oura_nightly``, so an added Oura
outcome needs no code here.
"""
from __future__ import annotations

import pandas as pd

from mglt_pipeline.analysis.study_days import add_study_day_and_visit
from mglt_pipeline.registry import OuraField, outcomes_from
from mglt_pipeline.sources.oura_collections import NO_HEART_RATE

SOURCE = "oura_nightly"
MAIN_SLEEP_TYPE = "long_sleep"
KEY = ["participant_id", "day"]
COLLECTIONS = ("daily_sleep", "sleep", "daily_activity", "daily_readiness")


def oura_fields() -> dict[str, OuraField]:
    """Outcome id -> the Oura field it reads, for every registry outcome derived in ``oura_nightly``."""
    return {o.id: o.raw for o in outcomes_from(SOURCE)}


def select_main_sleep(sleep_periods: pd.DataFrame) -> pd.DataFrame:
    """The main sleep of each participant and day: the longest ``long_sleep`` period.

    Ties on duration keep the period with the smallest ``id`` (then the earliest ``bedtime_start``,
    for records without an id) so the choice is reproducible.
    """
    long_sleeps = sleep_periods[(sleep_periods["type"] == MAIN_SLEEP_TYPE).fillna(False).astype(bool)]
    ties = [c for c in ("id", "bedtime_start") if c in long_sleeps]
    ordered = long_sleeps.sort_values(KEY + ["total_sleep_duration", *ties],
                                      ascending=[True, True, False, *(True for _ in ties)], na_position="last")
    main = ordered.drop_duplicates(KEY, keep="first").copy()
    if "lowest_heart_rate" in main:
        main["lowest_heart_rate"] = main["lowest_heart_rate"].where(main["lowest_heart_rate"] != NO_HEART_RATE)
    return main


def _document_values(document: pd.DataFrame, fields: dict[str, OuraField]) -> pd.DataFrame:
    """One row per participant and day of one document, with its outcome columns."""
    one_per_day = document.drop_duplicates(KEY, keep="last")
    values = one_per_day[KEY].copy()
    for outcome_id, field in fields.items():
        column = pd.to_numeric(one_per_day[field.column], errors="coerce").astype(float)
        values[outcome_id] = column / field.divide_by
    return values


def derive_oura_nightly(
    daily_sleep: pd.DataFrame,
    sleep_periods: pd.DataFrame,
    daily_activity: pd.DataFrame,
    daily_readiness: pd.DataFrame,
    participants: pd.DataFrame,
) -> pd.DataFrame:
    """One row per participant and Oura day with any document: study day, visit and Oura outcomes.

    A day present in one document only keeps nulls for the others' outcomes (not valid that day).
    """
    documents = {
        "daily_sleep": daily_sleep,
        "sleep": select_main_sleep(sleep_periods),
        "daily_activity": daily_activity,
        "daily_readiness": daily_readiness,
    }
    fields = oura_fields()
    nightly = pd.DataFrame({"participant_id": pd.Series(dtype=object), "day": pd.Series(dtype="datetime64[ns]")})
    for name in COLLECTIONS:
        own = {outcome_id: f for outcome_id, f in fields.items() if f.collection == name}
        document = documents[name][KEY + sorted({f.column for f in own.values()})]
        document = document.assign(day=pd.to_datetime(document["day"]))
        nightly = nightly.merge(_document_values(document, own), on=KEY, how="outer")
    nightly = add_study_day_and_visit(nightly, "day", participants)
    columns = KEY + ["study_day", "visit", "visit_num"] + list(fields)
    return nightly[columns].sort_values(KEY).reset_index(drop=True)
