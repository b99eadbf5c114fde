"""The report's data listings: every quarantined row and everything set aside, as display text.

DATA_CONTRACT.md: the report lists every quarantined row (file, row, line, participant, key, field,
value, rule). A long listing is cut at ``LISTING_LIMIT`` rows, and the note under it gives the count
and where the rest are: the warehouse table of the same name, which always holds every entry.
"""
from __future__ import annotations

import re

import pandas as pd

from mglt_pipeline.report.formatting import MISSING

LISTING_LIMIT = 300
QUARANTINE_COLUMNS = {"file": "File", "row": "Row", "line": "Line", "participant_id": "Participant",
                      "key": "Key", "field": "Field", "value": "Value", "rule": "Rule"}
SET_ASIDE_COLUMNS = {"source": "Source", "file": "File", "row": "Row", "participant_id": "Participant",
                     "key": "Key", "reason": "Reason"}
_NUMBER = re.compile(r"(\d+)")


def _natural(value: object) -> tuple:
    """Sort key that compares the numbers inside a text as numbers (``export_2`` before ``export_10``)."""
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    return tuple(int(part) if part.isdigit() else part for part in _NUMBER.split(text))


def _listing(frame: pd.DataFrame, columns: dict[str, str], order: list[str], limit: int) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame(columns=list(columns.values()))
    rows = frame.reindex(columns=list(columns)).astype(object)
    rows = rows.sort_values(order, key=lambda c: c.map(_natural), kind="stable").head(limit)
    return rows.where(rows.notna(), MISSING).astype(str).rename(columns=columns).reset_index(drop=True)


def quarantine_listing(quarantine: pd.DataFrame, limit: int = LISTING_LIMIT) -> pd.DataFrame:
    """Quarantined entries by file (natural order), row and field: the first ``limit``."""
    return _listing(quarantine, QUARANTINE_COLUMNS, ["file", "row", "field"], limit)


def set_aside_listing(set_aside: pd.DataFrame, limit: int = LISTING_LIMIT) -> pd.DataFrame:
    """Set-aside entries by source, file (natural order) and row: the first ``limit``."""
    return _listing(set_aside, SET_ASIDE_COLUMNS, ["source", "file", "row"], limit)


def listing_note(total: int, table: str, limit: int = LISTING_LIMIT) -> str:
    """What the listing shows: all entries, or the first ``limit`` and where the rest are."""
    if total <= limit:
        return f"All {total} entries; also in the warehouse table {table}."
    return (f"The first {limit} of {total} entries; all {total} are in the warehouse table {table} "
            f"(warehouse.duckdb under the data root).")
