"""Tiny clean tables (docs/TABLES.md columns) for the windows and analysis tests, built by hand."""
from __future__ import annotations

import pandas as pd

from mglt_pipeline.registry import OUTCOMES

FIRST_DOSE = pd.Timestamp("2025-01-30")


def day(study_day: int) -> pd.Timestamp:
    """The calendar date of a study day for a first dose on 2025-01-30 (no Day 0)."""
    return FIRST_DOSE + pd.Timedelta(days=study_day - 1 if study_day > 0 else study_day)


def participants(rows: list[tuple[str, str | None, str]]) -> pd.DataFrame:
    """``(participant_id, first_dose_on, status)`` rows; age 40 + i, sex alternating F/M."""
    return pd.DataFrame({
        "participant_id": [r[0] for r in rows], "site": "S1",
        "age": [40 + i for i in range(len(rows))], "sex": ["F" if i % 2 == 0 else "M" for i in range(len(rows))],
        "enrolled_on": pd.Timestamp("2025-01-10"), "first_dose_on": pd.to_datetime([r[1] for r in rows]),
        "status": [r[2] for r in rows], "withdrawn_on": pd.NaT, "timezone": "Europe/Amsterdam",
        "source_file": "raw/participants.csv",
    })


def randomization(arms: dict[str, str], names: dict[str, str] | None = None) -> pd.DataFrame:
    """Arm codes per participant; ``names`` (code -> MgT/placebo) when unblinded."""
    return pd.DataFrame({"participant_id": list(arms), "arm_code": list(arms.values()),
                         "randomized_on": pd.Timestamp("2025-01-20"),
                         "arm": [names[c] if names else None for c in arms.values()],
                         "source_file": "raw/randomization.csv"})


def sleep_period(pid: str, pid_day: pd.Timestamp, kind: str, total: float, rid: str, lowest_hr: float = 50.0) -> dict:
    """One sleep period; deep = total/4, rem = total/4, light = total/2, 10 min awake."""
    return {"participant_id": pid, "id": rid, "day": pid_day, "type": kind,
            "total_sleep_duration": total, "deep_sleep_duration": total / 4, "light_sleep_duration": total / 2,
            "rem_sleep_duration": total / 4, "awake_time": 600.0, "time_in_bed": total + 600.0,
            "efficiency": 90.0, "latency": 600.0, "average_heart_rate": 60.0,
            "lowest_heart_rate": lowest_hr, "average_hrv": 40.0, "source_file": "raw/oura/x/sleep.json"}


def daily_documents(pid: str, days: list[pd.Timestamp], score: float) -> dict[str, pd.DataFrame]:
    """daily_sleep, daily_activity and daily_readiness rows, every value ``score`` on every day."""
    base = pd.DataFrame({"participant_id": pid, "day": days})
    base["id"] = [f"{pid}-{d:%Y%m%d}" for d in days]
    sleep = base.assign(score=score, timestamp="", **{f"contributors_{c}": score for c in (
        "deep_sleep", "efficiency", "latency", "rem_sleep", "restfulness", "timing", "total_sleep")})
    activity = base.assign(score=score, steps=score * 100, equivalent_walking_distance=score * 10)
    readiness = base.assign(score=score, **{f"contributors_{c}": score for c in (
        "activity_balance", "hrv_balance", "sleep_balance")})
    return {"oura_daily_sleep": sleep, "oura_daily_activity": activity, "oura_daily_readiness": readiness}


def diary_entries(pid: str, study_days: list[int], rating: float, taken_days: set[int] | None = None,
                  events: dict[int, str] | None = None) -> pd.DataFrame:
    """Diary rows with every rating ``rating``; supplement taken on ``taken_days`` (else all from Day 1)."""
    taken = set(study_days) if taken_days is None else taken_days
    return pd.DataFrame({
        "participant_id": pid, "date": [day(d) for d in study_days],
        **{c: rating for c in ("energy", "productivity", "mood", "mental_alertness", "grouchiness", "sleep_quality")},
        "took_supplement": [None if d < 1 else ("yes" if d in taken else "no") for d in study_days],
        "adverse_event": [(events or {}).get(d) for d in study_days], "source_file": "raw/diary/d.csv",
    })


def score_table(source: str, values: dict[tuple[str, str], float]) -> pd.DataFrame:
    """A scored questionnaire table: every outcome of ``source`` takes the value of its (pid, visit)."""
    ids = [o.id for o in OUTCOMES if o.source == source]
    visit_num = {"baseline": 0, "week_1": 1, "week_2": 2, "week_3": 3}
    from mglt_pipeline.scoring.instruments import INSTRUMENTS

    counts = [c for i in INSTRUMENTS if i.asset_name == source
              for c in [s.n_answered for s in i.scales] + [c.n_available for c in i.composites]]
    rows = [{"participant_id": pid, "visit": visit, "visit_num": visit_num[visit],
             **{i: v for i in ids}, **{c: 7 for c in counts}} for (pid, visit), v in values.items()]
    return pd.DataFrame(rows)


def _allowed_text(column) -> str:
    """A value a required text column accepts: the first of its allowed values, else "stand-in"."""
    allowed = [c.statistics.get("allowed_values") for c in column.checks if c.name == "isin"]
    return sorted(allowed[0])[0] if allowed and allowed[0] else "stand-in"


def _stand_in_value(column):
    """A value a required column accepts, for a column the stand-in does not need."""
    if column.type == "text":
        return _allowed_text(column)
    return {"integer": 0, "number": 0.0, "boolean": False}.get(column.type, pd.Timestamp("2000-01-01"))


def conforming(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every column of the table's warehouse contract that it lacks, all null (a text
    column that may not be null: its first allowed value, "stand-in", 0 or False), so that a hand-made stand-in can be stored by the
    warehouse IO manager, which refuses partial tables; whole numbers of a ``number`` column as floats."""
    from mglt_pipeline.warehouse.tables import contract_for

    nulls = {"text": object, "number": "float64", "integer": "Int64", "boolean": "boolean",
             "date": "datetime64[ns]", "timestamp": "datetime64[ns]"}
    missing = {c.name: pd.Series(_stand_in_value(c) if not c.nullable else
                                 pd.NA if c.type in ("integer", "boolean") else None, index=frame.index,
                                 dtype=nulls[c.type]) for c in contract_for(table).columns if c.name not in frame}
    numbers = {c.name: frame[c.name].astype("float64") for c in contract_for(table).columns
               if c.type == "number" and c.name in frame}
    return frame.assign(**numbers, **missing)
