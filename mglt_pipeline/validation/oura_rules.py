"""Cross-field rules of Oura sleep periods (INSTRUMENTS.md, section Oura; DATA_CONTRACT.md).

Two are enforced when the records are read (``oura_schemas.PERIOD_RULES``), because a period that
breaks them cannot be placed: the day rule (``day`` is the local date of ``bedtime_end``, plus one
from 18:00 local) and the length rule (a period lasts from 0 to 24 hours). The stage identities hold
in real data and are checked, not enforced (asset checks of warning severity): a period that breaks
one stays in the table. Each ``*_mismatches`` function returns the periods that break its rule.

Times are ISO 8601 with the wearer's UTC offset (``2025-03-09T07:15:00.000-04:00``): ``iso_times``
splits them into the local wall-clock time and the offset with a fixed-format parse (a column of
mixed offsets would otherwise be parsed one value at a time).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

DAY_CHANGE_HOUR = 18
MAX_PERIOD_HOURS = 24
MAX_OFFSET_MINUTES = 18 * 60
_WIDTH = 40
_DIGITS = (0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18)
_MARKS = {4: "-", 7: "-", 10: "T", 13: ":", 16: ":"}


def _number(codes: np.ndarray, columns: tuple[int, ...]) -> np.ndarray:
    """The decimal number written by the characters at ``columns`` (code points of digits)."""
    out = np.zeros(len(codes), dtype=np.int64)
    for column in columns:
        out = out * 10 + (codes[:, column].astype(np.int64) - ord("0"))
    return out


def iso_times(stamps: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The local time (naive) and the UTC offset (minutes) of ISO 8601 times with offset
    (``YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM|-HH:MM)``); both missing where a value is missing or is
    not such a time of a real calendar day. Read character by character in numpy, not value by value."""
    text = stamps.astype(object).where(stamps.notna(), "").map(str) if stamps.dtype != object \
        else stamps.where(stamps.notna(), "")
    raw = text.to_numpy(dtype=f"U{_WIDTH}")
    codes = raw.view(np.uint32).reshape(len(raw), _WIDTH) if len(raw) else np.zeros((0, _WIDTH), np.uint32)
    length = (codes != 0).sum(axis=1)
    rows = np.arange(len(codes))
    digit = (codes >= ord("0")) & (codes <= ord("9"))
    shaped = (length >= 20) & (length < _WIDTH) & digit[:, list(_DIGITS)].all(axis=1)
    for column, mark in _MARKS.items():
        shaped &= codes[:, column] == ord(mark)
    zulu = codes[rows, np.maximum(length - 1, 0)] == ord("Z")
    zone_at = np.where(zulu, length - 1, np.maximum(length - 6, 0))
    zone = codes[rows[:, None], np.minimum(zone_at[:, None] + np.arange(6), _WIDTH - 1)]
    signed = (zone[:, 0] == ord("+")) | (zone[:, 0] == ord("-"))
    shaped &= zulu | (signed & (zone[:, 3] == ord(":")) & ((zone[:, [1, 2, 4, 5]] >= ord("0"))
                                                          & (zone[:, [1, 2, 4, 5]] <= ord("9"))).all(axis=1))
    columns = np.arange(_WIDTH)[None, :]
    fraction = (columns >= 19) & (columns < zone_at[:, None])
    shaped &= (zone_at == 19) | ((codes[:, 19] == ord(".")) & (zone_at > 20)
                                 & (digit | (columns == 19) | ~fraction).all(axis=1))
    parts = {"year": (0, 1, 2, 3), "month": (5, 6), "day": (8, 9), "hour": (11, 12), "minute": (14, 15),
             "second": (17, 18)}
    n = {name: _number(codes, at) for name, at in parts.items()}
    months = ((n["year"] - 1970) * 12 + n["month"] - 1).astype("timedelta64[M]") + np.datetime64("1970-01", "M")
    date = months.astype("datetime64[D]") + (n["day"] - 1).astype("timedelta64[D]")
    shaped &= ((n["month"] >= 1) & (n["month"] <= 12) & (n["day"] >= 1)
               & (date < (months + np.timedelta64(1, "M")).astype("datetime64[D]"))
               & (n["hour"] < 24) & (n["minute"] < 60) & (n["second"] < 60))
    seconds = n["hour"] * 3600 + n["minute"] * 60 + n["second"]
    local = pd.Series(date.astype("datetime64[s]") + seconds.astype("timedelta64[s]")).where(shaped)
    hours = (zone[:, 1].astype(np.int64) - ord("0")) * 10 + zone[:, 2].astype(np.int64) - ord("0")
    minutes = (zone[:, 4].astype(np.int64) - ord("0")) * 10 + zone[:, 5].astype(np.int64) - ord("0")
    offset = np.where(zulu, 0, np.where(zone[:, 0] == ord("-"), -1, 1) * (hours * 60 + minutes)).astype(float)
    valid = shaped & (np.abs(offset) <= MAX_OFFSET_MINUTES)
    local = pd.Series(local.to_numpy(), index=stamps.index).where(valid)
    return local.astype("datetime64[ns]"), pd.Series(offset, index=stamps.index).where(valid)


def utc_times(stamps: pd.Series) -> pd.Series:
    """ISO 8601 times with offset as naive UTC timestamps (missing where not such a time)."""
    local, minutes = iso_times(stamps)
    return local - pd.to_timedelta(minutes, unit="m")


def round_half_up(values: pd.Series) -> pd.Series:
    """Round to the nearest integer, halves away from zero upwards (Oura's efficiency)."""
    return np.floor(values + 0.5)


def stage_sum_mismatches(periods: pd.DataFrame) -> pd.DataFrame:
    """Periods where deep + light + rem differs from ``total_sleep_duration`` (seconds)."""
    stages = periods["deep_sleep_duration"] + periods["light_sleep_duration"] + periods["rem_sleep_duration"]
    return periods[stages.notna() & periods["total_sleep_duration"].notna()
                   & (stages != periods["total_sleep_duration"])]


def time_in_bed_mismatches(periods: pd.DataFrame) -> pd.DataFrame:
    """Periods where total sleep + awake time differs from ``time_in_bed`` (seconds)."""
    in_bed = periods["total_sleep_duration"] + periods["awake_time"]
    return periods[in_bed.notna() & periods["time_in_bed"].notna() & (in_bed != periods["time_in_bed"])]


def efficiency_mismatches(periods: pd.DataFrame) -> pd.DataFrame:
    """Periods where ``efficiency`` is not round-half-up(100 x total sleep / time in bed)."""
    in_bed = periods["time_in_bed"].where(periods["time_in_bed"] > 0)
    expected = round_half_up(100 * periods["total_sleep_duration"] / in_bed)
    return periods[expected.notna() & periods["efficiency"].notna() & (expected != periods["efficiency"])]


def oura_day(bedtime_end: pd.Series) -> pd.Series:
    """Oura's day of a period: the local date of ``bedtime_end``, plus one day when it is at or after
    18:00 local. The local clock time is the time as written (ISO 8601 with the wearer's offset)."""
    local, _ = iso_times(bedtime_end)
    late = (local.dt.hour >= DAY_CHANGE_HOUR).astype(int)
    return local.dt.normalize() + pd.to_timedelta(late, unit="D")


def day_rule_mismatches(periods: pd.DataFrame) -> pd.DataFrame:
    """Periods whose ``day`` is not Oura's day of their ``bedtime_end``."""
    expected = oura_day(periods["bedtime_end"])
    day = pd.to_datetime(periods["day"])
    return periods[expected.notna() & (expected != day)]


def period_hours(periods: pd.DataFrame) -> pd.Series:
    """Hours from ``bedtime_start`` to ``bedtime_end`` (missing when either is)."""
    return (utc_times(periods["bedtime_end"]) - utc_times(periods["bedtime_start"])).dt.total_seconds() / 3600
