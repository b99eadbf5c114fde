"""One key, one value: duplicates inside a file surfaced, later files superseding earlier ones.

DATA_CONTRACT.md: within one file a key must be unique. Two rows with one key and the same content
are one row (the copies counted as superseded); with different content they are a conflict: every
row of the key goes to the quarantine with a rule naming the other rows, and the key's value is then
missing, visibly, rather than silently one of the two (a conflict in a later file also supersedes
an earlier file's copy). Across files the later file (natural name order) wins; a row rejected whole
never supersedes a good row of an earlier file.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from mglt_pipeline.sources.files import LINE, ROW
from mglt_pipeline.validation.cells import cell_text
from mglt_pipeline.validation.quarantine import SOURCE_FILE, quarantine_frame

FILE_ORDER = "_file"
"""Column with the position of a row's file in natural name order (the superseding order)."""
CONFLICT = "conflict:"
"""How every conflict rule starts, so that a conflict can be told from other entries."""


def _data_columns(frame: pd.DataFrame, key: list[str]) -> list[str]:
    return [c for c in frame.columns if c not in key and c != SOURCE_FILE and not str(c).startswith("_")]


def content_hash(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """A hash of each row's ``columns`` (their values as text; equal rows have equal hashes)."""
    if not columns or frame.empty:
        return np.zeros(len(frame), dtype=np.uint64)
    return pd.util.hash_pandas_object(frame[columns].astype(object).map(cell_text), index=False).to_numpy()


def _differing(rows: pd.DataFrame, key: list[str]) -> list[str]:
    """The fields whose values differ between the rows of one key (typed values)."""
    columns = _data_columns(rows, key)
    return [c for c in columns if rows[c].astype(object).map(cell_text).nunique(dropna=False) > 1]


def _conflict_entries(rows: pd.DataFrame, key: list[str], source: str, participant_column: str,
                      key_column: str | None) -> list[dict]:
    """One entry per row of a conflicting key: the first differing field, and the other rows."""
    fields = _differing(rows, key)
    first = fields[0] if fields else None
    what = ", ".join(fields) if fields else "how a value is written"
    described = " and ".join(key)
    records = rows.to_dict("records")
    places = [f"row {r[ROW]} (line {r[LINE]})" if r.get(LINE) is not None else f"row {r[ROW]}" for r in records]
    entries = []
    for position, record in enumerate(records):
        others = " and ".join(p for i, p in enumerate(places) if i != position)
        entries.append({
            "source": source, "file": record[SOURCE_FILE], "row": record[ROW], "line": record.get(LINE),
            "participant_id": cell_text(record.get(participant_column)),
            "key": cell_text(record.get(key_column)) if key_column else None,
            "field": first, "value": cell_text(record.get(first)) if first else None,
            "rule": f"{CONFLICT} {others} of the same file has the same {described} "
                    f"with a different {what}; all are quarantined and the value stays missing "
                    "until the conflict is resolved"})
    return entries


def collapse_within_files(valid: pd.DataFrame, key: list[str], source: str, *,
                          participant_column: str = "participant_id", key_column: str | None = None
                          ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, int, int]:
    """Rows whose key repeats inside their file: identical copies (every value equal, a rejected
    cell being missing in both) collapsed to the first, different ones quarantined as a conflict.

    Returns (kept rows, conflict entries, the conflicting keys with their file order, rows
    quarantined as conflicts, identical copies collapsed)."""
    scope = [FILE_ORDER, *key]
    repeated = valid.duplicated(subset=scope, keep=False).to_numpy()
    if not repeated.any():
        return valid, quarantine_frame([]), pd.DataFrame(columns=scope), 0, 0
    groups = valid.loc[repeated]
    groups = groups.assign(_content=content_hash(groups, _data_columns(groups, key)))
    distinct = groups.groupby(scope, sort=False)["_content"].transform("nunique").to_numpy()
    conflicted = np.zeros(len(valid), dtype=bool)
    conflicted[np.flatnonzero(repeated)[distinct > 1]] = True
    copies = repeated & ~conflicted & valid.duplicated(subset=scope, keep="first").to_numpy()
    entries = [e for _, rows in valid.loc[conflicted].groupby(scope, sort=False)
               for e in _conflict_entries(rows, key, source, participant_column, key_column)]
    markers = valid.loc[conflicted, scope].drop_duplicates()
    kept = valid.loc[~conflicted & ~copies].reset_index(drop=True)
    return kept, quarantine_frame(entries), markers, int(conflicted.sum()), int(copies.sum())


def supersede_files(kept: pd.DataFrame, conflicts: pd.DataFrame, key: list[str]) -> tuple[pd.DataFrame, int]:
    """One row per key, the copy of the latest file winning; a conflict stands as that file's
    statement (the key is then absent). Returns (rows, copies superseded)."""
    statements = kept[[FILE_ORDER, *key]].assign(_kept=np.arange(len(kept)))
    if len(conflicts):
        statements = pd.concat([statements, conflicts[[FILE_ORDER, *key]].assign(_kept=-1)], ignore_index=True)
    statements = statements.sort_values(FILE_ORDER, kind="stable")
    winners = statements.drop_duplicates(subset=key, keep="last")["_kept"]
    winners = np.sort(winners[winners >= 0].to_numpy())
    return kept.iloc[winners].reset_index(drop=True), len(kept) - len(winners)


def conflicted_participants(quarantine: pd.DataFrame) -> list[str]:
    """Participants with a conflict entry in ``quarantine`` (e.g. randomized twice)."""
    if quarantine.empty:
        return []
    rows = quarantine[quarantine["rule"].astype("string").str.startswith(CONFLICT).fillna(False)]
    return sorted(rows["participant_id"].dropna().astype(str).unique())
