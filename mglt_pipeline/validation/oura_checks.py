"""The rules every Oura record is judged by, whichever way it arrived.

The collection's schema (``oura_schemas``) through the validation engine: each field typed and
checked on its own, a bad key field (or a broken day or 24-hour rule of a sleep period) rejecting
the record, any other bad field rejecting that field only; a record of a folder that is not a
participant of participants.csv is rejected. Entries carry the record id (or position), the CSV
line, the participant (the folder) and the key (the ``day``).
"""
from __future__ import annotations

from functools import lru_cache

import pandas as pd
import pandera.pandas as pa

from mglt_pipeline.sources.oura_collections import Collection
from mglt_pipeline.validation.engine import validate_rows, with_known_participants
from mglt_pipeline.validation.oura_schemas import CROSS_FIELD_RULES, SCHEMAS


def collection_schemas(known: pd.Series) -> dict[str, pa.DataFrameSchema]:
    """Each collection's schema with the rule that the folder names a participant of
    participants.csv (the same for every batch, and for every read of the same participants:
    copying the four schemas is a fixed cost worth paying once)."""
    return dict(_schemas(tuple(known)))


@lru_cache(maxsize=2)
def _schemas(known: tuple) -> dict[str, pa.DataFrameSchema]:
    return {name: with_known_participants(model.to_schema(), known) for name, model in SCHEMAS.items()}


def validate_collection(rows: pd.DataFrame, collection: Collection, schema: pa.DataFrameSchema
                        ) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Records of one collection -> (valid records, quarantine entries, records rejected)."""
    return validate_rows(rows, schema, "oura", key_column="day",
                         rules=CROSS_FIELD_RULES.get(collection.name, ()))
