"""A tiny trial's warehouse tables, written by hand, for the submission room's tests.

P1 (arm A, dosed 2025-01-30, completed), P2 (arm B, dosed 2025-01-30, withdrew on 2025-02-08, Day 10),
P3 (arm A, randomized 2025-01-20, never dosed, withdrew) and P4 (enrolled, never randomized).
Every outcome's analysis rows: P1 and P2 have a baseline (``base`` 10 + k for outcome k) and values
``aval`` = base + visit_num (P2's week 3 missing); P3 has no values. FAS: P1 and P2; PP: P1 only.
Diary: P1 took the supplement on Days 1..20 (Day 21 "no"), P2 on Days 1..10.
"""
from __future__ import annotations

import pandas as pd

from mglt_pipeline.registry import OUTCOMES
from mglt_pipeline_tests import analysis_frames as f

VISITS = (("week_1", 1), ("week_2", 2), ("week_3", 3))


def participants() -> pd.DataFrame:
    people = f.participants([("P1", "2025-01-30", "completed"), ("P2", "2025-01-30", "withdrawn"),
                             ("P3", None, "withdrawn"), ("P4", None, "withdrawn")])
    people["withdrawn_on"] = pd.to_datetime([None, "2025-02-08", "2025-01-25", "2025-01-15"])
    people["site"] = ["S1", "S2", "S1", "S2"]
    return people


def randomization(blinded: bool = False) -> pd.DataFrame:
    return f.randomization({"P1": "A", "P2": "B", "P3": "A"}, None if blinded else {"A": "placebo", "B": "MgT"})


def analysis_dataset(blinded: bool = False) -> pd.DataFrame:
    arms = {"P1": "A", "P2": "B", "P3": "A"} if blinded else {"P1": "placebo", "P2": "MgT", "P3": "placebo"}
    rows = []
    for k, outcome in enumerate(OUTCOMES):
        for pid, arm in arms.items():
            base = None if pid == "P3" else 10.0 + k
            for visit, num in VISITS:
                aval = None if base is None or (pid == "P2" and num == 3) else base + num
                rows.append({"participant_id": pid, "arm": arm, "outcome": outcome.id, "visit": visit,
                             "visit_num": num, "aval": aval, "base": base,
                             "chg": None if aval is None else aval - base, "fas": pid in ("P1", "P2"),
                             "pp": pid == "P1"})
    return pd.DataFrame(rows).astype({"aval": float, "base": float, "chg": float})


def participant_adherence() -> pd.DataFrame:
    return pd.DataFrame({"participant_id": ["P1", "P2"], "oura_wear_pct": [75.0, 100.0],
                         "diary_completion_pct": [2600 / 28, 100.0], "supplement_pct": [2000 / 21, 1000 / 21]})


def diary_daily() -> pd.DataFrame:
    entries = [("P1", d, "yes" if d < 21 else "no") for d in range(1, 22)] + [("P2", d, "yes") for d in range(1, 11)]
    return pd.DataFrame({"participant_id": [e[0] for e in entries], "date": [f.day(e[1]) for e in entries],
                         "study_day": [e[1] for e in entries], "took_supplement": [e[2] for e in entries]})
