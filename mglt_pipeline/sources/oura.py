"""Oura API v2 collection files (oura/<participant_id>/*.json) to the four Oura tables.

DATA_CONTRACT.md: each file is one collection response ``{"data": [...], "next_token": ...}``; pages
of a collection may be split over several files (``sleep.json``, ``sleep_2.json``); the participant is
the folder name; records are keyed by ``id``; unknown fields are ignored. Each file is parsed once
and each document kind becomes one DataFrame, validated at once.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from mglt_pipeline.sources.files import ROW, source_files
from mglt_pipeline.sources.tables import as_table, relative_path
from mglt_pipeline.validation.engine import validate_rows, with_known_participants
from mglt_pipeline.validation.oura_schemas import (
    OuraDailyActivity, OuraDailyReadiness, OuraDailySleep, OuraSleepPeriods,
)
from mglt_pipeline.validation.quarantine import (
    SOURCE_FILE, Ingested, concat_quarantine, file_entry, quarantine_frame, supersede,
)

NO_HEART_RATE = 255


@dataclass(frozen=True)
class OuraDocumentKind:
    """One Oura collection: its files, its fields, its contributors and its rules."""

    table: str
    file_prefix: str
    fields: tuple[str, ...]
    contributors: tuple[str, ...]
    schema: type[pa.DataFrameModel]

    @property
    def columns(self) -> list[str]:
        return ["participant_id", *self.fields, *(f"contributors_{c}" for c in self.contributors),
                SOURCE_FILE]


DOCUMENT_KINDS = (
    OuraDocumentKind("oura_daily_sleep", "daily_sleep", ("id", "day", "score", "timestamp"),
                     ("deep_sleep", "efficiency", "latency", "rem_sleep", "restfulness", "timing",
                      "total_sleep"), OuraDailySleep),
    OuraDocumentKind("oura_sleep_periods", "sleep", (
        "id", "day", "type", "bedtime_start", "bedtime_end", "total_sleep_duration",
        "deep_sleep_duration", "light_sleep_duration", "rem_sleep_duration", "awake_time",
        "time_in_bed", "efficiency", "latency", "average_heart_rate", "lowest_heart_rate",
        "average_hrv"), (), OuraSleepPeriods),
    OuraDocumentKind("oura_daily_activity", "daily_activity", (
        "id", "day", "score", "steps", "active_calories", "total_calories",
        "equivalent_walking_distance", "high_activity_time", "medium_activity_time",
        "low_activity_time", "sedentary_time", "resting_time", "non_wear_time", "timestamp"),
        ("meet_daily_targets", "move_every_hour", "recovery_time", "stay_active",
         "training_frequency", "training_volume"), OuraDailyActivity),
    OuraDocumentKind("oura_daily_readiness", "daily_readiness", (
        "id", "day", "score", "temperature_deviation", "timestamp"),
        ("activity_balance", "body_temperature", "hrv_balance", "previous_day_activity",
         "previous_night", "recovery_index", "resting_heart_rate", "sleep_balance"), OuraDailyReadiness),
)
SLEEP_PERIOD_EXTRA = ["bedtime_start_utc", "bedtime_end_utc", "utc_offset_min"]


def collection_records(path: Path) -> list[dict]:
    """The records of one collection file; ValueError when it is not a collection response."""
    with open(path, encoding="utf-8-sig") as handle:
        document = json.load(handle)
    records = document.get("data") if isinstance(document, dict) else None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise ValueError('it is not an Oura collection response {"data": [...]}')
    return records


def records_frame(kind: OuraDocumentKind, records: list[dict], participants: list[str],
                  files: list[str], counts: list[int]) -> pd.DataFrame:
    """One DataFrame of a document kind: its fields, contributors flattened to
    ``contributors_<name>``, the participant (folder) and file of each record, ``_row`` = id."""
    frame = pd.DataFrame.from_records(records, columns=list(kind.fields)) if records \
        else pd.DataFrame(columns=list(kind.fields))
    if kind.contributors:
        nested = [r.get("contributors") if isinstance(r.get("contributors"), dict) else {} for r in records]
        contributors = pd.DataFrame.from_records(nested, columns=list(kind.contributors)) if records \
            else pd.DataFrame(columns=list(kind.contributors))
        frame = pd.concat([frame, contributors.add_prefix("contributors_")], axis=1)
    frame.insert(0, "participant_id", np.repeat(np.array(participants, dtype=object), counts))
    frame[SOURCE_FILE] = np.repeat(np.array(files, dtype=object), counts)
    frame[ROW] = frame["id"].astype(object).where(frame["id"].notna(), "").astype(str)
    if "lowest_heart_rate" in frame:
        no_data = pd.to_numeric(frame["lowest_heart_rate"], errors="coerce") == NO_HEART_RATE
        frame.loc[no_data, "lowest_heart_rate"] = np.nan
    return frame


def add_utc_times(periods: pd.DataFrame) -> pd.DataFrame:
    """Bedtimes as naive UTC timestamps, and the UTC offset (minutes) of ``bedtime_end`` (missing
    when ``bedtime_end`` is)."""
    periods = periods.copy()
    for name in ("bedtime_start", "bedtime_end"):
        stamps = pd.to_datetime(periods[name], format="ISO8601", utc=True, errors="coerce")
        periods[f"{name}_utc"] = stamps.dt.tz_localize(None).astype("datetime64[ns]")
    parts = periods["bedtime_end"].astype("string").str.extract(r"(Z|([+-])(\d{2}):(\d{2}))$")
    sign = np.where((parts[1] == "-").fillna(False).to_numpy(dtype=bool), -1, 1)
    minutes = parts[2].astype(float) * 60 + parts[3].astype(float)
    minutes = minutes.mask((parts[0] == "Z").fillna(False).to_numpy(dtype=bool), 0.0)
    periods["utc_offset_min"] = pd.array(sign * minutes, dtype="Int64")
    return periods


def _read_kind(kind: OuraDocumentKind, folders: list[Path], oura_dir: str, known: pd.Series
               ) -> Ingested:
    """Every file of one document kind, parsed once, validated once, superseded by record id.

    ``oura_dir`` is the folder holding ``folders`` relative to the data root (resolved once, not
    per file: thousands of files per run)."""
    records, participants, files, counts, entries, read = [], [], [], [], [], []
    for folder in folders:
        for path in source_files(folder, f"{kind.file_prefix}*.json"):
            file = f"{oura_dir}/{folder.name}/{path.name}"
            read.append(file)
            try:
                batch = collection_records(path)
            except (ValueError, UnicodeDecodeError) as error:
                entries.append(file_entry("oura", file, "", "", f"{path.name} cannot be read as an Oura JSON collection ({error})"))
                continue
            records.extend(batch)
            participants.append(folder.name)
            files.append(file)
            counts.append(len(batch))
    frame = records_frame(kind, records, participants, files, counts)
    schema = with_known_participants(kind.schema.to_schema(), known)
    valid, row_entries, quarantined = validate_rows(frame, schema, "oura")
    clean, superseded = supersede(valid, ["participant_id", "id"])
    columns = kind.columns
    if kind.table == "oura_sleep_periods":
        clean = add_utc_times(clean)
        columns = [*columns[:-1], *SLEEP_PERIOD_EXTRA, SOURCE_FILE]
    return Ingested(clean=as_table(clean, columns),
                    quarantine=concat_quarantine([quarantine_frame(entries), row_entries]),
                    rows_read=len(frame), rows_quarantined=quarantined, rows_superseded=superseded,
                    files=read)


def read_oura(raw_dir: Path, root: Path, known: pd.Series) -> dict[str, Ingested]:
    """The four Oura tables (``oura_daily_sleep``, ``oura_sleep_periods``, ``oura_daily_activity``,
    ``oura_daily_readiness``) from every participant folder; records of a folder that is not a
    participant of participants.csv are quarantined."""
    base = Path(raw_dir) / "oura"
    folders = sorted((p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")),
                     key=lambda p: p.name) if base.is_dir() else []
    oura_dir = relative_path(base, root)
    return {kind.table: _read_kind(kind, folders, oura_dir, known) for kind in DOCUMENT_KINDS}
