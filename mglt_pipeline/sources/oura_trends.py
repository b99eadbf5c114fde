"""The Oura web "Trends" CSV: one row per day, columns named as in the web dashboard.

DATA_CONTRACT.md "Oura ring", way 3. The names differ between export dates, so columns are matched by
meaning, not position: a header is compared without regard to case, surrounding spaces or ``_``
(``Total Bedtime `` with its trailing space, ``Sleep_Tranquility_Score``), and each field has every
name Oura has used for it (``Total Sleep Time`` / ``Total Sleep Duration``, ``Restfulness Score`` /
``Sleep Tranquility Score``, ``Sleep Timing Score`` / ``Sleep Timin Score``, ``Daily Movement`` /
``Equivalent Walking Distance``). A repeated header name (older files have ``Sleep Timing`` twice) is
read by position: the first column of that name is the one used. Oura writes a missing value as an
empty cell or as ``None``. Durations are seconds, times ISO 8601 with offset.

A row maps to the daily sleep score and its contributors, the day's main sleep (a ``long_sleep``
period: the Trends CSV has no naps), the activity score, steps and daily movement, and the readiness
score and contributors. Activity times are not read: older files write them in minutes, newer ones
in seconds, and the header does not say which.
"""
from __future__ import annotations

import re

import pandas as pd

from mglt_pipeline.sources.files import LINE, ROW

DATE = "date"
MISSING = ("", "None")
TRENDS_FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "daily_sleep": {
        "score": ("sleep score",),
        "contributors_total_sleep": ("total sleep score",),
        "contributors_rem_sleep": ("rem sleep score",),
        "contributors_deep_sleep": ("deep sleep score",),
        "contributors_efficiency": ("sleep efficiency score",),
        "contributors_restfulness": ("restfulness score", "sleep tranquility score"),
        "contributors_latency": ("sleep latency score",),
        "contributors_timing": ("sleep timing score", "sleep timin score"),
    },
    "sleep": {
        "bedtime_start": ("bedtime start",),
        "bedtime_end": ("bedtime end",),
        "total_sleep_duration": ("total sleep duration", "total sleep time"),
        "time_in_bed": ("total bedtime",),
        "awake_time": ("awake time",),
        "rem_sleep_duration": ("rem sleep duration", "rem sleep time"),
        "light_sleep_duration": ("light sleep duration", "light sleep time"),
        "deep_sleep_duration": ("deep sleep duration", "deep sleep time"),
        "efficiency": ("sleep efficiency",),
        "latency": ("sleep latency",),
        "lowest_heart_rate": ("lowest resting heart rate",),
        "average_hrv": ("average hrv",),
    },
    "daily_activity": {
        "score": ("activity score",),
        "steps": ("steps",),
        "equivalent_walking_distance": ("daily movement", "equivalent walking distance"),
    },
    "daily_readiness": {
        "score": ("readiness score",),
        "contributors_previous_night": ("previous night score",),
        "contributors_sleep_balance": ("sleep balance score",),
        "contributors_previous_day_activity": ("previous day activity score",),
        "contributors_activity_balance": ("activity balance score",),
        "contributors_body_temperature": ("temperature score",),
        "contributors_resting_heart_rate": ("resting heart rate score",),
        "contributors_hrv_balance": ("hrv balance score",),
        "contributors_recovery_index": ("recovery index score",),
    },
}
MAIN_SLEEP_TYPE = "long_sleep"
MIN_KNOWN_COLUMNS = 3


def header_name(name: str) -> str:
    """A header compared by meaning: lower case, ``_`` as a space, spaces collapsed and trimmed."""
    return re.sub(r"\s+", " ", name.replace("_", " ")).strip().lower()


def _positions(header: list[str]) -> dict[str, int]:
    """Meaning -> position of the first column with that name (a repeated name is read by position)."""
    positions: dict[str, int] = {}
    for i, name in enumerate(header):
        positions.setdefault(header_name(name), i)
    return positions


def column_map(header: list[str]) -> dict[str, dict[str, int]]:
    """Collection -> field -> column position, for the fields this header has."""
    positions = _positions(header)
    found: dict[str, dict[str, int]] = {}
    for collection, fields in TRENDS_FIELDS.items():
        for field, names in fields.items():
            position = next((positions[n] for n in names if n in positions), None)
            if position is not None:
                found.setdefault(collection, {})[field] = position
    return found


def is_trends_header(header: list[str]) -> bool:
    """A Trends CSV starts with ``date`` and names at least a few Trends columns."""
    known = sum(len(fields) for fields in column_map(header).values())
    return bool(header) and header_name(header[0]) == DATE and known >= MIN_KNOWN_COLUMNS


def trends_frames(header: list[str], frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Collection -> one record per row that has any value of that collection, with ``day`` (the
    row's date), the mapped fields as text (``None`` and empty cells missing), ``_row`` (the record
    number) and ``_line``. The main sleep carries ``type`` ``long_sleep``.

    ``frame`` holds the rows as read (``sources.files.read_csv_text``), its columns by position."""
    date_at = _positions(header)[DATE]
    frames = {}
    for collection, fields in column_map(header).items():
        values = frame.iloc[:, list(fields.values())].astype(object)
        values.columns = list(fields)
        values = values.mask(values.isin(MISSING) | values.isna(), None)
        present = values.notna().any(axis=1).to_numpy()
        values.insert(0, "day", frame.iloc[:, date_at].to_numpy())
        values[ROW], values[LINE] = frame[ROW].to_numpy(), frame[LINE].to_numpy()
        if collection == "sleep":
            values["type"] = MAIN_SLEEP_TYPE
        frames[collection] = values[present].reset_index(drop=True)
    return frames
