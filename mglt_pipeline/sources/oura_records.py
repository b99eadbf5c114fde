"""One record model per Oura collection, whichever way the records arrived.

Each record becomes one row of its collection's columns (``oura_collections.Collection.values``,
nested ``contributors`` flattened), with where it came from: ``participant_id`` (the folder),
``source_format`` (``api``, ``export``, ``trends``), ``source_file``, and the bookkeeping columns
``_row`` (record id, or its 1-based position in the file when it has none), ``_line`` (CSV line),
``_pos`` (position in the file), ``_order`` (the file's place in natural name order), ``_updated_at``
(``meta.updated_at`` of a restated record) and ``key`` (DATA_CONTRACT.md: the ``id``; without one,
the ``day`` for daily documents and the ``bedtime_start`` for sleep periods; the date of a Trends row).

Values stay as read (JSON values, CSV text): the schema types them, so a bad cell is reported as
read. JSON is parsed with ``NaN`` and ``Infinity`` kept as text, so that they are judged as the
non-numbers they are instead of turning silently into missing values. Rows are gathered as tuples
per batch of participant folders, and only the columns used are kept, so memory follows the batch.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from mglt_pipeline.sources.files import LINE, ROW
from mglt_pipeline.sources.oura_collections import NO_HEART_RATE, SOURCE_FORMAT, Collection
from mglt_pipeline.validation.quarantine import SOURCE_FILE

POS, ORDER, UPDATED_AT, KEY = "_pos", "_order", "_updated_at", "key"
BOOKKEEPING = [ROW, LINE, POS, ORDER, UPDATED_AT, KEY]
_EMPTY: dict = {}


def load_json(path: Path) -> object:
    """A JSON file, ``NaN``/``Infinity`` kept as the text they are (never a float)."""
    with open(path, encoding="utf-8-sig") as handle:
        return json.load(handle, parse_constant=str)


def api_records(document: object) -> tuple[list[dict], object]:
    """The records and ``next_token`` of an API v2 collection response ``{"data": [...]}``."""
    records = document.get("data") if isinstance(document, dict) else None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise ValueError('it is not an Oura API collection response {"data": [...]}')
    return records, document.get("next_token")


def export_records(document: object, collection: str) -> list[dict]:
    """The records of an account-export JSON ``{"<collection>": [...]}``."""
    records = document.get(collection) if isinstance(document, dict) else None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise ValueError(f'it is not an Oura account export {{"{collection}": [...]}}')
    return records


class CollectionRows:
    """The rows of one collection gathered from many files, turned into one frame on demand."""

    def __init__(self, collection: Collection):
        self.collection = collection
        self.flat = [c for c in collection.values if not c.startswith("contributors_")]
        self.nested = list(collection.contributors)
        self.tuples: list[tuple] = []
        self.files: list[tuple[str, str, str, int, int]] = []
        self.frames: list[pd.DataFrame] = []

    def __len__(self) -> int:
        return len(self.tuples) + sum(len(f) for f in self.frames)

    def add_json(self, records: list[dict], participant: str, file: str, way: str, order: int) -> None:
        """Records of one JSON file (API or export)."""
        flat, nested, daily, append = self.flat, self.nested, self.collection.daily, self.tuples.append
        for pos, record in enumerate(records, start=1):
            contributors = record.get("contributors")
            if contributors.__class__ is not dict:
                contributors = _EMPTY
            meta = record.get("meta")
            restated = meta.get("updated_at") if meta.__class__ is dict else None
            record_id = record.get("id")
            if record_id is None or record_id == "":
                row, key = str(pos), record.get("day") if daily else record.get("bedtime_start")
            else:
                row = key = record_id if record_id.__class__ is str else str(record_id)
            append((*map(record.get, flat), *map(contributors.get, nested), row, None, pos, order, restated, key))
        self.files.append((participant, file, way, order, len(records)))

    def add_frame(self, frame: pd.DataFrame, participant: str, file: str, way: str, order: int) -> None:
        """Rows of one CSV file (export twin or Trends): text cells, ``_row`` and ``_line`` given."""
        out = frame.reindex(columns=[*self.collection.values, ROW, LINE]).astype(object)
        out = out.where(out.notna(), None)
        out.insert(0, "participant_id", participant)
        out[SOURCE_FORMAT], out[SOURCE_FILE] = way, file
        out[POS], out[ORDER], out[UPDATED_AT] = np.arange(1, len(out) + 1), order, None
        if way == "trends":
            out[KEY] = out["day"]
        else:
            ids = out["id"].where(out["id"].notna() & (out["id"] != ""), None)
            out[KEY] = ids.where(ids.notna(), out["day" if self.collection.daily else "bedtime_start"])
        self.frames.append(out)

    def frame(self) -> pd.DataFrame:
        """Every gathered row as one frame (``lowest_heart_rate`` 255, no data, read as missing)."""
        columns = [*self.collection.values, *BOOKKEEPING]
        parts = list(self.frames)
        if self.tuples:
            owners = np.array([f[:3] for f in self.files], dtype=object)
            counts = [f[4] for f in self.files]
            json_rows = pd.DataFrame(self.tuples, columns=columns, dtype=object)  # values as read: the engine types them
            json_rows.insert(0, "participant_id", np.repeat(owners[:, 0], counts))
            json_rows[SOURCE_FILE] = np.repeat(owners[:, 1], counts)
            json_rows[SOURCE_FORMAT] = np.repeat(owners[:, 2], counts)
            parts.insert(0, json_rows)
        order = ["participant_id", *self.collection.values, SOURCE_FORMAT, SOURCE_FILE, *BOOKKEEPING]
        if not parts:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in order})
        with warnings.catch_warnings():  # the engine types every column: the concat's dtype is not used
            warnings.simplefilter("ignore", FutureWarning)
            rows = pd.concat([p[order] for p in parts], ignore_index=True) if len(parts) > 1 else parts[0][order]
        if "lowest_heart_rate" in rows:
            rate = rows["lowest_heart_rate"]
            numbers = pd.to_numeric(rate, errors="coerce") if rate.dtype == object else rate
            no_data = (numbers == NO_HEART_RATE).to_numpy()
            if no_data.any():
                rows["lowest_heart_rate"] = rate.where(~no_data) if rate.dtype.kind == "f" else \
                    rate.astype(object).mask(no_data, None)
        return rows
