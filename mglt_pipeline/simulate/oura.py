"""The Oura ring: four API v2 collections per participant under ``raw/oura/<participant_id>/``.

``daily_sleep``, ``sleep``, ``daily_activity`` and ``daily_readiness`` documents as the Oura API v2
returns them (DATA_CONTRACT.md, INSTRUMENTS.md), including fields the pipeline does not use
(``average_breath``, ``restless_periods``, ``period``, activity MET minutes, readiness
``sleep_regularity`` and ``meta`` in newer files). Nights are missing at random (ring not worn or
not charged); activity days are missing independently. Outcome values are daily draws with the
planted effects (``draws.daily_values``); sub-scores are integers 1..100 kept away from the limits.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import design as d
from .draws import DailySpec, daily_values
from .oura_files import assign_formats, spo2_records, write_export, write_trends
from .oura_sleep import sleep_periods
from .oura_time import day_stamps, period_stamps
from .writers import oura_ids, participant_records, records, write_oura_collections

MISSING_NIGHT_P = 0.04
MISSING_ACTIVITY_P = 0.02
MISSING_READINESS_P = 0.01
NEWER_APP_P = 0.5


def _score(mean: float, sd_b: float = 6, sd_w: float = 6) -> DailySpec:
    return DailySpec(mean, sd_b, sd_w, 1, 100)


SLEEP_SCORES = {  # daily_sleep field -> spec; outcome ids name the analysed ones
    "score": ("oura_sleep_score", _score(72)),
    "deep_sleep": ("oura_deep_sleep_score", _score(66)),
    "rem_sleep": ("oura_rem_sleep_score", _score(68)),
    "efficiency": (None, _score(78)), "latency": (None, _score(70, 8, 8)),
    "restfulness": (None, _score(65, 7, 7)), "timing": (None, _score(75, 8, 8)),
    "total_sleep": (None, _score(70, 7, 7)),
}
ACTIVITY_VALUES = {
    "score": ("oura_activity_score", _score(70, 5, 6)),
    "equivalent_walking_distance": ("oura_daily_movement_m", DailySpec(9000, 1500, 1200, 0, 60000)),
    "steps": ("oura_steps", DailySpec(9500, 2000, 1800, 0, 80000)),
    "meet_daily_targets": (None, _score(70, 10, 12)), "move_every_hour": (None, _score(80, 8, 12)),
    "recovery_time": (None, _score(85, 6, 8)), "stay_active": (None, _score(68, 8, 10)),
    "training_frequency": (None, _score(72, 10, 8)), "training_volume": (None, _score(74, 10, 8)),
}
READINESS_VALUES = {
    "score": ("oura_readiness_score", _score(70, 5, 5)),
    "activity_balance": ("oura_readiness_activity_balance", _score(68, 6, 5)),
    "sleep_balance": ("oura_readiness_sleep_balance", _score(66, 6, 5)),
    "hrv_balance": ("oura_readiness_hrv_balance", _score(70, 6, 5)),
    "body_temperature": (None, _score(88, 4, 5)), "previous_day_activity": (None, _score(75, 6, 8)),
    "previous_night": (None, _score(72, 6, 7)), "recovery_index": (None, _score(78, 6, 8)),
    "resting_heart_rate": (None, _score(80, 6, 6)), "sleep_regularity": (None, _score(75, 6, 6)),
}
ACTIVITY_CONTRIBUTORS = ("meet_daily_targets", "move_every_hour", "recovery_time", "stay_active",
                         "training_frequency", "training_volume")
SLEEP_CONTRIBUTORS = ("deep_sleep", "efficiency", "latency", "rem_sleep", "restfulness", "timing", "total_sleep")
READINESS_CONTRIBUTORS = ("activity_balance", "body_temperature", "hrv_balance", "previous_day_activity",
                          "previous_night", "recovery_index", "resting_heart_rate", "sleep_balance")


def _grid_values(rng, table, effects, is_placebo, week, p, o) -> dict[str, np.ndarray]:
    """Each field of ``table`` drawn over participants x days, then taken at (p, o)."""
    out = {}
    for field, (outcome_id, spec) in table.items():
        values = daily_values(rng, outcome_id or field, spec, effects.get(outcome_id, 0.0), is_placebo, week)
        out[field] = values[p, o].astype(np.int64)
    return out


def _daily_doc(rng, ids_p, zones, dates, fields, contributors, hour, extra=None):
    p, o = ids_p
    day = dates[p, o]
    flat = {"id": oura_ids(rng, len(p)), "day": day.astype(str).tolist(),
            "score": fields["score"], **(extra or {}),
            "timestamp": day_stamps(day, hour, zones[p])}
    return p, records(flat, {"contributors": {c: fields[c] for c in contributors}})


def daily_sleep_docs(rng, effects, is_placebo, zones, dates, present):
    p, o = np.nonzero(present)
    fields = _grid_values(rng, SLEEP_SCORES, effects, is_placebo, d.DAY_WEEK, p, o)
    return _daily_doc(rng, (p, o), zones, dates, fields, SLEEP_CONTRIBUTORS, 0)


def daily_activity_docs(rng, effects, is_placebo, zones, dates, present):
    p, o = np.nonzero(present)
    f = _grid_values(rng, ACTIVITY_VALUES, effects, is_placebo, d.DAY_WEEK, p, o)
    n = len(p)
    active_cal = np.rint(f["equivalent_walking_distance"] * 0.045 + rng.normal(0, 40, n)).clip(0).astype(np.int64)
    times = {"high_activity_time": rng.integers(0, 40, n) * 60, "medium_activity_time": rng.integers(10, 80, n) * 60,
             "low_activity_time": rng.integers(150, 330, n) * 60, "sedentary_time": rng.integers(420, 640, n) * 60,
             "non_wear_time": rng.integers(0, 60, n) * 60}
    times["resting_time"] = 86400 - sum(times.values())
    extra = {"active_calories": active_cal, "total_calories": active_cal + rng.integers(1700, 2300, n),
             "equivalent_walking_distance": f["equivalent_walking_distance"], "steps": f["steps"],
             **times, "average_met_minutes": np.round(rng.uniform(1.2, 1.8, n), 3),
             "inactivity_alerts": rng.integers(0, 4, n), "target_calories": np.full(n, 350),
             "target_meters": np.full(n, 7000),
             "meters_to_target": np.maximum(7000 - f["equivalent_walking_distance"], 0)}
    return _daily_doc(rng, (p, o), zones, dates, f, ACTIVITY_CONTRIBUTORS, 4, extra)


def daily_readiness_docs(rng, effects, is_placebo, zones, dates, present, newer_app):
    p, o = np.nonzero(present)
    f = _grid_values(rng, READINESS_VALUES, effects, is_placebo, d.DAY_WEEK, p, o)
    n = len(p)
    extra = {"temperature_deviation": np.round(rng.normal(0, 0.25, n), 2),
             "temperature_trend_deviation": np.round(rng.normal(0, 0.15, n), 2)}
    p_, recs = _daily_doc(rng, (p, o), zones, dates, f, READINESS_CONTRIBUTORS, 0, extra)
    for rec, newer, regularity in zip(recs, newer_app[p].tolist(), f["sleep_regularity"].tolist()):
        if newer:
            rec["contributors"]["sleep_regularity"] = regularity
            rec["meta"] = {"algorithm_version": "v2.1", "source": "ring"}
    return p_, recs


def _integers(values: pd.Series) -> list:
    """Whole numbers as JSON integers, missing as null (Oura writes ``average_hrv`` as an integer)."""
    return [None if v != v else int(v) for v in values.tolist()]


def sleep_docs(rng, effects, is_placebo, zones, dates, present, collected):
    periods = sleep_periods(rng, effects, is_placebo, d.DAY_WEEK, dates, present, collected)
    start, end, day = period_stamps(periods["end_local"].to_numpy(), periods["time_in_bed"].to_numpy(),
                                    zones[periods["p"].to_numpy()])
    periods = periods.assign(bedtime_start=start, bedtime_end=end, day=day.astype(str))
    periods = periods.assign(_start=pd.to_datetime(periods["end_local"])
                             - pd.to_timedelta(periods["time_in_bed"], unit="s"))
    periods = periods.sort_values(["p", "_start"], kind="stable").reset_index(drop=True)
    periods["period"] = periods.groupby(["p", "day"]).cumcount()
    n = len(periods)
    flat = {"id": oura_ids(rng, n), "average_breath": periods["average_breath"],
            "average_heart_rate": periods["average_hr"], "average_hrv": _integers(periods["average_hrv"]),
            "awake_time": periods["awake"], "bedtime_end": periods["bedtime_end"],
            "bedtime_start": periods["bedtime_start"], "day": periods["day"],
            "deep_sleep_duration": periods["deep"], "efficiency": periods["efficiency"],
            "latency": periods["latency"], "light_sleep_duration": periods["light"],
            "low_battery_alert": np.zeros(n, dtype=bool), "lowest_heart_rate": periods["lowest_hr"],
            "period": periods["period"], "readiness_score_delta": np.full(n, np.nan),
            "rem_sleep_duration": periods["rem"], "restless_periods": periods["restless_periods"],
            "sleep_algorithm_version": np.full(n, "v2", dtype=object),
            "sleep_score_delta": np.full(n, np.nan), "time_in_bed": periods["time_in_bed"],
            "total_sleep_duration": periods["total"], "type": periods["type"]}
    return periods["p"].to_numpy(), records(flat)


def write_other_ways(rng: np.random.Generator, folder, design: pd.DataFrame, collections: dict,
                     formats: np.ndarray, also_trends: np.ndarray) -> None:
    """The account exports and Trends CSVs of the participants who send their data that way."""
    by_participant = participant_records(design["participant_id"].tolist(), collections)
    downloaded = (design["day_minus_7"] + pd.to_timedelta(design["last_offset"] + 2, unit="D")).dt.date
    for i, pid in enumerate(design["participant_id"]):
        own = by_participant[pid]
        if formats[i] == "export":
            days = [r["day"] for r in own["daily_sleep"]]
            write_export(folder / pid, {**own, "daily_spo2": spo2_records(rng, days)}, downloaded.iloc[i])
        if formats[i] == "trends" or also_trends[i]:
            write_trends(folder / pid, own, "2022" if also_trends[i] or rng.random() < 0.5 else "2021")


def simulate_oura(rng: np.random.Generator, design: pd.DataFrame, effects: dict[str, float], raw,
                  oura_format: str = "api", format_rng: np.random.Generator | None = None) -> dict:
    """Write every participant's four collections, each participant's in the way ``oura_format``
    gives them (``mixed``: see ``oura_files.assign_formats``); return counts of records per
    collection and of participants per way."""
    collected = d.collected(design)
    dates = d.dates(design)
    is_placebo = ~design["is_active"].to_numpy()
    zones = design["timezone"].to_numpy()
    night = collected & (rng.random(collected.shape) >= MISSING_NIGHT_P)
    activity = collected & (rng.random(collected.shape) >= MISSING_ACTIVITY_P)
    readiness = night & (rng.random(collected.shape) >= MISSING_READINESS_P)
    newer_app = rng.random(len(design)) < NEWER_APP_P
    collections = {
        "daily_sleep": daily_sleep_docs(rng, effects, is_placebo, zones, dates, night),
        "sleep": sleep_docs(rng, effects, is_placebo, zones, dates, night, collected),
        "daily_activity": daily_activity_docs(rng, effects, is_placebo, zones, dates, activity),
        "daily_readiness": daily_readiness_docs(rng, effects, is_placebo, zones, dates, readiness, newer_app),
    }
    format_rng = format_rng or np.random.default_rng(0)
    formats, also_trends = assign_formats(format_rng, len(design), oura_format)
    write_oura_collections(rng, raw / "oura", design["participant_id"].tolist(), collections, formats == "api")
    write_other_ways(format_rng, raw / "oura", design, collections, formats, also_trends)
    counts = {name: len(recs) for name, (_, recs) in collections.items()}
    ways = {way: int((formats == way).sum()) for way in ("api", "export", "trends")}
    return {**counts, "participants_by_way": {**ways, "api_and_trends": int(also_trends.sum())}}
