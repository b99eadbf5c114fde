"""Finding and reading raw files: which files count, and CSV cells read as text.

DATA_CONTRACT.md: several files of one kind are unioned, the file that sorts last by name winning a
duplicate key; a file whose name starts with ``.`` or ends in ``.tmp``/``.part`` is still being written
and is ignored. CSV files are UTF-8 (a byte-order mark is accepted) with CRLF or LF line ends.
"""
from __future__ import annotations

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


def source_files(folder: Path, pattern: str = "*") -> list[Path]:
    """Settled files of ``folder`` matching ``pattern``, sorted by name (the superseding order)."""
    if not folder.is_dir():
        return []
    files = [p for p in folder.glob(pattern) if p.is_file() and is_settled(p)]
    return sorted(files, key=lambda p: p.name)


def read_csv_text(path: Path) -> pd.DataFrame:
    """A CSV file with every cell kept as text, empty cells as missing, and ``_row`` = data line.

    Types are given later by the table's schema, so a bad cell is reported as read, never
    silently turned into a missing value by the CSV parser.
    """
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""],
                            encoding="utf-8-sig", skipinitialspace=False)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise UnreadableFile(f"{path.name} cannot be read as a UTF-8 CSV file ({error})") from error
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.columns.duplicated().any():
        raise UnreadableFile(f"{path.name} has a repeated column name in its header")
    frame[ROW] = np.arange(1, len(frame) + 1).astype(str)
    return frame
