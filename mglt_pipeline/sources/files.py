"""Finding and reading raw files: which files count, and CSV cells read as text.

DATA_CONTRACT.md: several files of one kind are unioned, the later file winning a duplicate key,
"later" being natural name order (numbers compared as numbers: ``export_10.csv`` after
``export_2.csv``); a file whose name starts with ``.`` or ends in ``.tmp``/``.part`` is still being
written and is ignored. CSV files are UTF-8 (a byte-order mark is accepted) with CRLF or LF line ends.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

ROW = "_row"
"""Column that carries a row's position in its file (1-based CSV data line, or Oura record id)."""

IN_PROGRESS_SUFFIXES = (".tmp", ".part")


class UnreadableFile(Exception):
    """A raw file that cannot be parsed at all; it becomes one quarantine entry."""


def is_settled(path: Path) -> bool:
    """True for a file the pipeline may read: not hidden, not still being written."""
    name = path.name
    return not name.startswith(".") and not name.lower().endswith(IN_PROGRESS_SUFFIXES)


def natural_key(name: str) -> tuple:
    """Sort key of a file name in natural order: digit runs compared as numbers, the rest as text
    (``export_2.csv`` < ``export_10.csv``); ties broken by the name itself so the order is total."""
    parts = re.split(r"(\d+)", name)
    return tuple((0, int(p), p) if p.isdigit() else (1, 0, p) for p in parts if p != ""), name


def source_files(folder: Path, pattern: str = "*") -> list[Path]:
    """Settled files of ``folder`` matching ``pattern``, in natural name order (the superseding order)."""
    if not folder.is_dir():
        return []
    files = [p for p in folder.glob(pattern) if p.is_file() and is_settled(p)]
    return sorted(files, key=lambda p: natural_key(p.name))


@dataclass
class CsvText:
    """A CSV file's rows as text, and the data lines that have more cells than the header.

    ``misshapen`` holds (data line, the line's cells): such a line cannot be put in columns, so it
    is quarantined on its own while the other lines of the file go on (DATA_CONTRACT.md).
    """

    frame: pd.DataFrame
    misshapen: list[tuple[int, list[str]]] = field(default_factory=list)


def read_csv_text(path: Path) -> CsvText:
    """A CSV file with every cell kept as text, empty cells as missing, and ``_row`` = data line.

    Types are given later by the table's schema, so a bad cell is reported as read, never
    silently turned into a missing value by the CSV parser.
    """
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""],
                            encoding="utf-8-sig", skipinitialspace=False)
        frame[ROW] = np.arange(1, len(frame) + 1).astype(str)
        misshapen: list[tuple[int, list[str]]] = []
    except pd.errors.ParserError:
        frame, misshapen = _read_line_by_line(path)
    except (UnicodeDecodeError, pd.errors.EmptyDataError) as error:
        raise UnreadableFile(f"{path.name} cannot be read as a UTF-8 CSV file ({error})") from error
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.columns.duplicated().any():
        raise UnreadableFile(f"{path.name} has a repeated column name in its header")
    return CsvText(frame, misshapen)


def _read_line_by_line(path: Path) -> tuple[pd.DataFrame, list[tuple[int, list[str]]]]:
    """The fallback when a line has more cells than the header: the fitting lines as a frame
    (``_row`` = their data line, blank lines not counted, as ``pandas.read_csv`` numbers them),
    and the lines that do not fit."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            lines = [cells for cells in csv.reader(handle, strict=True) if cells]
    except (UnicodeDecodeError, csv.Error) as error:
        raise UnreadableFile(f"{path.name} cannot be read as a UTF-8 CSV file ({error})") from error
    if not lines:
        raise UnreadableFile(f"{path.name} cannot be read as a UTF-8 CSV file (it is empty)")
    header, data = lines[0], lines[1:]
    fitting = [(line, cells) for line, cells in enumerate(data, start=1) if len(cells) <= len(header)]
    misshapen = [(line, cells) for line, cells in enumerate(data, start=1) if len(cells) > len(header)]
    frame = pd.DataFrame([cells + [""] * (len(header) - len(cells)) for _, cells in fitting],
                         columns=header, dtype=object)
    frame = frame.mask(frame == "")
    frame[ROW] = [str(line) for line, _ in fitting]
    return frame, misshapen
