"""Row rules through pandera: lazy validation, failure cases turned into quarantine entries.

The schema (one ``DataFrameModel`` per table) is the only statement of the row rules; this module
runs it lazily, so every failure of every file is collected at once, and maps each failure case back
to the file and line (or Oura record id) it came from. The rule sentence of a failure is the field's
``description`` ("isi_3" + "must be an integer from 0 to 4").
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from mglt_pipeline.sources.files import ROW
from mglt_pipeline.validation.quarantine import SOURCE_FILE, quarantine_frame

KNOWN_PARTICIPANT = "known_participant"
_KNOWN_RULE = "must be a participant listed in participants.csv"


def with_known_participants(schema: pa.DataFrameSchema, known: pd.Series | set | list,
                            column: str = "participant_id") -> pa.DataFrameSchema:
    """``schema`` plus the rule that ``column`` names a participant of participants.csv."""
    known_ids = pd.Index(pd.unique(pd.Series(list(known), dtype=object)))
    check = pa.Check(lambda s: s.isin(known_ids), name=KNOWN_PARTICIPANT,
                     error=f"{column} {_KNOWN_RULE}")
    current = schema.columns[column]
    return schema.update_column(column, checks=[*current.checks, check])


def rule_sentence(schema: pa.DataFrameSchema, column: str, check: str) -> str:
    """The sentence a data manager reads for a failed ``check`` on ``column``."""
    if check == KNOWN_PARTICIPANT or check.endswith(_KNOWN_RULE):
        return f"{column} {_KNOWN_RULE}"
    spec = schema.columns.get(column)
    if spec is None:
        spec = next((c for name, c in schema.columns.items()
                     if c.regex and re.fullmatch(name, column)), None)
    if spec is not None and spec.description:
        return f"{column} {spec.description}"
    return f"{column} fails the rule {check}"


def value_text(value: object) -> str | None:
    """A cell as the data manager would have read it: text, whole floats without ``.0``."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _row_failures(errors: SchemaErrors, columns: pd.Index) -> pd.DataFrame:
    """The failure cases that point at a row and a real column, one per (row, column)."""
    cases = errors.failure_cases
    cases = cases[cases["index"].notna() & cases["column"].isin(columns)]
    return cases.drop_duplicates(subset=["index", "column"], keep="first")


def _is_type_failure(check: pd.Series) -> pd.Series:
    return check.astype(str).str.startswith(("coerce_dtype(", "dtype("))


def _failures(frame: pd.DataFrame, schema: pa.DataFrameSchema) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """All row failure cases of ``frame``: cells that cannot take their type, then every other
    rule on the remaining cells (type failures blanked so the typed rules can run on the rest).
    With no failure, also the validated (typed) frame, so that a clean file is validated once."""
    try:
        return pd.DataFrame(columns=["index", "column", "check"]), schema.validate(frame, lazy=True)
    except SchemaErrors as errors:
        first = _row_failures(errors, frame.columns)
    typed = first[_is_type_failure(first["check"])]
    if typed.empty:
        if first.empty:
            schema.validate(frame, lazy=True)
        return first, None
    blanked = frame.copy()
    for column, cases in typed.groupby("column"):
        blanked.loc[cases["index"].astype(int).to_numpy(), column] = np.nan
    try:
        schema.validate(blanked, lazy=True)
        return typed, None
    except SchemaErrors as errors:
        second = _row_failures(errors, frame.columns)
    if second.empty:
        raise errors
    cells = pd.MultiIndex.from_frame(typed[["index", "column"]].astype({"index": int}))
    own = pd.MultiIndex.from_frame(second[["index", "column"]].astype({"index": int}))
    return pd.concat([typed, second[~own.isin(cells)]], ignore_index=True), None


def validate_rows(frame: pd.DataFrame, schema: pa.DataFrameSchema, source: str
                  ) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Split ``frame`` into its valid rows (typed by ``schema``) and quarantine entries.

    ``frame`` carries ``source_file`` and ``_row`` beside the data. Every fault of every row is an
    entry; a row with any fault is left out of the valid rows. Returns (valid rows, entries,
    number of rows quarantined).
    """
    frame = frame.reset_index(drop=True)
    cases, validated = _failures(frame, schema)
    if cases.empty:
        valid = validated if validated is not None else schema.validate(frame, lazy=True)
        return valid, quarantine_frame([]), 0
    bad = pd.unique(cases["index"].astype(int))
    valid = schema.validate(frame.drop(index=bad), lazy=True)
    return valid, _entries(frame, cases, schema, source), len(bad)


def _entries(frame: pd.DataFrame, cases: pd.DataFrame, schema: pa.DataFrameSchema,
             source: str) -> pd.DataFrame:
    """Quarantine entries for failure cases: file and row from ``frame``, value as read."""
    index = cases["index"].astype(int).to_numpy()
    values = [value_text(frame.at[i, c]) for i, c in zip(index, cases["column"])]
    rules = [rule_sentence(schema, c, str(k)) for c, k in zip(cases["column"], cases["check"])]
    entries = pd.DataFrame({
        "source": source,
        "file": frame[SOURCE_FILE].to_numpy()[index],
        "row": frame[ROW].to_numpy()[index],
        "field": cases["column"].to_numpy(),
        "value": values,
        "rule": rules,
        "_order": index,
    })
    entries = entries.sort_values(["_order", "field"], kind="stable").drop(columns="_order")
    return quarantine_frame(entries)
