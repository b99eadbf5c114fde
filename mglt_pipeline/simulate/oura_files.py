"""The Oura files of a participant folder, in each of the three ways a trial receives them.

DATA_CONTRACT.md "Oura ring": API v2 collection responses (``writers.write_oura_collections``), the
member's account data export, and the web Trends CSV. This module writes the last two from the same
records, with the simulator's own statement of their formats (never the pipeline's):
- export: ``oura_<type>_<YYYY-MM-DDTHH-MM-SS>.json`` holding ``{"<collection>": [...]}`` (two-space
  indent, as downloaded) and its ``.csv`` twin with nested objects flattened (``contributors_deep_sleep``)
  and lists joined with ``;``. Records have no ``id``, daily documents no ``timestamp``; sleep periods
  carry ``timezone`` (minutes), and the rejected detections (``rest``) have no ``type``, as the short
  unclassified periods of real exports. A ``daily-spo2`` type comes along, as in every real export.
- trends: one CSV per participant, in the 2022 or the 2021 column layout of Oura's web dashboard
  (header names copied from real files): durations in seconds, the older layout's activity times in
  minutes, missing values ``None`` (2022) or empty (2021), one row per day with the day's main sleep.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path

import numpy as np

EXPORT_TYPES = {"sleep": "sleep", "daily_sleep": "daily-sleep", "daily_activity": "daily-activity",
                "daily_readiness": "daily-readiness", "daily_spo2": "daily-spo2"}
NEWER_LAYOUT = [
    ("date", "date"), ("Sleep Score", "sleep_score"), ("Total Sleep Score", "c_total_sleep"),
    ("REM Sleep Score", "c_rem_sleep"), ("Deep Sleep Score", "c_deep_sleep"),
    ("Sleep Efficiency Score", "c_efficiency"), ("Restfulness Score", "c_restfulness"),
    ("Sleep Latency Score", "c_latency"), ("Sleep Timin Score", "c_timing"),
    ("Total Sleep Duration", "total_sleep_duration"), ("Total Bedtime ", "time_in_bed"),
    ("Awake Time", "awake_time"), ("REM Sleep Duration", "rem_sleep_duration"),
    ("Light Sleep Duration", "light_sleep_duration"), ("Deep Sleep Duration", "deep_sleep_duration"),
    ("Restless Sleep", "restless"), ("Sleep Efficiency", "efficiency"), ("Sleep Latency", "latency"),
    ("Sleep Timing", "midpoint"), ("Bedtime Start", "bedtime_start"), ("Bedtime End", "bedtime_end"),
    ("Average Resting Heart Rate", "average_heart_rate"), ("Lowest Resting Heart Rate", "lowest_heart_rate"),
    ("Average HRV", "average_hrv"), ("Temperature Deviation (°C)", "temperature_deviation"),
    ("Temperature Trend Deviation", "temperature_trend_deviation"), ("Respiratory Rate", "average_breath"),
    ("Activity Score", "activity_score"), ("Stay Active Score", "a_stay_active"),
    ("Move Every Hour Score", "a_move_every_hour"), ("Meet Daily Targets Score", "a_meet_daily_targets"),
    ("Training Frequency Score", "a_training_frequency"), ("Training Volume Score", "a_training_volume"),
    ("Activity Burn", "active_calories"), ("Total Burn", "total_calories"), ("Steps", "steps"),
    ("Equivalent Walking Distance", "equivalent_walking_distance"), ("Inactive Time", "sedentary_time"),
    ("Rest Time", "resting_time"), ("Low Activity Time", "low_activity_time"),
    ("Medium Activity Time", "medium_activity_time"), ("High Activity Time", "high_activity_time"),
    ("Non-wear Time", "non_wear_time"), ("Average MET", "average_met_minutes"),
    ("Long Periods of Inactivity", "inactivity_alerts"), ("Readiness Score", "readiness_score"),
    ("Previous Night Score", "r_previous_night"), ("Sleep Balance Score", "r_sleep_balance"),
    ("Previous Day Activity Score", "r_previous_day_activity"), ("Activity Balance Score", "r_activity_balance"),
    ("Temperature Score", "r_body_temperature"), ("Resting Heart Rate Score", "r_resting_heart_rate"),
    ("HRV Balance Score", "r_hrv_balance"), ("Recovery Index Score", "r_recovery_index"),
]
OLDER_LAYOUT = [
    ("date", "date"), ("Sleep Score", "sleep_score"), ("Total Sleep Score", "c_total_sleep"),
    ("REM Sleep Score", "c_rem_sleep"), ("Deep Sleep Score", "c_deep_sleep"),
    ("Sleep Efficiency Score", "c_efficiency"), ("Restfulness Score", "c_restfulness"),
    ("Sleep Latency Score", "c_latency"), ("Sleep Timing Score", "c_timing"), ("Total Bedtime", "time_in_bed"),
    ("Total Sleep Time", "total_sleep_duration"), ("Awake Time", "awake_time"),
    ("REM Sleep Time", "rem_sleep_duration"), ("Light Sleep Time", "light_sleep_duration"),
    ("Deep Sleep Time", "deep_sleep_duration"), ("Restless Sleep", "restless"), ("Sleep Efficiency", "efficiency"),
    ("Sleep Latency", "latency"), ("Sleep Timing", "midpoint"), ("Sleep Timing", None),
    ("Bedtime Start", "bedtime_start"), ("Bedtime End", "bedtime_end"),
    ("Average Resting Heart Rate", "average_heart_rate"), ("Lowest Resting Heart Rate", "lowest_heart_rate"),
    ("Average HRV", "average_hrv"), ("Temperature Deviation (°C)", "temperature_deviation"),
    ("Respiratory Rate", "average_breath"), ("Activity Score", "activity_score"),
    ("Stay Active Score", "a_stay_active"), ("Move Every Hour Score", "a_move_every_hour"),
    ("Meet Daily Targets Score", "a_meet_daily_targets"), ("Training Frequency Score", "a_training_frequency"),
    ("Training Volume Score", "a_training_volume"), ("Recovery Time Score", "a_recovery_time"),
    ("Activity Burn", "active_calories"), ("Total Burn", "total_calories"), ("Target Calories", "target_calories"),
    ("Steps", "steps"), ("Daily Movement", "equivalent_walking_distance"), ("Inactive Time", "sedentary_min"),
    ("Rest Time", "resting_min"), ("Low Activity Time", "low_activity_min"),
    ("Medium Activity Time", "medium_activity_min"), ("High Activity Time", "high_activity_min"),
    ("Non-wear Time", "non_wear_min"), ("Average MET", "average_met_minutes"),
    ("Long Periods of Inactivity", "inactivity_alerts"), ("Readiness Score", "readiness_score"),
    ("Previous Night Score", "r_previous_night"), ("Sleep Balance Score", "r_sleep_balance"),
    ("Previous Day Activity Score", "r_previous_day_activity"), ("Activity Balance Score", "r_activity_balance"),
    ("Temperature Score", "r_body_temperature"), ("Resting Heart Rate Score", "r_resting_heart_rate"),
    ("HRV Balance Score", "r_hrv_balance"), ("Recovery Index Score", "r_recovery_index"),
]
LAYOUTS = {"2022": (NEWER_LAYOUT, "None"), "2021": (OLDER_LAYOUT, "")}
ACTIVITY_TIMES = ("sedentary_time", "resting_time", "low_activity_time", "medium_activity_time",
                  "high_activity_time", "non_wear_time")


FORMATS = ("api", "export", "trends", "mixed")
MIXED_SHARES = {"export": 0.175, "trends": 0.075}
"""``mixed``: the share of participants whose data come as an account export or as a Trends CSV;
the others by API pull, and a few of those (``MIXED_API_AND_TRENDS``) also sent a Trends CSV of the
same nights, whose copies the API's supersede."""
MIXED_API_AND_TRENDS = 2


def assign_formats(rng: np.random.Generator, n: int, oura_format: str) -> tuple[np.ndarray, np.ndarray]:
    """The way each participant's Oura data come (``api``, ``export``, ``trends``), and which API
    participants also sent a Trends CSV."""
    if oura_format not in FORMATS:
        raise ValueError(f"oura_format must be one of {', '.join(FORMATS)}, not {oura_format!r}")
    extra = np.zeros(n, dtype=bool)
    if oura_format != "mixed":
        return np.full(n, oura_format, dtype=object), extra
    order = rng.permutation(n)
    n_export, n_trends = (int(round(share * n)) for share in MIXED_SHARES.values())
    formats = np.full(n, "api", dtype=object)
    formats[order[:n_export]] = "export"
    formats[order[n_export:n_export + n_trends]] = "trends"
    extra[order[n_export + n_trends:n_export + n_trends + MIXED_API_AND_TRENDS]] = True
    return formats, extra


def _offset_minutes(stamp: str) -> int:
    sign = -1 if stamp[-6] == "-" else 1
    return sign * (int(stamp[-5:-3]) * 60 + int(stamp[-2:]))


def export_record(collection: str, record: dict) -> dict:
    """An API record as the account export writes it."""
    out = {k: v for k, v in record.items() if k != "id" and not (k == "timestamp" and collection != "sleep")}
    if collection == "sleep":
        out["timezone"] = _offset_minutes(record["bedtime_end"])
        if record.get("type") == "rest":
            del out["type"]
    return out


def _flat(record: Mapping, prefix: str = "") -> dict:
    """Nested objects as ``<parent>_<child>`` columns, lists joined with ``;`` (the CSV twin)."""
    out = {}
    for key, value in record.items():
        if isinstance(value, Mapping):
            out.update(_flat(value, f"{prefix}{key}_"))
        elif isinstance(value, list):
            out[f"{prefix}{key}"] = ";".join("" if v is None else str(v) for v in value)
        else:
            out[f"{prefix}{key}"] = value
    return out


def _cell(value: object, missing: str = "") -> object:
    return missing if value is None else "true" if value is True else "false" if value is False else value


def _csv(header: list[str], rows: list[list]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def write_export(folder: Path, records: Mapping[str, list[dict]], downloaded: date) -> None:
    """The account export of one participant: a JSON file and its CSV twin per type."""
    folder.mkdir(parents=True, exist_ok=True)
    for k, (collection, kind) in enumerate(EXPORT_TYPES.items()):
        rows = [export_record(collection, r) for r in records.get(collection, [])]
        stamp = f"{downloaded.isoformat()}T18-{25 + k:02d}"
        (folder / f"oura_{kind}_{stamp}-52.json").write_text(json.dumps({collection: rows}, indent=2))
        flat = [_flat(r) for r in rows]
        header = list(dict.fromkeys(key for row in flat for key in row))
        (folder / f"oura_{kind}_{stamp}-22.csv").write_text(
            _csv(header, [[_cell(row.get(h)) for h in header] for row in flat]))


def spo2_records(rng: np.random.Generator, days: list[str]) -> list[dict]:
    """A daily_spo2 record per day (not analysed: it rides along in every export)."""
    return [{"day": d, "spo2_percentage": round(float(rng.uniform(95.5, 99.0)), 3)} for d in days]


def _main_sleeps(periods: list[dict]) -> dict[str, dict]:
    main: dict[str, dict] = {}
    for p in periods:
        if p.get("type") == "long_sleep" and (p["day"] not in main or p["total_sleep_duration"] > main[p["day"]]["total_sleep_duration"]):
            main[p["day"]] = p
    return main


def _values(day: str, sleep: dict | None, score: dict | None, activity: dict | None, readiness: dict | None) -> dict:
    """The day's values under the layouts' meaning keys."""
    values: dict = {"date": day}
    if score:
        values["sleep_score"] = score.get("score")
        values.update({f"c_{k}": v for k, v in (score.get("contributors") or {}).items()})
    if sleep:
        values.update({k: sleep.get(k) for k in (
            "total_sleep_duration", "time_in_bed", "awake_time", "rem_sleep_duration", "light_sleep_duration",
            "deep_sleep_duration", "efficiency", "latency", "bedtime_start", "bedtime_end", "average_heart_rate",
            "lowest_heart_rate", "average_hrv", "average_breath")})
        values["restless"] = sleep.get("restless_periods")
        values["midpoint"] = sleep["time_in_bed"] // 2
    if activity:
        values.update({k: activity.get(k) for k in (
            "steps", "equivalent_walking_distance", "active_calories", "total_calories", "average_met_minutes",
            "inactivity_alerts", "target_calories", *ACTIVITY_TIMES)})
        values["activity_score"] = activity.get("score")
        values.update({f"a_{k}": v for k, v in (activity.get("contributors") or {}).items()})
        values.update({k.replace("_time", "_min"): activity[k] // 60 for k in ACTIVITY_TIMES if activity.get(k) is not None})
    if readiness:
        values["readiness_score"] = readiness.get("score")
        values["temperature_deviation"] = readiness.get("temperature_deviation")
        values["temperature_trend_deviation"] = readiness.get("temperature_trend_deviation")
        values.update({f"r_{k}": v for k, v in (readiness.get("contributors") or {}).items()})
    return values


def write_trends(folder: Path, records: Mapping[str, list[dict]], layout: str) -> None:
    """One Trends CSV of one participant in the ``layout`` (``2022`` or ``2021``) of the web dashboard."""
    columns, missing = LAYOUTS[layout]
    by_day = {name: {r["day"]: r for r in records.get(name, [])}
              for name in ("daily_sleep", "daily_activity", "daily_readiness")}
    main = _main_sleeps(records.get("sleep", []))
    days = sorted(set(main).union(*by_day.values()))
    if not days:
        return
    rows = [_values(d, main.get(d), by_day["daily_sleep"].get(d), by_day["daily_activity"].get(d),
                    by_day["daily_readiness"].get(d)) for d in days]
    body = [[row.get(key) if row.get(key) is not None else (missing if key in row else "") for _, key in columns]
            for row in rows]
    first, last = days[0], (date.fromisoformat(days[-1]) + timedelta(days=1)).isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"oura_{first}_{last}_trends.csv").write_text(_csv([name for name, _ in columns], body))
