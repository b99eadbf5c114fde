"""One mechanism for every CSV source: read the files in batches, drop identifiers, validate cell by
cell, surface duplicates, supersede, and count.

DATA_CONTRACT.md: files of one kind are unioned; a file that cannot be parsed, names a column twice or
lacks a required column is rejected whole (one entry; its rows counted as read and quarantined) and
the other files go on; a line with fewer or more cells than the header, or one repeating the header,
is a bad row; bad cells and rows go to the quarantine, the rest on; a key repeated inside a file is
collapsed (identical) or a conflict (different); the same key in several files is kept once, from
the file that sorts last. Columns that are not the table's are listed, never read past in silence.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from mglt_pipeline.sources.files import (  # noqa: F401 (relative_path: the Oura reader takes it from here)
    LINE, ROW, BadLine, UnreadableFile, count_records, csv_batches, csv_header, first_records, relative_path,
    repeated_names,
)
from mglt_pipeline.validation.duplicates import FILE_ORDER, collapse_within_files, supersede_files
from mglt_pipeline.validation.engine import CrossFieldRule, governing_column, validate_rows, with_known_participants
from mglt_pipeline.validation.privacy import identifier_columns, redact_free_text
from mglt_pipeline.validation.quarantine import (
    SOURCE_FILE, Ingested, concat_quarantine, concat_set_aside, file_entry, quarantine_frame, set_aside_entry,
)
from mglt_pipeline.validation.schemas import PARTICIPANT_ID


def required_columns(schema: pa.DataFrameSchema) -> list[str]:
    """The columns a file must have: the schema's named, required columns except ``source_file``."""
    return [name for name, column in schema.columns.items()
            if column.required and not column.regex and name != SOURCE_FILE]


def as_table(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The clean table's columns in order; text columns as pandas strings (DuckDB VARCHAR even
    when every value is missing)."""
    table = frame.reindex(columns=columns).reset_index(drop=True)
    for name in table.columns:
        if table[name].dtype == object:
            table[name] = table[name].astype("string")
    return table


def missing_file(source: str, file: str) -> pd.DataFrame:
    """The quarantine entry of a file the contract requires but that is not there."""
    return quarantine_frame([file_entry(source, file, "", "", f"{file} is required but missing")])


@dataclass
class FilePlan:
    """How one file's header is read: columns renamed to the table's names, columns ignored
    (listed), entries that do not reject the file; or the reasons the file is rejected whole, or
    why it is set aside whole."""

    rename: dict[str, str] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    entries: list[dict] = field(default_factory=list)
    reject: list[tuple[str, str]] = field(default_factory=list)
    set_aside: str | None = None


@dataclass(frozen=True)
class CsvSource:
    """One CSV source: its rules, its key, the columns its entries name as participant and key, its
    free-text columns (redacted at the door), and, where a source needs them, its own reading of a
    header (``plan``) and rows to take out before validation (``split``: set aside or quarantined)."""

    name: str
    schema: pa.DataFrameSchema
    key: tuple[str, ...]
    key_column: str | None = None
    participant_column: str = "participant_id"
    rules: tuple[CrossFieldRule, ...] = ()
    free_text: tuple[str, ...] = ()
    plan: Callable[[pa.DataFrameSchema, list[str], str, list[list[str]]], FilePlan] | None = None
    split: Callable[[pd.DataFrame], tuple[pd.DataFrame, list[dict], list[dict], int]] | None = None


def plan_columns(schema: pa.DataFrameSchema, header: list[str], file: str, sample: list[list[str]]) -> FilePlan:
    """The default reading of a header: no name twice, every required column present, other
    columns ignored."""
    repeated = repeated_names(header)
    if repeated:
        return FilePlan(reject=[("", repeated)])
    missing = [c for c in required_columns(schema) if c not in header]
    ignored = [c for c in header if governing_column(schema, c) is None]
    return FilePlan(ignored=ignored, reject=[(c, f"the file lacks the required column {c}") for c in missing])


@dataclass
class CsvRows:
    """Validated rows of a source's files (typed, with file order, row, line and content hash),
    everything rejected or set aside on the way, and the counts."""

    valid: list[pd.DataFrame] = field(default_factory=list)
    entries: list[pd.DataFrame] = field(default_factory=list)
    set_aside: list[dict] = field(default_factory=list)
    rows_read: int = 0
    rows_quarantined: int = 0
    rows_set_aside: int = 0
    redactions: int = 0
    files: list[str] = field(default_factory=list)
    dropped: dict[str, list[str]] = field(default_factory=dict)
    ignored: dict[str, list[str]] = field(default_factory=dict)

    def add(self, other: "CsvRows") -> None:
        self.valid += other.valid
        self.entries += other.entries
        self.set_aside += other.set_aside
        self.rows_read += other.rows_read
        self.rows_quarantined += other.rows_quarantined
        self.rows_set_aside += other.rows_set_aside
        self.redactions += other.redactions

    def valid_rows(self) -> pd.DataFrame:
        return pd.concat(self.valid, ignore_index=True) if self.valid else pd.DataFrame()


def _readable(cells: list[str], header: list[str], column: str | None, pattern: str) -> str | None:
    """The cell of ``column`` in a bad line when it reads as one (participant or key), else None."""
    if column is None or column not in header:
        return None
    position = header.index(column)
    value = cells[position].strip() if position < len(cells) else ""
    return value if re.fullmatch(pattern, value) else None


def bad_line_entries(bad: list[BadLine], header: list[str], file: str, spec: CsvSource) -> pd.DataFrame:
    """One entry per line that cannot be matched to the columns; participant and key where their
    cells read as such (never for a repeated header)."""
    rows = []
    for line in bad:
        repeat = "repeats the header" in line.problem
        rows.append({"source": spec.name, "file": file, "row": str(line.row), "line": str(line.line),
                     "participant_id": None if repeat else _readable(line.cells, header, spec.participant_column,
                                                                      PARTICIPANT_ID),
                     "key": None if repeat else _readable(line.cells, header, spec.key_column, r"^[\w\-: ]{1,40}$"),
                     "field": None, "value": None, "rule": line.problem})
    return quarantine_frame(rows)


def _named_as_in_file(entries: pd.DataFrame, rename: dict[str, str]) -> pd.DataFrame:
    """Entries naming a renamed column as the file names it (``study_id``, not ``record_id``)."""
    for original, ours in rename.items():
        named = entries["field"] == ours
        if named.any():
            entries.loc[named, "rule"] = original + entries.loc[named, "rule"].str.removeprefix(ours)
            entries.loc[named, "field"] = original
    return entries


def _rejected_whole(path: Path, file: str, spec: CsvSource, reasons: list[tuple[str, str]]) -> CsvRows:
    """A file rejected whole: its entries, and its rows counted as read and quarantined."""
    rows = count_records(path)
    entries = quarantine_frame([file_entry(spec.name, file, f, "", rule) for f, rule in reasons])
    return CsvRows(entries=[entries], rows_read=rows, rows_quarantined=rows)


def _read_batch(batch, header: list[str], plan: FilePlan, drop: list[str], file: str, order: int,
                spec: CsvSource, schema: pa.DataFrameSchema, prepare) -> CsvRows:
    out = CsvRows(rows_read=len(batch.frame) + len(batch.bad_lines), rows_quarantined=len(batch.bad_lines))
    if batch.bad_lines:
        out.entries.append(bad_line_entries(batch.bad_lines, [plan.rename.get(c, c) for c in header], file, spec))
    frame = batch.frame.drop(columns=drop).rename(columns=plan.rename)
    for column in spec.free_text:
        if column in frame:
            frame[column], count = redact_free_text(frame[column])
            out.redactions += count
    frame[SOURCE_FILE] = file
    frame[FILE_ORDER] = order
    if spec.split is not None:
        frame, set_aside, entries, quarantined = spec.split(frame)
        out.set_aside += set_aside
        out.rows_set_aside += len(set_aside)
        out.entries.append(quarantine_frame(entries))
        out.rows_quarantined += quarantined
    if prepare is not None:
        frame = prepare(frame)
    valid, entries, rejected = validate_rows(frame, schema, spec.name, participant_column=spec.participant_column,
                                             key_column=spec.key_column, rules=spec.rules)
    out.valid.append(valid)
    out.entries.append(_named_as_in_file(entries, plan.rename))
    out.rows_quarantined += rejected
    return out


def read_csv_file(path: Path, order: int, root: Path, spec: CsvSource, schema: pa.DataFrameSchema,
                  prepare: Callable[[pd.DataFrame], pd.DataFrame] | None = None) -> CsvRows:
    """Every record of one file, batch by batch; a file found unreadable part-way is rejected whole
    (nothing of it is kept)."""
    file = relative_path(path, root)
    try:
        header = csv_header(path)
    except UnreadableFile as error:
        return _rejected_whole(path, file, spec, [("", str(error))])
    identifiers = identifier_columns(header, file)
    kept = [i for i, c in enumerate(header) if c not in identifiers]
    try:
        sample = [[cells[i] for i in kept if i < len(cells)] for cells in first_records(path)]
    except UnreadableFile:
        sample = []  # the batches below find the same fault and reject the file
    plan = (spec.plan or plan_columns)(schema, [header[i] for i in kept], file, sample)
    if plan.reject:
        return _rejected_whole(path, file, spec, plan.reject)
    if plan.set_aside is not None:
        rows = count_records(path)
        result = CsvRows(set_aside=[set_aside_entry(spec.name, file, plan.set_aside)], rows_read=rows,
                         rows_set_aside=rows)
    else:
        result = CsvRows(entries=[quarantine_frame(plan.entries)])
        try:
            for batch in csv_batches(path, header):
                result.add(_read_batch(batch, header, plan, identifiers + plan.ignored, file, order, spec, schema,
                                       prepare))
        except UnreadableFile as error:
            result = _rejected_whole(path, file, spec, [("", str(error))])
    result.dropped = {file: identifiers} if identifiers else {}
    result.ignored = {file: plan.ignored} if plan.ignored else {}
    return result


def read_csv_rows(files: list[Path], root: Path, spec: CsvSource, known: pd.Series | None = None,
                  prepare: Callable[[pd.DataFrame], pd.DataFrame] | None = None) -> CsvRows:
    """The validated rows of ``files`` (natural order) with everything rejected or set aside. With
    ``known`` (participant ids of participants.csv) a row of any other participant is rejected."""
    schema = spec.schema
    if known is not None:
        schema = with_known_participants(schema, known, spec.participant_column)
    rows = CsvRows()
    for order, path in enumerate(files):
        part = read_csv_file(path, order, root, spec, schema, prepare)
        rows.add(part)
        rows.files.append(relative_path(path, root))
        rows.dropped.update(part.dropped)
        rows.ignored.update(part.ignored)
    return rows


def ingest_csv(files: list[Path], root: Path, spec: CsvSource, known: pd.Series | None = None,
               prepare: Callable[[pd.DataFrame], pd.DataFrame] | None = None) -> Ingested:
    """Validated rows of ``files``, one per key, with their quarantine, set-aside list and counts."""
    rows = read_csv_rows(files, root, spec, known, prepare)
    valid = rows.valid_rows()
    key = list(spec.key)
    if not rows.valid:
        valid = pd.DataFrame(columns=[*key, FILE_ORDER, ROW, LINE, SOURCE_FILE])
    kept, conflicts, markers, conflicted, copies = collapse_within_files(
        valid, key, spec.name, participant_column=spec.participant_column, key_column=spec.key_column)
    clean, superseded = supersede_files(kept, markers, key)
    return Ingested(clean=clean, quarantine=concat_quarantine([*rows.entries, conflicts]),
                    rows_read=rows.rows_read, rows_quarantined=rows.rows_quarantined + conflicted,
                    rows_superseded=superseded + copies, files=rows.files,
                    set_aside=concat_set_aside([pd.DataFrame(rows.set_aside)]) if rows.set_aside else None,
                    rows_set_aside=rows.rows_set_aside, dropped_identifiers=rows.dropped,
                    columns_ignored=rows.ignored, redactions=rows.redactions)
