"""Row rules without a cascade: every cell judged by its own field's rules, the smallest unit rejected.

The pandera model of a table (``validation.schemas``, ``validation.oura_schemas``) is the one
statement of its rules: each field's type, nullability, checks and ``description`` (the rule as a
data manager reads it). This module applies that statement cell by cell (DATA_CONTRACT.md, "What bad
input gets"):
- each column is typed on its own (``validation.cells``): a cell that cannot take the type is
  rejected and missing; no other cell of the column, row or file is judged differently because of it;
- each check of a field runs only on the cells of that field that took their type;
- a field marked ``ROW_KEY`` (keys, the participant, what the row means) rejects its whole row when
  its cell is bad; any other bad cell rejects that cell only (missing in the clean table);
- a ``CrossFieldRule`` (for instance ``withdrawn_on`` not before ``enrolled_on``) rejects its field
  where it breaks, and is judged only where the fields it reads are good themselves.
Every rejected cell is one quarantine entry with file, row, line, participant, key, field, value as
read and rule.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pandera.pandas as pa

from mglt_pipeline.sources.files import LINE, ROW
from mglt_pipeline.validation.cells import cell_text, parse_column
from mglt_pipeline.validation.quarantine import SOURCE_FILE, quarantine_frame

KNOWN_PARTICIPANT = "known_participant"
_KNOWN_RULE = "must be a participant listed in participants.csv"
REJECTS = "rejects"
ROW_KEY = {REJECTS: "row"}
"""Field metadata: a bad value of this field rejects the row (keys and what the row means)."""
value_text = cell_text
_LITERAL = "="
"""Marks a rule code that is its own sentence (a cross-field rule's)."""


@dataclass(frozen=True)
class CrossFieldRule:
    """A rule of ``field`` that reads other fields: ``holds(frame)`` is True where the rule holds
    or cannot be judged (a needed value missing); it is only asked of rows whose ``field`` and
    ``needs`` cells are good."""

    field: str
    needs: tuple[str, ...]
    holds: Callable[[pd.DataFrame], pd.Series]
    sentence: str


def with_known_participants(schema: pa.DataFrameSchema, known: pd.Series | set | list,
                            column: str = "participant_id") -> pa.DataFrameSchema:
    """``schema`` plus the rule that ``column`` names a participant of participants.csv."""
    known_ids = pd.Index(pd.unique(pd.Series(list(known), dtype=object)))
    check = pa.Check(lambda s: s.isin(known_ids), name=KNOWN_PARTICIPANT,
                     error=f"{column} {_KNOWN_RULE}")
    current = schema.columns[column]
    return schema.update_column(column, checks=[*current.checks, check])


def rule_sentence(schema: pa.DataFrameSchema, column: str, check: str) -> str:
    """The sentence a data manager reads for a failed ``check`` on ``column``: the field's
    ``description``; for an unknown participant, that rule's own sentence."""
    if check == KNOWN_PARTICIPANT or check.endswith(_KNOWN_RULE):
        return f"{column} {_KNOWN_RULE}"
    if check.startswith(_LITERAL):
        return f"{column} {check[len(_LITERAL):]}"
    spec = governing_column(schema, column)
    if spec is not None and spec.description:
        return f"{column} {spec.description}"
    return f"{column} fails the rule {check}"


def governing_column(schema: pa.DataFrameSchema, name: str) -> pa.Column | None:
    """The schema column whose rules apply to the frame column ``name`` (its own, or a regex's)."""
    spec = schema.columns.get(name)
    if spec is not None and not spec.regex:
        return spec
    return next((c for pattern, c in schema.columns.items() if c.regex and re.fullmatch(pattern, name)), None)


def rejects_row(column: pa.Column) -> bool:
    """True for a field whose bad value rejects the whole row (``ROW_KEY``)."""
    return (column.metadata or {}).get(REJECTS) == "row"


def judge_column(values: pd.Series, column: pa.Column) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Cells typed by the rules of ``column``, the rejected cells (mask) and, for each, the rule it
    broke (object array: ``""`` for the field's own rule, else the check's name).

    A cell is rejected by the first rule it breaks: its type, then a missing required value, then
    the field's checks in order, each run on the cells that took the type."""
    typed, bad = parse_column(values, column)
    rules = np.full(len(values), None, dtype=object)
    rules[bad] = ""
    present = typed.notna().to_numpy() & ~bad
    if not column.nullable:
        absent = ~present & ~bad
        rules[absent], bad = "", bad | absent
    for check in column.checks:
        if not present.any():
            break
        every = present.all()  # the usual case: no copy, and the output is already in row order
        output = check(typed if every else typed[present]).check_output
        passed = np.ones(len(values), dtype=bool)
        if isinstance(output, pd.Series):
            if not (every and output.index.equals(typed.index)):
                output = output.reindex(typed.index[present])
            passed[present] = output.fillna(False).to_numpy(dtype=bool)
        else:
            passed[present] = bool(output)
        failed = present & ~passed
        rules[failed] = "" if check.name != KNOWN_PARTICIPANT else KNOWN_PARTICIPANT
        bad, present = bad | failed, present & ~failed
    return typed, bad, rules


def _governed(frame: pd.DataFrame, schema: pa.DataFrameSchema) -> list[tuple[pa.Column, list[str]]]:
    """The frame's columns grouped by the schema column that governs them (``isi_1`` .. ``isi_7``
    share one), in frame order, so that a family of columns is judged at once."""
    missing = [n for n, c in schema.columns.items() if c.required and not c.regex and n not in frame.columns]
    if missing:
        raise ValueError(f"the frame lacks the required columns {missing}: the reader checks them first")
    groups: dict[int, tuple[pa.Column, list[str]]] = {}
    for name in frame.columns:
        spec = governing_column(schema, str(name)) if name not in (ROW, LINE) else None
        if spec is not None:
            groups.setdefault(id(spec), (spec, []))[1].append(str(name))
    return list(groups.values())


def _judge_group(frame: pd.DataFrame, column: pa.Column, names: list[str], typed: dict, masks: dict) -> None:
    """Judge every column of one family as one long column, then hand each its part (rejected
    cells already missing)."""
    n = len(frame)
    stacked = pd.Series(np.concatenate([frame[c].to_numpy(dtype=object) for c in names]) if n else [],
                        dtype=object)
    values, bad, rules = judge_column(stacked, column)
    values = values.mask(bad).array if bad.any() else values.array
    for k, name in enumerate(names):
        part = slice(k * n, (k + 1) * n)
        typed[name] = values[part]
        masks[name] = (bad[part], rules[part])


def validate_rows(frame: pd.DataFrame, schema: pa.DataFrameSchema, source: str, *,
                  participant_column: str = "participant_id", key_column: str | None = None,
                  rules: tuple[CrossFieldRule, ...] = ()) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Split ``frame`` into its valid rows (typed by ``schema``) and quarantine entries.

    ``frame`` carries ``source_file`` and ``_row`` (and ``_line`` for CSV) beside the data, cells as
    read. A bad cell of a ``ROW_KEY`` field rejects the row; any other bad cell is missing in the
    valid rows. Every rejected cell is an entry, with the participant and the key (``key_column``:
    event, date or day) as read. Returns (valid rows, entries, number of rows rejected).
    """
    numbered = isinstance(frame.index, pd.RangeIndex) and frame.index.name is None \
        and frame.index.start == 0 and frame.index.step == 1
    if not numbered:  # a copy of every cell only when the rows need numbering 0..n-1
        frame = frame.reset_index(drop=True)
    typed, masks, row_bad = {}, {}, np.zeros(len(frame), dtype=bool)
    for column, names in _governed(frame, schema):
        _judge_group(frame, column, names, typed, masks)
        if rejects_row(column):
            for name in names:
                row_bad |= masks[name][0]
    valid = pd.DataFrame({c: typed[c] if c in typed else frame[c] for c in frame.columns}, index=frame.index)
    for rule in rules:
        broken = _apply_cross_field(rule, valid, masks, schema, row_bad)
        if broken is not None:
            valid[rule.field] = valid[rule.field].mask(broken)
    order = [c for c in frame.columns if c in masks]
    entries = _entries(frame, {c: masks[c] for c in order}, schema, source, participant_column, key_column)
    if row_bad.any():
        valid = valid.loc[~row_bad].reset_index(drop=True)
    return valid, entries, int(row_bad.sum())


def _apply_cross_field(rule: CrossFieldRule, typed: pd.DataFrame, masks: dict, schema: pa.DataFrameSchema,
                       row_bad: np.ndarray) -> np.ndarray | None:
    """Reject ``rule.field`` where the rule breaks, judging only rows whose fields are good;
    returns the cells it rejected (None when none)."""
    if rule.field not in masks or any(n not in typed.columns for n in rule.needs):
        return None
    judged = ~masks[rule.field][0]
    for name in rule.needs:
        if name in masks:
            judged &= ~masks[name][0]
    if not judged.any():
        return None
    holds = np.ones(len(typed), dtype=bool)
    holds[judged] = rule.holds(typed.loc[judged]).fillna(True).to_numpy(dtype=bool)
    broken = judged & ~holds
    if not broken.any():
        return None
    bad, sentences = masks[rule.field]
    sentences[broken] = _LITERAL + rule.sentence
    masks[rule.field] = (bad | broken, sentences)
    column = governing_column(schema, rule.field)
    if column is not None and rejects_row(column):
        row_bad |= broken
    return broken


def _entries(frame: pd.DataFrame, masks: dict, schema: pa.DataFrameSchema, source: str,
             participant_column: str, key_column: str | None) -> pd.DataFrame:
    """One quarantine entry per rejected cell, in row then column order."""
    parts = []
    for position, (name, (bad, sentences)) in enumerate(masks.items()):
        rows = np.flatnonzero(bad)
        if len(rows):
            parts.append(pd.DataFrame({"_index": rows, "_position": position, "field": name,
                                       "value": frame[name].to_numpy(dtype=object)[rows],
                                       "rule": [rule_sentence(schema, name, str(code)) for code in sentences[rows]]}))
    if not parts:
        return quarantine_frame([])
    cells = pd.concat(parts, ignore_index=True).sort_values(["_index", "_position"], kind="stable")
    index = cells["_index"].to_numpy()

    def read(column: str | None) -> list:
        if column is None or column not in frame.columns:
            return [None] * len(index)
        return [cell_text(v) for v in frame[column].to_numpy(dtype=object)[index]]

    return quarantine_frame(pd.DataFrame({
        "source": source, "file": frame[SOURCE_FILE].to_numpy(dtype=object)[index],
        "row": read(ROW), "line": read(LINE), "participant_id": read(participant_column),
        "key": read(key_column), "field": cells["field"].to_numpy(),
        "value": [cell_text(v) for v in cells["value"]], "rule": cells["rule"].to_numpy()}))
