"""Oura time stamps: local wall-clock times with the wearer's UTC offset, and Oura's day rule.

Oura writes ISO 8601 times with the offset in force at that instant in the wearer's zone (INSTRUMENTS.md),
so the offset changes within a participant when daylight-saving time starts. A period's ``day`` is the
local date of ``bedtime_end``, plus one day when ``bedtime_end`` is at or after 18:00 local.
Offsets come from the IANA database (pandas/zoneinfo), never from a fixed table.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

DAY_CHANGE_HOUR = 18


def _offset_text(minutes: np.ndarray) -> np.ndarray:
    """UTC offsets in minutes as ``+HH:MM``."""
    unique = np.unique(minutes)
    text = {int(m): f"{'+' if m >= 0 else '-'}{abs(int(m)) // 60:02d}:{abs(int(m)) % 60:02d}" for m in unique}
    return np.array([text[int(m)] for m in minutes], dtype=object) if len(minutes) else np.array([], dtype=object)


def iso_local(instants: pd.DatetimeIndex) -> np.ndarray:
    """Zone-aware instants as ``YYYY-MM-DDTHH:MM:SS+HH:MM`` strings (local time, local offset)."""
    naive = instants.tz_localize(None)
    offset = ((naive - instants.tz_convert("UTC").tz_localize(None)) // pd.Timedelta(minutes=1)).to_numpy()
    clock = np.datetime_as_string(naive.to_numpy().astype("datetime64[s]"), unit="s").astype(object)
    return clock + _offset_text(offset)


def localize(local_naive: np.ndarray, zone: str) -> pd.DatetimeIndex:
    """Wall-clock times in ``zone`` (a time in the spring-forward gap moves forward, as a clock does)."""
    idx = pd.DatetimeIndex(local_naive)
    return idx.tz_localize(zone, ambiguous=np.zeros(len(idx), dtype=bool), nonexistent="shift_forward")


def oura_day(end_local: pd.DatetimeIndex) -> np.ndarray:
    """Oura's ``day`` of periods ending at ``end_local``: local date, +1 from 18:00 (datetime64[D])."""
    date = end_local.tz_localize(None).normalize().to_numpy().astype("datetime64[D]")
    return date + (end_local.hour >= DAY_CHANGE_HOUR).astype("timedelta64[D]")


def period_stamps(end_local_naive: np.ndarray, seconds_in_bed: np.ndarray,
                  zones: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``bedtime_start``, ``bedtime_end`` (ISO text) and ``day`` of periods given local end and length."""
    start = np.empty(len(zones), dtype=object)
    end = np.empty(len(zones), dtype=object)
    day = np.empty(len(zones), dtype="datetime64[D]")
    for zone in np.unique(zones):
        m = zones == zone
        end_at = localize(end_local_naive[m], zone)
        start_at = (end_at.tz_convert("UTC") - pd.to_timedelta(seconds_in_bed[m], unit="s")).tz_convert(zone)
        start[m], end[m], day[m] = iso_local(start_at), iso_local(end_at), oura_day(end_at)
    return start, end, day


def day_stamps(days: np.ndarray, hour: int, zones: np.ndarray) -> np.ndarray:
    """Daily-document ``timestamp``: the day at ``hour``:00 local, with that instant's offset."""
    out = np.empty(len(zones), dtype=object)
    for zone in np.unique(zones):
        m = zones == zone
        local = days[m].astype("datetime64[s]") + np.timedelta64(hour * 3600, "s")
        out[m] = iso_local(localize(local, zone))
    return out
