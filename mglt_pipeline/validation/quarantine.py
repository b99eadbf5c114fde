"""The quarantine and the set-aside list: what bad input gets, what is not read, and the counts.

DATA_CONTRACT.md, "What bad input gets": every rejected value, row or file becomes one or more
quarantine entries with the columns of the ``quarantine`` table (docs/TABLES.md); every row, file or
folder that is not used although nothing is wrong with it (another REDCap event, an Oura collection
that is not analysed, an unknown file name) is a ``set_aside`` entry with its reason, so that nothing
is skipped without a word. A source's clean table, its entries and its counts travel together as
an ``Ingested`` record, whose counts add up:
rows read = clean + quarantined + superseded + set aside.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

QUARANTINE_COLUMNS = ("source", "file", "row", "line", "participant_id", "key", "field", "value", "rule")
"""``row``: 1-based CSV record (header excluded), Oura record id or position; empty for a whole file.
``line``: 1-based line of the file where the record starts (CSV). ``key``: event, date or day."""
SET_ASIDE_COLUMNS = ("source", "file", "row", "participant_id", "key", "reason")
"""One entry per file, folder or row that is not read or not used, with the reason (a sentence)."""
SOURCE_FILE = "source_file"
_EMPTY = {columns: pd.DataFrame({c: pd.Series([], dtype="string") for c in columns})
          for columns in (QUARANTINE_COLUMNS, SET_ASIDE_COLUMNS)}


@dataclass
class Ingested:
    """One clean table with its quarantine entries and its row counts (counting source rows)."""

    clean: pd.DataFrame
    quarantine: pd.DataFrame
    rows_read: int
    rows_quarantined: int
    rows_superseded: int
    files: list[str] = field(default_factory=list)
    set_aside: pd.DataFrame | None = None
    rows_set_aside: int = 0
    dropped_identifiers: dict[str, list[str]] = field(default_factory=dict)
    source_rows_clean: int | None = None
    columns_ignored: dict[str, list[str]] = field(default_factory=dict)
    """Per file, the columns read past (not in the table, not identifiers): listed, never silent."""
    redactions: int = 0
    """E-mail addresses and phone numbers replaced by ``[redacted]`` in free text."""
    error: str | None = None
    """Why the whole source failed (its clean table then empty), e.g. a data-dictionary mismatch."""

    @property
    def rows_clean(self) -> int:
        """Clean source rows (REDCap: export rows, not the item rows they become)."""
        return len(self.clean) if self.source_rows_clean is None else self.source_rows_clean

    @property
    def set_aside_entries(self) -> pd.DataFrame:
        """The set-aside entries (an empty table when there are none)."""
        return set_aside_frame([]) if self.set_aside is None else self.set_aside


def _text_frame(entries: pd.DataFrame | list[dict], columns: tuple[str, ...]) -> pd.DataFrame:
    """Entries in ``columns`` order, every column as text (missing stays missing), so that DuckDB
    types them VARCHAR even when there are none."""
    if len(entries) == 0:
        return _EMPTY[columns].copy()
    frame = pd.DataFrame(entries)
    if frame.empty:
        return _EMPTY[columns].copy()
    return frame.reindex(columns=list(columns)).astype("string").reset_index(drop=True)


def empty_quarantine() -> pd.DataFrame:
    """A quarantine table with no entries."""
    return _text_frame([], QUARANTINE_COLUMNS)


def quarantine_frame(entries: pd.DataFrame | list[dict]) -> pd.DataFrame:
    """Entries in the quarantine's column order, every column as text (missing stays missing)."""
    return _text_frame(entries, QUARANTINE_COLUMNS)


def concat_quarantine(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Several sources' or files' quarantine entries as one table."""
    parts = [p for p in parts if p is not None and len(p)]
    if not parts:
        return empty_quarantine()
    return quarantine_frame(pd.concat(parts, ignore_index=True))


def set_aside_frame(entries: pd.DataFrame | list[dict]) -> pd.DataFrame:
    """Set-aside entries in the ``set_aside`` table's column order, every column as text."""
    return _text_frame(entries, SET_ASIDE_COLUMNS)


def concat_set_aside(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Several sources' or files' set-aside entries as one table."""
    parts = [p for p in parts if p is not None and len(p)]
    return set_aside_frame(pd.concat(parts, ignore_index=True) if parts else [])


def file_entry(source: str, file: str, field_name: str, value: str, rule: str) -> dict:
    """The one entry of a whole file that cannot be used (row left empty; an empty field or value
    is missing, not an empty string)."""
    return {"source": source, "file": file, "row": None, "field": field_name or None, "value": value or None,
            "rule": rule}


def set_aside_entry(source: str, file: str, reason: str, row: str | None = None,
                    participant_id: str | None = None, key: str | None = None) -> dict:
    """One file, folder or row not read or not used, and why (row empty for a whole file)."""
    return {"source": source, "file": file, "row": row, "participant_id": participant_id,
            "key": key, "reason": reason}


def supersede(frame: pd.DataFrame, key: list[str]) -> tuple[pd.DataFrame, int]:
    """One row per key, the copy read last winning, and the number of copies superseded.

    ``frame`` holds clean rows in reading order (files sorted by name, then line order), so the
    last copy of a key is the one from the file that sorts last (DATA_CONTRACT.md). Quarantined rows
    are already out, so they never supersede a good row.
    """
    duplicated = frame.duplicated(subset=key, keep="last")
    return frame.loc[~duplicated].reset_index(drop=True), int(duplicated.sum())
