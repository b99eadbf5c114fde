"""Oura participant folders (``oura/<participant_id>/``) to the four Oura tables.

DATA_CONTRACT.md "Oura ring": a folder may hold API v2 responses, the account data export (JSON and
its CSV twin) and web Trends CSVs, in any mix. Every file is recognised by its name
(``oura_collections``) and read into one record model per collection (``oura_records``); the records
are validated (``validation.oura_schemas``, and the day and 24-hour rules of sleep periods) and the
copy of each night to use is chosen (``validation.oura_precedence``). Nothing is skipped without a
word: collections that are not analysed, CSV twins of a JSON export, unknown files and folders that
are not participant ids are set-aside entries; ``personal_info`` is recognised and never opened.

Folders are read in batches: the records of one batch are validated and reduced to clean rows
before the next batch is opened, so memory follows the batch, not the trial.
"""
from __future__ import annotations

import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from mglt_pipeline.sources.files import (
    BadLine, UnreadableFile, count_records, csv_header, is_settled, natural_key, read_csv_text, repeated_names,
)
from mglt_pipeline.sources.oura_collections import ANALYSED, NEVER_OPENED, OuraFile, classify
from mglt_pipeline.sources.oura_records import CollectionRows, api_records, export_records, load_json
from mglt_pipeline.sources.oura_trends import is_trends_header, trends_frames
from mglt_pipeline.sources.tables import as_table, relative_path
from mglt_pipeline.validation.oura_checks import collection_schemas, validate_collection
from mglt_pipeline.validation.oura_precedence import BOOKKEEPING, choose_copies
from mglt_pipeline.validation.oura_rules import iso_times, utc_times
from mglt_pipeline.validation.quarantine import (
    Ingested, concat_quarantine, concat_set_aside, file_entry, quarantine_frame, set_aside_entry,
)
from mglt_pipeline.validation.schemas import PARTICIPANT_ID

SLEEP_PERIOD_EXTRA = ["bedtime_start_utc", "bedtime_end_utc", "utc_offset_min"]
BATCH_ROWS = 150_000
"""Records gathered before a batch of folders is validated and reduced to its clean rows."""


@dataclass
class OuraRead:
    """The four tables, and what belongs to the source rather than to one table: entries of files
    that are not one collection's (an unreadable Trends CSV) and the set-aside list with the number
    of records of collections that are not analysed."""

    tables: dict[str, Ingested]
    quarantine: pd.DataFrame
    set_aside: pd.DataFrame
    records_set_aside: dict[str, int] = field(default_factory=dict)


@dataclass
class _Tally:
    """What one table has collected over the batches."""

    clean: list[pd.DataFrame] = field(default_factory=list)
    entries: list[pd.DataFrame] = field(default_factory=list)
    read: int = 0
    quarantined: int = 0
    superseded: int = 0


class _Reader:
    """Reads folders into per-collection rows, and batches them through validation."""

    def __init__(self, oura_dir: str, known: pd.Series):
        self.oura_dir, self.schemas = oura_dir, collection_schemas(known)
        self.rows = {c.name: CollectionRows(c) for c in ANALYSED}
        self.tally = {c.name: _Tally() for c in ANALYSED}
        self.source_entries: list[dict] = []
        self.set_aside: list[dict] = []
        self.other_records: dict[str, int] = defaultdict(int)
        self.files: list[str] = []

    def entry(self, collection: str | None, file: str, rule: str, participant: str, rows: int = 0) -> None:
        """One quarantine entry for a whole file; its records, when they can be counted, as read
        and quarantined."""
        item = {**file_entry("oura", file, None, None, rule), "participant_id": participant}
        if collection is None:
            self.source_entries.append(item)
            return
        self.tally[collection].entries.append(quarantine_frame([item]))
        self.tally[collection].read += rows
        self.tally[collection].quarantined += rows

    def folder(self, folder: Path) -> None:
        """Every file of one participant folder, in natural name order."""
        participant = folder.name
        with os.scandir(folder) as entries:
            listed = sorted(((e.name, e.is_dir()) for e in entries), key=lambda e: natural_key(e[0]))
        for name in (name for name, is_dir in listed if is_dir):
            self.set_aside.append(set_aside_entry(
                "oura", f"{self.oura_dir}/{participant}/{name}", "a folder inside a participant "
                "folder: Oura files are read from oura/<participant_id>/ itself", participant_id=participant))
        files = [classify(folder / name) for name, is_dir in listed if not is_dir and is_settled(folder / name)]
        exported_json = {f.collection for f in files if f.way == "export" and f.is_json}
        last_page = {}
        for f in files:
            if f.way == "api":
                last_page[f.collection] = max(last_page.get(f.collection, 0), f.page)
        for order, f in enumerate(files):
            file = f"{self.oura_dir}/{participant}/{f.path.name}"
            self.files.append(file)
            if f.way == "export" and not f.is_json and f.collection in exported_json and f.kind != "never_opened":
                self.set_aside.append(set_aside_entry(
                    "oura", file, f"the CSV twin of an account-export JSON of {f.collection}: the JSON "
                    "is read, not this file", participant_id=participant))
                continue
            self._file(f, file, participant, order, f.page == last_page.get(f.collection))

    def _file(self, f: OuraFile, file: str, participant: str, order: int, last_page: bool) -> None:
        if f.kind == "never_opened":
            self.set_aside.append(set_aside_entry(
                "oura", file, f"{NEVER_OPENED[f.collection]}: never opened", participant_id=participant))
        elif f.kind == "unknown":
            self.set_aside.append(set_aside_entry(
                "oura", file, "not an Oura file the pipeline knows (API collection, account export or "
                "Trends CSV)", participant_id=participant))
        elif f.kind == "other":
            self._other(f, file, participant)
        elif f.kind == "csv":
            self._maybe_trends(f, file, participant, order)
        elif f.is_json:
            self._json(f, file, participant, order, last_page)
        else:
            self._export_csv(f, file, participant, order)

    def _json(self, f: OuraFile, file: str, participant: str, order: int, last_page: bool) -> None:
        rows = self.rows[f.collection]
        try:
            document = load_json(f.path)
            if f.way == "api":
                records, token = api_records(document)
            else:
                records, token = export_records(document, f.collection), None
        except (ValueError, UnicodeDecodeError) as error:
            self.entry(f.collection, file, f"{f.path.name} cannot be read as an Oura {f.way} JSON file "
                       f"({error})", participant)
            return
        rows.add_json(records, participant, file, f.way, order)
        self.tally[f.collection].read += len(records)
        if last_page and token not in (None, ""):
            self.entry(f.collection, file, f"collection incomplete: the last page of {f.collection} has a "
                       "next_token but no page follows; the records that arrived are kept", participant)

    def _csv(self, path: Path, file: str, collection: str | None, participant: str):
        """A CSV file's rows as text, or None after one entry for a file that cannot be read (its
        records counted as read and quarantined when they can be counted)."""
        try:
            problem = repeated_names(csv_header(path)) if collection else None
            if problem:
                raise UnreadableFile(f"{path.name}: {problem}")
            return read_csv_text(path)
        except UnreadableFile as error:
            self.entry(collection, file, str(error), participant, count_records(path) if collection else 0)
            return None

    def _bad_lines(self, bad: list[BadLine], collection: str | None, file: str, participant: str) -> None:
        """Records that cannot be matched to the header: one entry each, read and quarantined."""
        if not bad:
            return
        entries = quarantine_frame([{**file_entry("oura", file, None, None, b.problem), "row": str(b.row),
                                     "line": str(b.line), "participant_id": participant} for b in bad])
        if collection is None:
            self.source_entries.extend(entries.to_dict("records"))
            return
        self.tally[collection].entries.append(entries)
        self.tally[collection].read += len(bad)
        self.tally[collection].quarantined += len(bad)

    def _export_csv(self, f: OuraFile, file: str, participant: str, order: int) -> None:
        text = self._csv(f.path, file, f.collection, participant)
        if text is None:
            return
        self.rows[f.collection].add_frame(text.frame, participant, file, "export", order)
        self.tally[f.collection].read += len(text.frame)
        self._bad_lines(text.bad_lines, f.collection, file, participant)

    def _maybe_trends(self, f: OuraFile, file: str, participant: str, order: int) -> None:
        try:
            header = csv_header(f.path)
        except UnreadableFile:
            header = []
        if not is_trends_header(header):
            self._file(OuraFile(f.path, None, None, "unknown"), file, participant, order, False)
            return
        text = self._csv(f.path, file, None, participant)
        if text is None:
            return
        for collection, frame in trends_frames(header, text.frame).items():
            self.rows[collection].add_frame(frame, participant, file, "trends", order)
            self.tally[collection].read += len(frame)
        self._bad_lines(text.bad_lines, None, file, participant)

    def _other(self, f: OuraFile, file: str, participant: str) -> None:
        """A collection that is not analysed: its records are counted and set aside, never judged."""
        try:
            if f.is_json:
                document = load_json(f.path)
                records = document.get("data", document.get(f.collection)) if isinstance(document, dict) else None
                count = len(records) if isinstance(records, list) else 0
            else:
                count = count_records(f.path)
        except (ValueError, UnicodeDecodeError):
            count = 0
        self.other_records[f.collection] += count
        self.set_aside.append(set_aside_entry(
            "oura", file, f"{f.collection}: an Oura collection the analysis does not use ({count} records "
            "read and set aside)", participant_id=participant))

    def pending(self) -> int:
        return sum(len(r) for r in self.rows.values())

    def flush(self) -> None:
        """Validate the gathered rows of every collection and keep the records used."""
        for collection in ANALYSED:
            gathered = self.rows[collection.name].frame()
            self.rows[collection.name] = CollectionRows(collection)
            if gathered.empty:
                continue
            tally = self.tally[collection.name]
            valid, entries, rejected = validate_collection(gathered, collection, self.schemas[collection.name])
            used, conflicts, in_conflict, superseded = choose_copies(valid, collection)
            tally.clean.append(used.drop(columns=BOOKKEEPING))
            tally.entries += [entries, conflicts]
            tally.quarantined += rejected + in_conflict
            tally.superseded += superseded


def add_utc_times(periods: pd.DataFrame) -> pd.DataFrame:
    """Bedtimes as naive UTC timestamps, and the UTC offset (minutes) of ``bedtime_end`` (missing
    when ``bedtime_end`` is)."""
    periods = periods.copy()
    periods["bedtime_start_utc"] = utc_times(periods["bedtime_start"]).astype("datetime64[ns]")
    local, minutes = iso_times(periods["bedtime_end"])
    periods["bedtime_end_utc"] = (local - pd.to_timedelta(minutes, unit="m")).astype("datetime64[ns]")
    periods["utc_offset_min"] = minutes.round().astype("Int64")
    return periods


def _table(collection, tally: _Tally, files: list[str]) -> Ingested:
    clean = pd.concat(tally.clean, ignore_index=True) if tally.clean else pd.DataFrame(columns=collection.columns)
    columns = collection.columns
    if collection.name == "sleep":
        clean = add_utc_times(clean)
        columns = [*columns[:-1], *SLEEP_PERIOD_EXTRA, columns[-1]]
    return Ingested(clean=as_table(clean, columns), quarantine=concat_quarantine(tally.entries),
                    rows_read=tally.read, rows_quarantined=tally.quarantined,
                    rows_superseded=tally.superseded, files=files)


def _folders(base: Path, oura_dir: str) -> tuple[list[Path], list[dict]]:
    """Participant folders in natural order, and set-aside entries for everything else in ``oura/``."""
    folders, aside = [], []
    for path in sorted(base.iterdir(), key=lambda p: natural_key(p.name)) if base.is_dir() else []:
        if path.is_dir() and re.fullmatch(PARTICIPANT_ID, path.name):
            folders.append(path)
        elif path.is_dir():
            aside.append(set_aside_entry("oura", f"{oura_dir}/{path.name}", "the folder name is not a "
                                         "valid participant_id (1 to 32 letters, digits, '_' or '-'), so "
                                         "its files are not read"))
        elif not path.name.startswith(".") and not path.name.lower().endswith((".tmp", ".part")):
            aside.append(set_aside_entry("oura", f"{oura_dir}/{path.name}", "a file outside any "
                                         "participant folder: Oura files are read from oura/<participant_id>/"))
    return folders, aside


def read_oura(raw_dir: Path, root: Path, known: pd.Series, batch_rows: int = BATCH_ROWS) -> OuraRead:
    """The four Oura tables from every participant folder; records of a folder that is not a
    participant of participants.csv are quarantined."""
    base = Path(raw_dir) / "oura"
    oura_dir = relative_path(base, root)
    folders, aside = _folders(base, oura_dir)
    reader = _Reader(oura_dir, known)
    for folder in folders:
        reader.folder(folder)
        if reader.pending() >= batch_rows:
            reader.flush()
    reader.flush()
    tables = {c.table: _table(c, reader.tally[c.name], reader.files) for c in ANALYSED}
    set_aside = concat_set_aside([pd.DataFrame(aside), pd.DataFrame(reader.set_aside)])
    return OuraRead(tables, quarantine_frame(reader.source_entries), set_aside, dict(reader.other_records))


__all__ = ["OuraRead", "add_utc_times", "read_oura"]
