"""One mechanism for every CSV source: read the files, drop identifiers, validate, supersede.

DATA_CONTRACT.md: files of one kind are unioned; an unreadable file or one without a required column
is one quarantine entry and the other files go on; bad rows go to the quarantine, the rest on; the
same key in several files is kept once, from the file that sorts last.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from mglt_pipeline.sources.files import ROW, UnreadableFile, read_csv_text
from mglt_pipeline.validation.engine import validate_rows, with_known_participants
from mglt_pipeline.validation.quarantine import (
    SOURCE_FILE, Ingested, concat_quarantine, drop_identifiers, file_entry, quarantine_frame, supersede,
)


def relative_path(path: Path, root: Path) -> str:
    """A raw file's path as the quarantine and ``source_file`` show it: relative to the data root.

    Taken as written when the path lies under the root (so a ``raw/`` that is a symbolic link to
    another disk still reads ``raw/...``); resolved only for a path written another way."""
    try:
        return Path(path).relative_to(Path(root)).as_posix()
    except ValueError:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()


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


def read_csv_files(files: list[Path], root: Path, source: str, required: list[str]
                   ) -> tuple[pd.DataFrame, pd.DataFrame, int, dict[str, list[str]]]:
    """The rows of every usable file as text (with ``source_file`` and ``_row``), the entries of
    the files that could not be used and of the lines with more cells than their header, the
    number of such lines, and the identifier columns dropped per file."""
    frames, entries, misshapen, dropped = [], [], 0, {}
    for path in files:
        file = relative_path(path, root)
        try:
            text = read_csv_text(path)
        except UnreadableFile as error:
            entries.append(file_entry(source, file, "", "", str(error)))
            continue
        frame, identifiers = drop_identifiers(text.frame, file)
        if identifiers:
            dropped[file] = identifiers
        missing = [c for c in required if c not in frame.columns]
        if missing:
            entries.extend(file_entry(source, file, c, "", f"the file lacks the required column {c}")
                           for c in missing)
            continue
        n_columns = len(text.frame.columns) - 1  # without _row
        entries.extend({"source": source, "file": file, "row": str(line), "field": None, "value": None,
                        "rule": f"the line has {len(cells)} cells where the header has {n_columns}, "
                                "so its cells cannot be matched to columns"}
                       for line, cells in text.misshapen)
        misshapen += len(text.misshapen)
        frame[SOURCE_FILE] = file
        frames.append(frame)
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*required, SOURCE_FILE, ROW])
    return rows, quarantine_frame(entries), misshapen, dropped


def ingest_csv(files: list[Path], root: Path, source: str, schema: pa.DataFrameSchema,
               key: list[str], known: pd.Series | None = None,
               participant_column: str = "participant_id") -> Ingested:
    """Validated, superseded rows of ``files`` with their quarantine and counts.

    With ``known`` (participant ids of participants.csv) a row of any other participant is
    quarantined.
    """
    if known is not None:
        schema = with_known_participants(schema, known, participant_column)
    rows, file_entries, misshapen, dropped = read_csv_files(files, root, source, required_columns(schema))
    valid, row_entries, quarantined = validate_rows(rows, schema, source)
    clean, superseded = supersede(valid, key)
    return Ingested(clean=clean, quarantine=concat_quarantine([file_entries, row_entries]),
                    rows_read=len(rows) + misshapen, rows_quarantined=quarantined + misshapen,
                    rows_superseded=superseded,
                    files=[relative_path(p, root) for p in files], dropped_identifiers=dropped)
