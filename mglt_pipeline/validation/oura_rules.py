"""Cross-field rules of Oura sleep periods (INSTRUMENTS.md, section Oura; DATA_CONTRACT.md).

Two are enforced when the records are read (``oura_schemas.PERIOD_RULES``), because a period that
breaks them cannot be placed: the day rule (``day`` is the local date of ``bedtime_end``, plus one
from 18:00 local) and the length rule (a period lasts from 0 to 24 hours). The stage identities hold in real data and are checked,
not enforced (asset checks of warning severity): a period that breaks one stays in the table.
Each ``*_mismatches`` function returns the periods that break its rule.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

DAY_CHANGE_HOUR = 18
MAX_PERIOD_HOURS = 24


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
    local = pd.to_datetime(bedtime_end.astype("string").str.slice(0, 19), format="%Y-%m-%dT%H:%M:%S",
                           errors="coerce")
    late = (local.dt.hour >= DAY_CHANGE_HOUR).astype(int)
    return local.dt.normalize() + pd.to_timedelta(late, unit="D")


def day_rule_mismatches(periods: pd.DataFrame) -> pd.DataFrame:
    """Periods whose ``day`` is not Oura's day of their ``bedtime_end``."""
    expected = oura_day(periods["bedtime_end"])
    day = pd.to_datetime(periods["day"])
    return periods[expected.notna() & (expected != day)]


def period_hours(periods: pd.DataFrame) -> pd.Series:
    """Hours from ``bedtime_start`` to ``bedtime_end`` (missing when either is)."""
    start, end = (pd.to_datetime(periods[c], format="ISO8601", utc=True, errors="coerce")
                  for c in ("bedtime_start", "bedtime_end"))
    return (end - start).dt.total_seconds() / 3600
