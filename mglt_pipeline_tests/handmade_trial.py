"""A small trial written by hand in the raw contract formats (DATA_CONTRACT.md), not by the simulator.

Eight participants with explicit, formula-given values and the awkward cases real data have:
- P01 (New York) crosses the 2025-03-09 daylight-saving change; has a nap, a ``rest`` period longer
  than the main sleep, a ``late_nap`` ending after 18:00 (so it belongs to the next Oura day) and a
  ``deleted`` period; a blank ISI item (6 of 7: prorated);
- P02 has two ``long_sleep`` periods one night (the longer wins), a missing night, a day with a
  daily_sleep document but no sleep period; two blank ISI items (total missing); adherence 17/21;
- P03 has only 2 Oura nights in week 2 (window missing), ``lowest_heart_rate`` 255 and a null HRV;
  misses four diary days (counted as not taken); one blank LSEQ item of a 3-item domain;
- P04 withdraws on Day 10; P05 is randomized but never dosed; P06 (Amsterdam) crosses 2025-03-30;
  P07 is enrolled, never randomized; P08 is lost to follow-up after Day 16; P06 took the
  supplement on 16 of 21 days (below 80%);
- a later REDCap export and a later diary export each supersede a row of an earlier one; the Oura
  sleep periods of P02 are split over ``sleep.json`` and ``sleep_2.json`` with one record repeated.
Usage: ``python -m mglt_pipeline_tests.handmade_trial OUT_DIR``.
"""
from __future__ import annotations

import csv
import json
import sys
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

# id, arm (None: not randomized), first dose, status, last study day with data, timezone
PEOPLE = [
    ("P01", "A", date(2025, 3, 5), "completed", 21, "America/New_York"),
    ("P02", "B", date(2025, 3, 4), "completed", 21, "Europe/Amsterdam"),
    ("P03", "A", date(2025, 3, 6), "completed", 21, "Europe/Amsterdam"),
    ("P04", "B", date(2025, 3, 4), "withdrawn", 10, "Europe/London"),
    ("P05", "A", None, "withdrawn", -5, "Europe/Amsterdam"),
    ("P06", "B", date(2025, 3, 12), "completed", 21, "Europe/Amsterdam"),
    ("P07", None, None, "withdrawn", -8, "Europe/Amsterdam"),
    ("P08", "A", date(2025, 3, 5), "lost_to_follow_up", 16, "America/New_York"),
]
EVENTS = [("baseline_arm_1", 0, -1), ("day_7_arm_1", 1, 7), ("day_14_arm_1", 2, 14), ("day_21_arm_1", 3, 21)]
N_ITEMS = {"isi": 7, "lseq": 10, "rsq": 9, "poms": 65}
SEXES = ["F", "M", "X", "F", "M", "F", "M", "F"]
PLANNED_FIRST_DOSE = date(2025, 3, 10)  # for the never-dosed: where their baseline week would have been


def calendar_date(first_dose: date, study_day: int) -> date:
    return first_dose + timedelta(days=study_day - 1 if study_day > 0 else study_day)


def study_days(last_day: int) -> list[int]:
    return [d for d in range(-7, last_day + 1) if d != 0]


def _iso(local: datetime) -> str:
    return local.isoformat(timespec="seconds")


def _period(pid, day, kind, start, minutes, idx, i, d, hr_override=None, hrv=None):
    """A sleep period whose durations obey Oura's identities (stages sum, efficiency rounding)."""
    total = minutes * 60
    deep = round(total * 0.2 / 30) * 30
    rem = round(total * 0.25 / 30) * 30
    awake = 1500 + 120 * (d % 3)
    time_in_bed = total + awake
    efficiency = int(100 * total / time_in_bed + 0.5)
    end = (start.astimezone(timezone.utc) + timedelta(seconds=time_in_bed)).astimezone(start.tzinfo)
    return {"id": f"{pid}-{kind}-{day.isoformat()}-{idx}", "day": day.isoformat(), "type": kind,
            "bedtime_start": _iso(start), "bedtime_end": _iso(end), "total_sleep_duration": total,
            "deep_sleep_duration": deep, "rem_sleep_duration": rem, "light_sleep_duration": total - deep - rem,
            "awake_time": awake, "time_in_bed": time_in_bed, "efficiency": efficiency,
            "latency": 300 + 60 * ((d + 7) % 4), "average_heart_rate": 58.5 + i,
            "lowest_heart_rate": hr_override if hr_override is not None else 47 + i + (d + 7) % 3,
            "average_hrv": hrv if hrv is not False else None, "readiness_score_delta": None}


def _night(pid, i, tz, first, d):
    """Sleep periods of one Oura day: main sleep from 23:00 (+ i*5 min) the evening before."""
    day = calendar_date(first, d)
    start = datetime.combine(day - timedelta(days=1), time(23, 0), ZoneInfo(tz)) + timedelta(minutes=5 * i)
    start = start.astimezone(ZoneInfo(tz))
    minutes = 390 + 5 * i + 7 * ((d + 7) % 6)
    hrv = 35.5 + i + (d + 7) % 6
    if pid == "P03" and d == 3:
        hrv = False
    periods = [_period(pid, day, "long_sleep", start, minutes, 0, i, d,
                       hr_override=255 if (pid == "P03" and d == 5) else None, hrv=hrv)]
    if pid == "P01" and d in (-4, 4):
        afternoon = datetime.combine(day, time(14, 0), ZoneInfo(tz))
        periods.append(_period(pid, day, "sleep", afternoon, 45, 1, i, d, hrv=40.0))
        periods.append(_period(pid, day, "rest", start - timedelta(hours=1), minutes + 60, 2, i, d, hrv=41.0))
        evening = datetime.combine(day - timedelta(days=1), time(18, 30), ZoneInfo(tz))
        periods.append(_period(pid, day, "late_nap", evening, 50, 3, i, d, hrv=42.0))
        periods.append(_period(pid, day, "deleted", start, minutes + 90, 4, i, d, hrv=43.0))
    if pid == "P02" and d in (-3, 9):
        later = start + timedelta(minutes=minutes + 60)
        periods[0] = _period(pid, day, "long_sleep", start, 200, 0, i, d, hrv=hrv)
        periods.append(_period(pid, day, "long_sleep", later, 230, 5, i, d, hrv=hrv + 1))
    return periods


def _skip_night(pid, d):
    return (pid == "P02" and d == 12) or (pid == "P03" and d in (8, 9, 11, 12, 14))


def _oura(pid, i, tz, first, last_day) -> dict[str, list[dict]]:
    docs = {"daily_sleep": [], "sleep": [], "daily_activity": [], "daily_readiness": []}
    for d in study_days(last_day):
        if _skip_night(pid, d):
            continue
        day = calendar_date(first, d).isoformat()
        k = (d + 7)
        docs["daily_sleep"].append({
            "id": f"{pid}-ds-{day}", "day": day, "score": 60 + 2 * i + k % 5, "timestamp": f"{day}T00:00:00+00:00",
            "contributors": {"deep_sleep": 50 + i + 3 * (k % 7), "efficiency": 80, "latency": 70,
                             "rem_sleep": 55 + i + 2 * (k % 4), "restfulness": 65, "timing": 90, "total_sleep": 75}})
        if not (pid == "P02" and d == 6):
            docs["sleep"].extend(_night(pid, i, tz, first, d))
        steps = 6000 + 250 * i + 37 * k
        docs["daily_activity"].append({
            "id": f"{pid}-da-{day}", "day": day, "score": 70 + i + k % 8, "steps": steps,
            "active_calories": 300 + k, "total_calories": 2200 + k, "equivalent_walking_distance": steps * 0.8,
            "high_activity_time": 600, "medium_activity_time": 1800, "low_activity_time": 7200,
            "sedentary_time": 30000, "resting_time": 28000, "non_wear_time": 0, "timestamp": f"{day}T04:00:00+00:00",
            "contributors": {"meet_daily_targets": 60, "move_every_hour": 90, "recovery_time": 95,
                             "stay_active": 70, "training_frequency": 80, "training_volume": 85},
            "class_5_min": "0000"})
        docs["daily_readiness"].append({
            "id": f"{pid}-dr-{day}", "day": day, "score": 72 + i + k % 6, "temperature_deviation": -0.1 + 0.05 * (k % 3),
            "timestamp": f"{day}T00:00:00+00:00",
            "contributors": {"activity_balance": 75 + k % 9, "body_temperature": 98, "hrv_balance": 60 + i + k % 4,
                             "previous_day_activity": 80, "previous_night": 77, "recovery_index": 88,
                             "resting_heart_rate": 90, "sleep_balance": 68 + 2 * (k % 5)}})
    return docs


def _write_json(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"data": records, "next_token": None}, indent=1))


def _write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows([["" if v is None else v for v in row] for row in rows])


BLANK_ITEMS = {  # (participant, event) -> items left blank
    ("P01", "baseline_arm_1"): {"isi_3", "poms_2"},
    ("P02", "day_7_arm_1"): {"isi_1", "isi_5", "lseq_4", "rsq_1", "rsq_2", "rsq_3", "rsq_4", "rsq_5"},
    ("P03", "baseline_arm_1"): {"lseq_1", "poms_2", "poms_10"},
    ("P06", "day_21_arm_1"): {"lseq_1", "lseq_2", "rsq_9", "poms_3", "poms_12"},
}


def _redcap_row(pid, i, event, visit, first):
    row = {"record_id": pid, "redcap_event_name": event}
    blanks = BLANK_ITEMS.get((pid, event), set())
    stamp = f"{calendar_date(first or PLANNED_FIRST_DOSE, [-1, 7, 14, 21][visit])} 09:{10 + i}:00"
    values = {"isi": lambda k: (i + k + visit) % 5, "lseq": lambda k: min(100.0, 35.5 + 3 * i + 4 * k + 5 * visit),
              "rsq": lambda k: 1 + (i + 2 * k + visit) % 5, "poms": lambda k: (3 * i + k + visit) % 5}
    for instrument, n in N_ITEMS.items():
        row[f"{instrument}_timestamp"] = stamp
        for k in range(1, n + 1):
            name = f"{instrument}_{k}"
            row[name] = None if name in blanks else values[instrument](k)
        row[f"{instrument}_complete"] = 2
    return row


def _redcap(out: Path) -> None:
    header = ["record_id", "redcap_event_name"] + [c for ins, n in N_ITEMS.items() for c in
                                                   [f"{ins}_timestamp", *[f"{ins}_{k}" for k in range(1, n + 1)], f"{ins}_complete"]]
    first_export, second_export = [], []
    for i, (pid, arm, first, status, last_day, tz) in enumerate(PEOPLE):
        if arm is None:
            continue
        for event, visit, day in EVENTS:
            if (first is None and visit > 0) or (first is not None and day > last_day):
                continue
            row = _redcap_row(pid, i, event, visit, first)
            (first_export if visit <= 1 else second_export).append(row)
    stale = dict(first_export[0], isi_1=4, isi_2=4)   # P01 baseline as first sent ...
    first_export[0], corrected = stale, _redcap_row("P01", 0, "baseline_arm_1", 0, PEOPLE[0][2])
    second_export.append(corrected)                  # ... and corrected in the later export
    _write_csv(out / "redcap" / "export_2025-03-20.csv", header, [[r[c] for c in header] for r in first_export])
    _write_csv(out / "redcap" / "export_2025-04-10.csv", header, [[r[c] for c in header] for r in second_export])


DIARY_HEADER = ["participant_id", "date", "energy", "productivity", "mood", "mental_alertness", "grouchiness",
                "sleep_quality", "took_supplement", "adverse_event"]
NOT_TAKEN = {"P02": {3, 8, 15, 20}, "P06": {2, 9, 13, 17, 19}}
NO_ENTRY = {"P03": {4, 10, 16, 17}, "P08": {2}}
EVENTS_TEXT = {("P01", 3): "mild headache", ("P02", -2): "cold", ("P06", 12): "vivid dreams", ("P08", 5): "nausea"}


def _diary(out: Path) -> None:
    early, late = [], []
    for i, (pid, arm, first, status, last_day, tz) in enumerate(PEOPLE):
        if first is None:
            continue
        for d in study_days(last_day):
            if d in NO_ENTRY.get(pid, set()):
                continue
            k = d + 7
            ratings = [round(4 + (i + k) % 5 + 0.5 * (k % 2), 1), 5 + (k % 4), 6 + (i % 3) - (k % 2),
                       5.5 + (k % 3), 2 + (i + k) % 4, 6 + (k % 5) * 0.5]
            if pid == "P06" and d == 15:
                ratings[0] = None
            taken = None if d < 1 else ("no" if d in NOT_TAKEN.get(pid, set()) else "yes")
            row = [pid, calendar_date(first, d).isoformat(), *ratings, taken, EVENTS_TEXT.get((pid, d))]
            (early if d <= 10 else late).append(row)
    superseded = next(r for r in early if r[0] == "P02" and r[1] == calendar_date(PEOPLE[1][2], 5).isoformat())
    late.append(list(superseded))
    superseded[2:8] = [0, 0, 0, 0, 10, 0]             # the early export's wrong copy
    _write_csv(out / "diary" / "diary_2025-03-15.csv", DIARY_HEADER, early)
    _write_csv(out / "diary" / "diary_2025-04-05.csv", DIARY_HEADER, late)


def write_handmade_trial(data_root: Path | str, unblinded: bool = True) -> Path:
    """Write the trial's raw files under ``data_root/raw``; returns the raw folder."""
    out = Path(data_root) / "raw"
    people_rows, randomized = [], []
    for i, (pid, arm, first, status, last_day, tz) in enumerate(PEOPLE):
        withdrawn_on = calendar_date(first or PLANNED_FIRST_DOSE, last_day) if status != "completed" else None
        people_rows.append([pid, "S1" if i % 2 else "S2", 36 + 3 * i, SEXES[i], "2025-02-20",
                            first.isoformat() if first else None, status, withdrawn_on, tz])
        if arm:
            randomized.append([pid, arm, "2025-02-25"])
        docs = _oura(pid, i, tz, first or PLANNED_FIRST_DOSE, last_day) if last_day >= -7 else {}
        for name, records in docs.items():
            if pid == "P02" and name == "sleep":
                repeated = dict(records[20])
                _write_json(out / "oura" / pid / "sleep.json", records[:21])
                _write_json(out / "oura" / pid / "sleep_2.json", [repeated] + records[21:])
            else:
                _write_json(out / "oura" / pid / f"{name}.json", records)
    _write_csv(out / "participants.csv", ["participant_id", "site", "age", "sex", "enrolled_on", "first_dose_on",
                                          "status", "withdrawn_on", "timezone"], people_rows)
    _write_csv(out / "randomization.csv", ["participant_id", "arm_code", "randomized_on"], randomized)
    if unblinded:
        _write_csv(out / "unblinding.csv", ["arm_code", "arm"], [["A", "placebo"], ["B", "MgT"]])
    _redcap(out)
    _diary(out)
    return out


if __name__ == "__main__":
    print(write_handmade_trial(Path(sys.argv[1])))
