"""The Oura documents of the alternative trial (``alt_trial``), and the latent model they share with
its questionnaires and diary: study days, AR(1) day-to-day noise, the planted effect.

Oura API v2 collection responses as DATA_CONTRACT.md and INSTRUMENTS.md describe them: sleep periods
obey Oura's identities (stages add up to the total, total + awake = time in bed, efficiency rounded
half up) and its day rule (``day`` is the local date of ``bedtime_end``, plus one from 18:00); every
record carries fields the pipeline does not know, and some JSON nulls.
Only the standard library and numpy; nothing from ``mglt_pipeline``.
"""
from __future__ import annotations

import json
import uuid
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

ACTIVE_CODE, PLACEBO_CODE = "A", "B"
RHO = 0.65
DAYS = [d for d in range(-7, 22) if d != 0]
# Planted active-minus-placebo differences at Day 21 (latent scale, before rounding/clipping).
PLANTED = {"total_sleep_min": 14.0, "deep_fraction": 0.015, "hrv": 0.08, "steps": 0.10, "readiness": 3.0,
           "isi": -2.0, "lseq_qos": 8.0, "poms_fi": -0.5, "diary_energy": 0.9, "diary_sleep_quality": 0.7}


def calendar_date(first_dose: date, study_day: int) -> date:
    """CDISC study day to date: Day 1 is the first dose, there is no Day 0."""
    return first_dose + timedelta(days=study_day - 1 if study_day > 0 else study_day)


def ar1(rng: np.random.Generator, n: int, rho: float = RHO) -> np.ndarray:
    """A stationary AR(1) series with unit variance."""
    e = np.empty(n)
    e[0] = rng.standard_normal()
    for t in range(1, n):
        e[t] = rho * e[t - 1] + np.sqrt(1 - rho**2) * rng.standard_normal()
    return e


def effect(p: dict, name: str, study_day: int) -> float:
    """The planted effect: grows linearly from Day 1 to Day 21 in the active arm, 0 otherwise."""
    return PLANTED.get(name, 0.0) * max(study_day, 0) / 21 if p["code"] == ACTIVE_CODE else 0.0


def record_id(rng: np.random.Generator) -> str:
    return str(uuid.UUID(bytes=rng.bytes(16)))


def clip_score(x: float) -> int:
    return int(np.clip(round(x), 1, 100))


def period(rng, day: date, kind: str, start: datetime, total: int, hr: float, hrv: float | None,
           no_heart_rate: bool = False) -> dict:
    """One sleep period (seconds, multiples of 30) with unknown fields; ``finish`` completes it."""
    deep = 30 * round(total * rng.uniform(0.12, 0.2) / 30)
    return {"id": record_id(rng), "day": day.isoformat(), "type": kind, "total_sleep_duration": total,
            "deep_sleep_duration": deep, "bedtime_start": start.isoformat(timespec="seconds"),
            "average_heart_rate": round(float(hr) + 7 + rng.normal(), 3),
            "lowest_heart_rate": 255 if no_heart_rate else int(round(hr)),
            "average_hrv": hrv, "average_breath": round(rng.uniform(13, 18), 3), "period": 0,
            "heart_rate": {"interval": 300.0, "items": [None, 61.0, 58.0], "timestamp": start.isoformat()},
            "hypnogram_5_min": "4422211", "readiness": {"score": 70, "contributors": {"hrv_balance": None}},
            "low_battery_alert": False, "sleep_algorithm_version": "v2", "readiness_score_delta": None}


def finish(rec: dict, rng, rem: int, awake: int, latency: int | None) -> dict:
    """Stages, time in bed, efficiency (round half up) and the end time from the start."""
    total, start = rec["total_sleep_duration"], datetime.fromisoformat(rec["bedtime_start"])
    in_bed = total + awake
    end = (start.astimezone(timezone.utc) + timedelta(seconds=in_bed)).astimezone(start.tzinfo)
    rec.update(rem_sleep_duration=rem, light_sleep_duration=total - rec["deep_sleep_duration"] - rem,
               awake_time=awake, time_in_bed=in_bed, efficiency=int(np.floor(100 * total / in_bed + 0.5)),
               latency=latency, bedtime_end=end.isoformat(timespec="seconds"))
    return rec


def heart_rate(p: dict, d: int, noise: dict) -> float:
    return 55 + 5 * p["trait"]["hr"] + 1.5 * noise["hr"][d]


def sleep_periods(rng, p: dict, day: date, d: int, noise: dict) -> list[dict]:
    """The sleep periods of one Oura day: the main sleep first, then at most one other period."""
    zone, t = ZoneInfo(p["zone"]), p["trait"]
    total = 30 * round((412 + 28 * t["sleep"] + 16 * noise["sleep"][d] + effect(p, "total_sleep_min", d)) * 2)
    deep_share = 0.17 + 0.02 * t["sleep"] + 0.012 * noise["deep"][d] + effect(p, "deep_fraction", d)
    deep, rem = 30 * round(total * deep_share / 30), 30 * round(total * (0.22 + 0.01 * noise["deep"][d]) / 30)
    hr = heart_rate(p, d, noise)
    hrv = float(round(np.exp(np.log(36) + 0.3 * t["hr"] + 0.12 * noise["hr"][d] + effect(p, "hrv", d))))
    start = datetime.combine(day - timedelta(days=1), time(0), zone) + timedelta(
        hours=float(np.clip(22.8 + 0.7 * t["sleep"] + 0.4 * rng.standard_normal(), 21.5, 25.5)))
    main = period(rng, day, "long_sleep", start, total, hr, None if rng.random() < 0.04 else hrv,
                  no_heart_rate=rng.random() < 0.03)
    main["deep_sleep_duration"] = deep
    awake = 30 * round(rng.gamma(4, 450) / 30)
    periods = [finish(main, rng, rem, awake, None if rng.random() < 0.03 else 30 * int(rng.integers(8, 80)))]
    u, evening = rng.random(), datetime.combine(day - timedelta(days=1), time(18, 40), zone)
    if u < 0.03:                                      # split night: an earlier, shorter long_sleep
        early = period(rng, day, "long_sleep", start - timedelta(hours=4), total // 3 // 30 * 30 - 60, hr, hrv)
        periods.append(finish(early, rng, 0, 600, 900))
    elif u < 0.12:                                    # afternoon nap, same day
        nap = period(rng, day, "sleep", datetime.combine(day, time(14, 20), zone),
                     30 * int(rng.integers(30, 110)), hr + 4, None)
        periods.append(finish(nap, rng, 0, 300, 300))
    elif u < 0.16:                                    # late nap the evening before: Oura's day change
        periods.append(finish(period(rng, day, "late_nap", evening, 1500, hr + 5, hrv), rng, 0, 240, 240))
    elif u < 0.21:                                    # rejected detection longer than the night
        rest = period(rng, day, "rest", start - timedelta(hours=1), total + 4200, hr, hrv)
        periods.append(finish(rest, rng, 0, 3000, None))
    elif u < 0.23:
        periods.append(finish(period(rng, day, "deleted", start, total + 1800, hr, hrv), rng, rem, awake, 600))
    return periods


def daily_sleep(rng, p: dict, day: date, d: int, noise: dict, main: dict) -> dict:
    """The daily_sleep document: score and contributors (1..100) that follow the main sleep."""
    total, deep, rem = (main[f"{k}_duration"] for k in ("total_sleep", "deep_sleep", "rem_sleep"))
    return {"id": record_id(rng), "day": day.isoformat(), "timestamp": local_stamp(p, day, 0),
            "score": None if rng.random() < 0.02 else clip_score(55 + total / 60 / 12 + 2 * noise["sleep"][d]),
            "contributors": {"deep_sleep": None if rng.random() < 0.02 else clip_score(deep / 60 * 1.15),
                             "efficiency": clip_score(main["efficiency"]), "latency": clip_score(80 + noise["hr"][d]),
                             "rem_sleep": clip_score(rem / 60 * 0.95 + 3 * noise["deep"][d]), "restfulness": None,
                             "timing": clip_score(90 - 5 * abs(p["trait"]["sleep"])),
                             "total_sleep": clip_score(total / 60 / 5)}}


def daily_activity(rng, p: dict, day: date, d: int, noise: dict, main: dict) -> dict:
    """The daily_activity document: lognormal steps, distance = steps x the participant's stride."""
    steps = int(round(7600 * p["walk"] * np.exp(0.22 * noise["act"][d] + effect(p, "steps", d))))
    minutes = lambda lo, hi: 60 * int(rng.integers(lo, hi))  # noqa: E731
    return {"id": record_id(rng), "day": day.isoformat(), "timestamp": local_stamp(p, day, 4),
            "score": clip_score(58 + 11 * np.log(steps / 7600) + 4 * rng.standard_normal()),
            "steps": None if rng.random() < 0.02 else steps, "active_calories": int(steps * 0.045),
            "total_calories": 2100 + int(steps * 0.045), "equivalent_walking_distance": int(round(steps * p["stride"])),
            "high_activity_time": minutes(0, 40), "medium_activity_time": minutes(10, 90),
            "low_activity_time": minutes(120, 300), "sedentary_time": minutes(400, 700),
            "resting_time": main["time_in_bed"], "non_wear_time": minutes(0, 60),
            "met": {"interval": 60.0, "items": [0.9, 1.2]},
            "contributors": {"meet_daily_targets": clip_score(60 + 10 * noise["act"][d]), "move_every_hour": 95,
                             "recovery_time": 100, "stay_active": clip_score(70 + 8 * noise["act"][d]),
                             "training_frequency": None, "training_volume": 96},
            "class_5_min": "1112233322", "target_meters": 8000, "inactivity_alerts": int(rng.integers(0, 3))}


def daily_readiness(rng, p: dict, day: date, d: int, noise: dict, main: dict) -> dict:
    """The daily_readiness document, with the newer ``sleep_regularity`` contributor and ``meta``."""
    hr, score = heart_rate(p, d, noise), 74 + 4 * p["trait"]["hr"] + 3 * noise["hr"][d] + effect(p, "readiness", d)
    return {"id": record_id(rng), "day": day.isoformat(), "timestamp": local_stamp(p, day, 0),
            "score": clip_score(score),
            "temperature_deviation": None if rng.random() < 0.05 else round(0.2 * rng.standard_normal(), 2),
            "temperature_trend_deviation": None, "meta": {"algorithm": "v3", "flags": []},
            "contributors": {"activity_balance": clip_score(76 + 6 * p["trait"]["act"] + 4 * noise["act"][d]),
                             "body_temperature": 97,
                             "hrv_balance": None if rng.random() < 0.05 else clip_score(score - 6),
                             "previous_day_activity": clip_score(80 + 5 * noise["act"][d]),
                             "previous_night": clip_score(main["total_sleep_duration"] / 6), "recovery_index": 90,
                             "resting_heart_rate": clip_score(110 - hr),
                             "sleep_balance": clip_score(66 + 3 * p["trait"]["sleep"] + 2 * noise["sleep"][d]
                                                         + effect(p, "readiness", d) / 2),
                             "sleep_regularity": 70}}


def local_stamp(p: dict, day: date, hour: int) -> str:
    return datetime.combine(day, time(hour), ZoneInfo(p["zone"])).isoformat()


def night(rng, p: dict, d: int, noise: dict) -> dict[str, list[dict]]:
    """The four Oura documents of one study day (the night ending that morning, then the day)."""
    day = calendar_date(p["first"], d)
    periods = sleep_periods(rng, p, day, d, noise)
    return {"sleep": periods, **{f.__name__: [f(rng, p, day, d, noise, periods[0])]
                                 for f in (daily_sleep, daily_activity, daily_readiness)}}


def write_oura(rng, raw: Path, p: dict) -> None:
    """One participant's folder: every collection, paged over up to three files."""
    noise = {k: dict(zip(DAYS, ar1(rng, len(DAYS)))) for k in ("sleep", "deep", "hr", "act")}
    docs: dict[str, list[dict]] = {"daily_sleep": [], "sleep": [], "daily_activity": [], "daily_readiness": []}
    for d in DAYS:
        if d > p["last"] or d in p["ring_gap"] or rng.random() < 0.07:
            continue
        for name, records in night(rng, p, d, noise).items():
            docs[name].extend(records)
    for name, records in docs.items():
        pages = np.array_split(np.arange(len(records)), 1 + len(records) // 12 % 3)
        for k, page in enumerate(pages):
            data = ([records[pages[k - 1][-1]]] if k else []) + [records[j] for j in page]
            token = None if k == len(pages) - 1 else f"token-{k + 1}"
            path = raw / "oura" / p["id"] / (f"{name}.json" if k == 0 else f"{name}_{k + 1}.json")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"data": data, "next_token": token}, ensure_ascii=False))
