"""Oura sleep periods (the ``sleep`` collection): main sleeps carrying the planted stage effects,
plus the naps, late naps, rest periods, deleted periods and second long sleeps of real data.

Stage durations are whole 30-s epochs and obey INSTRUMENTS.md's identities: deep + light + REM =
total_sleep_duration, total + awake_time = time_in_bed, efficiency = round-half-up(100 x total /
time_in_bed). The main sleep of a night is its longest ``long_sleep``: a second long sleep (back to
bed after the main sleep) is always shorter. ``lowest_heart_rate`` 255 (no data) occurs only on
short periods, so the main-sleep outcomes are not touched by it.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .draws import DailySpec, bounded_normal, daily_values

EPOCH_S = 30
STAGE_SPECS: dict[str, DailySpec] = {
    "oura_deep_sleep_min": DailySpec(80, 12, 12, 0, 600, 0.5),
    "oura_rem_sleep_min": DailySpec(95, 14, 14, 0, 600, 0.5),
    "oura_light_sleep_min": DailySpec(245, 26, 24, 0, 900, 0.5),
}
PERIOD_SPECS: dict[str, DailySpec] = {
    "awake_min": DailySpec(50, 9, 9, 0.5, 300, 0.5),
    "oura_sleep_latency_min": DailySpec(14, 5, 5, 0.5, 120, 0.5),
    "oura_lowest_hr": DailySpec(56, 5, 3, 35, 100, 1),
    "oura_average_hrv": DailySpec(42, 10, 6, 5, 200, 1),
}
SHORT_PERIODS = {  # type: (daily probability, earliest start hour local, start window h, min, max minutes)
    "sleep": (0.10, 13.0, 3.0, 20, 90),
    "late_nap": (0.03, 18.1, 0.6, 15, 35),
    "rest": (0.08, 10.0, 7.0, 5, 20),
    "deleted": (0.005, 12.0, 5.0, 10, 40),
}
SECOND_LONG_SLEEP_P = 0.02
NO_HEART_RATE_P = {"sleep": 0.15, "late_nap": 0.2, "rest": 0.5, "deleted": 0.3}


def efficiency(total_s: np.ndarray, in_bed_s: np.ndarray) -> np.ndarray:
    """round-half-up(100 x total / time_in_bed), in exact integer arithmetic."""
    return (200 * total_s + in_bed_s) // (2 * in_bed_s)


def _minutes_to_s(minutes: np.ndarray) -> np.ndarray:
    return np.rint(minutes * 60).astype(np.int64)


def main_sleeps(rng, effects, is_placebo, week, dates, present) -> pd.DataFrame:
    """One main ``long_sleep`` per present night (participant index ``p``, local end time, stages)."""
    values = {k: daily_values(rng, k, s, effects.get(k, 0.0), is_placebo, week)
              for k, s in {**STAGE_SPECS, **PERIOD_SPECS}.items()}
    p, o = np.nonzero(present)
    deep, rem, light, awake = (_minutes_to_s(values[k][p, o]) for k in
                               ("oura_deep_sleep_min", "oura_rem_sleep_min", "oura_light_sleep_min", "awake_min"))
    total = deep + rem + light
    wake = np.rint(6.75 * 3600 + bounded_normal(rng, len(p), 30 * 60)).astype("timedelta64[s]")
    lowest = values["oura_lowest_hr"][p, o].astype(np.int64)
    return pd.DataFrame({
        "p": p, "type": "long_sleep",
        "end_local": dates[p, o].astype("datetime64[s]") + wake,
        "deep": deep, "rem": rem, "light": light, "awake": awake,
        "latency": _minutes_to_s(values["oura_sleep_latency_min"][p, o]),
        "lowest_hr": lowest,
        "average_hr": lowest + np.round(rng.uniform(4, 10, len(p)), 3),
        "average_hrv": values["oura_average_hrv"][p, o].astype(np.int64),
    }).assign(total=total)


def second_long_sleeps(rng, main: pd.DataFrame) -> pd.DataFrame:
    """Back-to-bed long sleeps after some main sleeps: 60% of the main sleep's stages, so shorter."""
    extra = main[rng.random(len(main)) < SECOND_LONG_SLEEP_P].copy()
    for col in ("deep", "rem", "light", "awake", "latency"):
        extra[col] = (extra[col] * 0.6 // EPOCH_S * EPOCH_S).astype(np.int64)
    extra["total"] = extra["deep"] + extra["rem"] + extra["light"]
    gap = rng.integers(60, 121, len(extra)) * 60
    extra["end_local"] = (extra["end_local"].to_numpy()
                          + (gap + extra["total"] + extra["awake"]).to_numpy().astype("timedelta64[s]"))
    return extra


def short_periods(rng, dates, collected) -> pd.DataFrame:
    """Naps (``sleep``), evening ``late_nap`` (its ``day`` is the next date), ``rest`` and ``deleted``."""
    frames = []
    for kind, (prob, first_hour, window_h, low_min, high_min) in SHORT_PERIODS.items():
        p, o = np.nonzero(collected & (rng.random(collected.shape) < prob))
        in_bed = rng.integers(low_min * 2, high_min * 2 + 1, len(p)) * EPOCH_S
        awake = (in_bed * rng.uniform(0.05, 0.3, len(p)) // EPOCH_S * EPOCH_S).astype(np.int64)
        asleep = in_bed - awake
        if kind == "rest":
            deep = rem = np.zeros(len(p), dtype=np.int64)
        else:
            deep = (asleep * rng.uniform(0.05, 0.15, len(p)) // EPOCH_S * EPOCH_S).astype(np.int64)
            rem = (asleep * rng.uniform(0.1, 0.25, len(p)) // EPOCH_S * EPOCH_S).astype(np.int64)
        start_s = np.rint((first_hour + rng.random(len(p)) * window_h) * 3600).astype(np.int64)
        # A late nap ends after 18:00 of the previous calendar date, which Oura counts as this day.
        date = dates[p, o] - np.timedelta64(1 if kind == "late_nap" else 0, "D")
        no_hr = rng.random(len(p)) < NO_HEART_RATE_P[kind]
        lowest = np.where(no_hr, 255, rng.integers(55, 72, len(p)))
        frames.append(pd.DataFrame({
            "p": p, "type": kind,
            "end_local": date.astype("datetime64[s]") + (start_s + in_bed).astype("timedelta64[s]"),
            "deep": deep, "rem": rem, "light": asleep - deep - rem, "awake": awake,
            "latency": np.minimum(awake, rng.integers(0, 20, len(p)) * EPOCH_S),
            "lowest_hr": lowest,
            "average_hr": np.where(no_hr, np.nan, lowest + np.round(rng.uniform(3, 9, len(p)), 3)),
            "average_hrv": np.where(rng.random(len(p)) < 0.3, np.nan, rng.integers(20, 70, len(p))),
            "total": asleep,
        }))
    return pd.concat(frames, ignore_index=True)


def sleep_periods(rng, effects, is_placebo, week, dates, present, collected) -> pd.DataFrame:
    """All sleep periods of all participants, with ``time_in_bed``, ``efficiency`` and extra fields."""
    main = main_sleeps(rng, effects, is_placebo, week, dates, present)
    periods = pd.concat([main, second_long_sleeps(rng, main), short_periods(rng, dates, collected)],
                        ignore_index=True)
    n = len(periods)
    periods["time_in_bed"] = periods["total"] + periods["awake"]
    periods["efficiency"] = efficiency(periods["total"].to_numpy(), periods["time_in_bed"].to_numpy())
    periods["average_breath"] = np.round(rng.uniform(12.5, 17.5, n) * 8) / 8
    periods["restless_periods"] = rng.integers(0, 12, n) * (periods["time_in_bed"] > 3600)
    return periods
