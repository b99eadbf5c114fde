"""The rules every Oura record is judged by, whichever way it arrived.

Field rules come from the collection's schema (``oura_schemas``) through the validation engine; a
record of a folder that is not a participant of participants.csv is rejected. Sleep periods are
then held to the two rules that place them (``oura_rules``): the day rule (DATA_CONTRACT.md: a
period whose ``day`` breaks it is inconsistent and quarantined, so that it never takes another
night's place) and the length rule (0 to 24 hours: a 30-hour period is not a night's sleep).
"""
from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from mglt_pipeline.sources.files import ROW
from mglt_pipeline.sources.oura_collections import Collection
from mglt_pipeline.sources.oura_records import LINE
from mglt_pipeline.validation.engine import validate_rows, with_known_participants
from mglt_pipeline.validation.oura_rules import day_rule_mismatches, length_mismatches, period_hours, oura_day
from mglt_pipeline.validation.oura_schemas import SCHEMAS
from mglt_pipeline.validation.quarantine import SOURCE_FILE, concat_quarantine, quarantine_frame

DAY_RULE = ("day must be Oura's day of bedtime_end (its local date, plus one day from 18:00 local): "
            "the period is inconsistent and is not used")
LENGTH_RULE = "a sleep period lasts from 0 to 24 hours (bedtime_start to bedtime_end)"


def _record_entries(rows: pd.DataFrame, field: str, values: pd.Series, rule: str) -> pd.DataFrame:
    return quarantine_frame(pd.DataFrame({
        "source": "oura", "file": rows[SOURCE_FILE].to_numpy(), "row": rows[ROW].to_numpy(),
        "line": rows[LINE].to_numpy(), "participant_id": rows["participant_id"].to_numpy(),
        "key": pd.to_datetime(rows["day"]).dt.strftime("%Y-%m-%d").to_numpy(), "field": field,
        "value": values.to_numpy(), "rule": rule}))


def period_rules(periods: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Valid sleep periods -> (periods kept, entries, periods rejected) by the day and length rules."""
    wrong_day = day_rule_mismatches(periods)
    day_text = pd.to_datetime(wrong_day["day"]).dt.strftime("%Y-%m-%d")
    expected = oura_day(wrong_day["bedtime_end"]).dt.strftime("%Y-%m-%d")
    day_entries = _record_entries(wrong_day, "day", day_text,
                                  DAY_RULE).assign(rule=(DAY_RULE + "; expected " + expected).to_numpy())
    too_long = length_mismatches(periods.drop(index=wrong_day.index))
    hours = period_hours(too_long).round(2).astype(str) + " h"
    length_entries = _record_entries(too_long, "bedtime_end", too_long["bedtime_end"].astype(str), LENGTH_RULE)
    length_entries["value"] = (too_long["bedtime_end"].astype(str) + " (" + hours + ")").to_numpy()
    rejected = wrong_day.index.union(too_long.index)
    return periods.drop(index=rejected), concat_quarantine([day_entries, length_entries]), len(rejected)


def collection_schemas(known: pd.Series) -> dict[str, pa.DataFrameSchema]:
    """Each collection's schema with the rule that the folder names a participant of
    participants.csv (built once per read: the schemas are the same for every batch)."""
    return {name: with_known_participants(model.to_schema(), known) for name, model in SCHEMAS.items()}


def validate_collection(rows: pd.DataFrame, collection: Collection, schema: pa.DataFrameSchema
                        ) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Records of one collection -> (valid records, quarantine entries, records rejected)."""
    valid, entries, rejected = validate_rows(rows, schema, "oura")
    if collection.name == "sleep" and len(valid):
        valid, more, dropped = period_rules(valid)
        entries, rejected = concat_quarantine([entries, more]), rejected + dropped
    return valid, entries, rejected
