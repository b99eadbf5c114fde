"""One row per participant and Oura day: the nightly and daily Oura outcomes (table ``oura_nightly``).

Rules (DATA_CONTRACT.md "Oura ring", INSTRUMENTS.md "Oura"):
- the night of a participant is the Oura ``day`` of the documents, taken as given;
- the main sleep of a day is its ``long_sleep`` period, the longest ``total_sleep_duration`` if there
  are several; naps (``sleep``, ``late_nap``), ``rest`` and ``deleted`` periods never count;
- ``lowest_heart_rate`` 255 means no data.
Which document and field each outcome reads comes from the registry's ``derivation`` text of the
outcomes whose ``source`` is ``oura_nightly`` (e.g. ``daily_sleep.contributors.deep_sleep``,
``main sleep total_sleep_duration / 60``), so an added Oura outcome needs no code here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from mglt_pipeline.analysis.study_days import add_study_day_and_visit
from mglt_pipeline.registry import Outcome, outcomes_from
from mglt_pipeline.sources.oura import NO_HEART_RATE

SOURCE = "oura_nightly"
MAIN_SLEEP_TYPE = "long_sleep"
KEY = ["participant_id", "day"]
DOCUMENTS = ("daily_sleep", "main_sleep", "daily_activity", "daily_readiness")

_DOCUMENT_FIELD = re.compile(r"^(daily_sleep|daily_activity|daily_readiness)\.(contributors\.)?(\w+)$")
_MAIN_SLEEP_FIELD = re.compile(r"^main sleep (\w+)(?: / (\d+))?")


@dataclass(frozen=True)
class OuraField:
    """Where an Oura outcome comes from: document, column of its clean table, and divisor."""

    outcome_id: str
    document: str
    column: str
    divisor: float = 1.0


def oura_field(outcome: Outcome) -> OuraField:
    """Read an Oura outcome's registry ``derivation`` into the document and column it names."""
    document_match = _DOCUMENT_FIELD.match(outcome.derivation)
    if document_match:
        document, contributor, field = document_match.groups()
        column = f"contributors_{field}" if contributor else field
        return OuraField(outcome.id, document, column)
    sleep_match = _MAIN_SLEEP_FIELD.match(outcome.derivation)
    if sleep_match:
        field, divisor = sleep_match.groups()
        return OuraField(outcome.id, "main_sleep", field, float(divisor or 1))
    raise ValueError(
        f"outcome {outcome.id!r}: derivation {outcome.derivation!r} names no Oura document field; "
        "expected 'daily_sleep|daily_activity|daily_readiness.[contributors.]<field>' or "
        "'main sleep <field>[ / <divisor>]'"
    )


def oura_fields() -> tuple[OuraField, ...]:
    """The fields of every registry outcome derived in ``oura_nightly``."""
    return tuple(oura_field(o) for o in outcomes_from(SOURCE))


def select_main_sleep(sleep_periods: pd.DataFrame) -> pd.DataFrame:
    """The main sleep of each participant and day: the longest ``long_sleep`` period.

    Ties on duration keep the period with the smallest ``id`` so the choice is reproducible.
    """
    long_sleeps = sleep_periods[sleep_periods["type"] == MAIN_SLEEP_TYPE]
    ordered = long_sleeps.sort_values(
        KEY + ["total_sleep_duration", "id"], ascending=[True, True, False, True], na_position="last"
    )
    main = ordered.drop_duplicates(KEY, keep="first").copy()
    if "lowest_heart_rate" in main:
        main["lowest_heart_rate"] = main["lowest_heart_rate"].where(main["lowest_heart_rate"] != NO_HEART_RATE)
    return main


def _document_values(document: pd.DataFrame, fields: list[OuraField]) -> pd.DataFrame:
    """One row per participant and day of one document, with its outcome columns."""
    one_per_day = document.drop_duplicates(KEY, keep="last")
    values = one_per_day[KEY].copy()
    for field in fields:
        values[field.outcome_id] = pd.to_numeric(one_per_day[field.column], errors="coerce").astype(float) / field.divisor
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
        "main_sleep": select_main_sleep(sleep_periods),
        "daily_activity": daily_activity,
        "daily_readiness": daily_readiness,
    }
    fields = oura_fields()
    nightly = pd.DataFrame({"participant_id": pd.Series(dtype=object), "day": pd.Series(dtype="datetime64[ns]")})
    for name in DOCUMENTS:
        document = documents[name][KEY + [f.column for f in fields if f.document == name]]
        document = document.assign(day=pd.to_datetime(document["day"]))
        values = _document_values(document, [f for f in fields if f.document == name])
        nightly = nightly.merge(values, on=KEY, how="outer")
    nightly = add_study_day_and_visit(nightly, "day", participants)
    columns = KEY + ["study_day", "visit", "visit_num"] + [f.outcome_id for f in fields]
    return nightly[columns].sort_values(KEY).reset_index(drop=True)
