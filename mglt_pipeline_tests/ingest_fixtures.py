"""Small hand-made raw files for the ingest tests: every number here is chosen by hand."""
from __future__ import annotations

import json
from pathlib import Path

PARTICIPANTS_HEADER = "participant_id,site,age,sex,enrolled_on,first_dose_on,status,withdrawn_on,timezone"
PARTICIPANTS_ROWS = [
    "P001,NYC,41,F,2025-01-01,2025-01-08,completed,,America/New_York",
    "P002,NYC,38,M,2025-01-02,2025-01-09,withdrawn,2025-01-20,America/New_York",
    "P003,AMS,50,X,2025-01-03,,lost_to_follow_up,2025-01-05,Europe/Amsterdam",
]


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def csv_text(header: str, rows: list[str]) -> str:
    return "\n".join([header, *rows]) + "\n"


def redcap_header() -> str:
    items = [f"{name}_{i}" for name, n in (("isi", 7), ("lseq", 10), ("rsq", 9), ("poms", 65))
             for i in range(1, n + 1)]
    return ",".join(["record_id", "redcap_event_name", *items, "isi_timestamp", "isi_complete"])


def redcap_row(record_id: str, event: str, isi: list[str] | None = None, stamp: str = "2025-01-08 09:00:00",
               complete: str = "2") -> str:
    """One export row: ISI items as given (default all 1), LSEQ 50, RSQ 3, POMS 2."""
    isi = isi or ["1"] * 7
    return ",".join([record_id, event, *isi, *["50"] * 10, *["3"] * 9, *["2"] * 65, stamp, complete])


def sleep_record(record_id: str, day: str, end: str, **overrides) -> dict:
    """A long sleep whose stages add up: 5400 + 14400 + 5400 = 25200 s total, 28800 s in bed, 88 %."""
    record = {"id": record_id, "day": day, "type": "long_sleep", "bedtime_start": end[:11] + "00:00:00" + end[19:],
              "bedtime_end": end, "total_sleep_duration": 25200, "deep_sleep_duration": 5400,
              "light_sleep_duration": 14400, "rem_sleep_duration": 5400, "awake_time": 3600,
              "time_in_bed": 28800, "efficiency": 88, "latency": 600, "average_heart_rate": 58.0,
              "lowest_heart_rate": 49, "average_hrv": 41, "hr_5_min": [60, 58, 55]}
    record.update(overrides)
    return record


def daily_record(record_id: str, day: str, score: int, contributors: dict) -> dict:
    return {"id": record_id, "day": day, "score": score, "timestamp": f"{day}T00:00:00+00:00",
            "contributors": contributors, "new_api_field": {"ignored": True}}


def collection(records: list[dict]) -> str:
    return json.dumps({"data": records, "next_token": None})


def write_small_trial(root: Path) -> dict[str, int]:
    """A clean three-participant trial; returns the clean row count each table must have."""
    raw = root / "raw"
    write(raw / "participants.csv", csv_text(PARTICIPANTS_HEADER, PARTICIPANTS_ROWS))
    write(raw / "randomization.csv", csv_text("participant_id,arm_code,randomized_on", [
        "P001,A,2025-01-07", "P002,B,2025-01-08", "P003,A,2025-01-04"]))
    write(raw / "unblinding.csv", csv_text("arm_code,arm", ["A,placebo", "B,MgT"]))
    for pid in ("P001", "P002"):
        folder = raw / "oura" / pid
        write(folder / "sleep.json", collection([
            sleep_record(f"{pid}-s1", "2025-01-09", "2025-01-09T07:00:00-05:00"),
            sleep_record(f"{pid}-s2", "2025-01-10", "2025-01-10T07:30:00-05:00")]))
        write(folder / "sleep_2.json", collection([
            sleep_record(f"{pid}-s3", "2025-01-11", "2025-01-11T06:45:00-05:00")]))
        contributors = {"deep_sleep": 80, "efficiency": 90, "latency": 70, "rem_sleep": 75,
                        "restfulness": 60, "timing": 85, "total_sleep": 88}
        write(folder / "daily_sleep.json", collection([
            daily_record(f"{pid}-d{i}", f"2025-01-{9 + i:02d}", 70 + i, contributors) for i in range(3)]))
        write(folder / "daily_activity.json", collection([
            {**daily_record(f"{pid}-a1", "2025-01-09", 77, {"meet_daily_targets": 60, "move_every_hour": 95,
                                                           "recovery_time": 100, "stay_active": 70,
                                                           "training_frequency": 40, "training_volume": 50}),
             "steps": 8000, "equivalent_walking_distance": 6500, "active_calories": 400}]))
        write(folder / "daily_readiness.json", collection([
            {**daily_record(f"{pid}-r1", "2025-01-09", 82, {"activity_balance": 80, "sleep_balance": 70,
                                                           "hrv_balance": 65}),
             "temperature_deviation": -0.1}]))
    write(raw / "redcap" / "export_2025-01-10.csv", csv_text(redcap_header(), [
        redcap_row("P001", "baseline_arm_1"), redcap_row("P002", "baseline_arm_1"),
        redcap_row("P001", "day_7_arm_1", stamp="[not completed]", complete="0")]))
    diary_header = ("participant_id,date,energy,productivity,mood,mental_alertness,grouchiness,"
                    "sleep_quality,took_supplement,adverse_event")
    write(raw / "diary" / "diary_2025-01-10.csv", csv_text(diary_header, [
        "P001,2025-01-08,6,5,7,6,3,7,yes,", "P001,2025-01-09,5,,6,6,4,6,yes,mild headache",
        "P002,2025-01-08,4,4,5,5,5,4,no,"]))
    return {"participants": 3, "randomization": 3, "oura_sleep_periods": 6, "oura_daily_sleep": 6,
            "oura_daily_activity": 2, "oura_daily_readiness": 2, "questionnaire_items": 3 * 91,
            "diary_entries": 3}
