"""Finding and reading raw files: which files count, and CSV records read as text, in batches.

DATA_CONTRACT.md: several files of one kind are unioned, the later file winning a duplicate key,
"later" being natural name order (numbers compared as numbers: ``export_10.csv`` after
``export_2.csv``); extensions are matched without regard to case (``.CSV``); a file whose name
starts with ``.`` or ends in ``.tmp``/``.part`` is still being written and is ignored. CSV files are
UTF-8 (a byte-order mark is accepted) with CRLF or LF line ends; a record may span several lines
(a quoted cell with a line break). A record with fewer or more cells than the header, or one that
repeats the header, cannot be matched to columns: it is handed back as a bad line, never padded.
A header naming a column twice makes the file unreadable (its cells cannot be told apart).
"""
from __future__ import annotations

import csv
import fnmatch
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from mglt_pipeline.validation.quarantine import set_aside_entry

ROW = "_row"
"""Column that carries a row's position in its file (1-based CSV record, or Oura record id)."""
LINE = "_line"
"""Column that carries the 1-based line of the file where a CSV record starts."""

IN_PROGRESS_SUFFIXES = (".tmp", ".part")
BATCH_CELLS = 2_000_000
"""CSV cells read and typed at a time (50,000 diary rows, 21,000 REDCap rows): memory is bounded by
a batch, not by the file."""


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


def matches(path: Path, pattern: str) -> bool:
    """``pattern`` (shell style) matches the file name without regard to case."""
    return fnmatch.fnmatchcase(path.name.lower(), pattern.lower())


def source_files(folder: Path, pattern: str = "*") -> list[Path]:
    """Settled files of ``folder`` matching ``pattern`` (any case), in natural name order (the
    superseding order)."""
    if not folder.is_dir():
        return []
    files = [p for p in folder.iterdir() if p.is_file() and is_settled(p) and matches(p, pattern)]
    return sorted(files, key=lambda p: natural_key(p.name))


@dataclass(frozen=True)
class BadLine:
    """A record that cannot be matched to the header's columns (``problem``: a sentence)."""

    row: int
    line: int
    cells: list[str]
    problem: str


@dataclass
class CsvText:
    """CSV records as text (``_row``, ``_line`` beside the header's columns) and the bad lines."""

    frame: pd.DataFrame
    bad_lines: list[BadLine] = field(default_factory=list)

    @property
    def misshapen(self) -> list[tuple[int, list[str]]]:
        """(record number, cells) of the bad lines."""
        return [(b.row, b.cells) for b in self.bad_lines]


def _records(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(first line, cells) of every non-blank record; UnreadableFile when it cannot be split."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle, strict=True)
            start = 1
            for cells in reader:
                if cells:
                    yield start, cells
                start = reader.line_num + 1
    except (UnicodeDecodeError, csv.Error) as error:
        raise UnreadableFile(f"{path.name} cannot be read as a UTF-8 CSV file ({error})") from error


def csv_header(path: Path) -> list[str]:
    """The header's column names (stripped); UnreadableFile for an empty or unparseable file."""
    first = next(_records(path), None)
    if first is None:
        raise UnreadableFile(f"{path.name} cannot be read as a UTF-8 CSV file (it is empty)")
    return [c.strip() for c in first[1]]


def first_records(path: Path, n: int = 20) -> list[list[str]]:
    """The cells of the first ``n`` data records (to recognise a file's layout before reading it)."""
    out = []
    for _, cells in _records(path):
        out.append(cells)
        if len(out) > n:
            break
    return out[1:]


def repeated_names(header: list[str]) -> str | None:
    """The rule that rejects a header naming a column twice (its cells cannot be told apart)."""
    repeated = sorted({c for c in header if header.count(c) > 1})
    if not repeated:
        return None
    return f"the header names the column {', '.join(repeated)} twice, so its cells cannot be told apart"


def _bad_line(row: int, line: int, cells: list[str], header: list[str]) -> BadLine | None:
    if len(cells) != len(header):
        return BadLine(row, line, cells, f"the line has {len(cells)} cells where the header has "
                                         f"{len(header)}, so its cells cannot be matched to columns")
    if cells[0].strip() == header[0] and [c.strip() for c in cells] == header:
        return BadLine(row, line, cells, "the line repeats the header (two exports joined?), so it holds no data")
    return None


def csv_batches(path: Path, header: list[str], batch_rows: int | None = None) -> Iterator[CsvText]:
    """The data records of ``path`` in batches (of ``batch_rows``, by default ``BATCH_CELLS`` cells):
    cells as text (empty cells missing), ``_row`` the 1-based record number, ``_line`` the line where
    it starts."""
    batch_rows = batch_rows or max(1, BATCH_CELLS // max(len(header), 1))
    rows, lines, cells_of, bad, batches = [], [], [], [], 0
    width, first = len(header), header[0] if header else ""
    records = _records(path)
    next(records, None)
    for row, (line, cells) in enumerate(records, start=1):
        problem = None if len(cells) == width and cells[0].strip() != first else _bad_line(row, line, cells, header)
        if problem is not None:
            bad.append(problem)
        else:
            rows.append(row), lines.append(line), cells_of.append(cells)
        if len(cells_of) + len(bad) >= batch_rows:
            yield _batch(header, rows, lines, cells_of, bad)
            rows, lines, cells_of, bad, batches = [], [], [], [], batches + 1
    if cells_of or bad or not batches:
        yield _batch(header, rows, lines, cells_of, bad)


def _batch(header: list[str], rows: list[int], lines: list[int], cells: list[list[str]],
           bad: list[BadLine]) -> CsvText:
    frame = pd.DataFrame(cells, columns=header, dtype=object) if cells else pd.DataFrame(columns=header, dtype=object)
    frame = frame.mask(frame == "")
    frame[ROW] = list(map(str, rows))
    frame[LINE] = list(map(str, lines))
    return CsvText(frame, bad)


def read_csv_text(path: Path) -> CsvText:
    """A whole CSV file as text (one batch); for files known to be small."""
    header = csv_header(path)
    parts = list(csv_batches(path, header))
    frame = pd.concat([p.frame for p in parts], ignore_index=True)
    return CsvText(frame, [b for p in parts for b in p.bad_lines])


def count_records(path: Path) -> int:
    """Data records of a file rejected whole (header excluded), read as leniently as possible, so
    that its rows are counted as read and quarantined."""
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
        try:
            return max(sum(1 for cells in csv.reader(handle) if cells) - 1, 0)
        except csv.Error:
            handle.seek(0)
            return max(sum(1 for text in handle if text.strip()) - 1, 0)


def relative_path(path: Path, root: Path) -> str:
    """A raw file's path as the quarantine and ``source_file`` show it: relative to the data root.

    Taken as written when the path lies under the root (so a ``raw/`` that is a symbolic link to
    another disk still reads ``raw/...``); resolved only for a path written another way."""
    try:
        return Path(path).relative_to(Path(root)).as_posix()
    except ValueError:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()


def not_read(folder: Path, read: list[Path], root: Path, source: str, expected: str) -> list[dict]:
    """Set-aside entries for what ``folder`` holds besides the files read: every other file and
    every sub-folder (files still being written excepted), so nothing is skipped without a word."""
    if not folder.is_dir():
        return []
    taken = {p.name for p in read}
    entries = []
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        if path.name in taken or not is_settled(path):
            continue
        what = "a folder" if path.is_dir() else "a file"
        entries.append(set_aside_entry(source, relative_path(path, root),
                                       f"{what} the pipeline does not read here (it reads {expected})"))
    return entries
