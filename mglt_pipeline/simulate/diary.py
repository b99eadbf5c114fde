"""The daily diary, Study Day -7 to Day 21: six 0..10 ratings, adherence and adverse events.

Ratings are integers with the planted effects (``draws.daily_values``). ``took_supplement`` is empty
before Day 1, then mostly ``yes``; a few participants adhere poorly (below the SAP's 80% per-protocol
threshold). Adverse events are rare free text, equally frequent in both arms (the study reports no
safety concerns). Some days have no entry. The diary comes as two exports split at a date; a few
entries of the first export were corrected later and re-exported in the second, which supersedes.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import design as d
from .draws import DailySpec, daily_values

RATINGS: dict[str, tuple[str, DailySpec]] = {
    "energy": ("diary_energy", DailySpec(5.8, 0.8, 0.8, 0, 10)),
    "productivity": ("diary_productivity", DailySpec(5.8, 0.8, 0.8, 0, 10)),
    "mood": ("diary_mood", DailySpec(5.8, 0.8, 0.8, 0, 10)),
    "mental_alertness": ("diary_mental_alertness", DailySpec(5.8, 0.8, 0.8, 0, 10)),
    "grouchiness": ("diary_grouchiness", DailySpec(4.2, 0.8, 0.8, 0, 10)),
    "sleep_quality": ("diary_sleep_quality", DailySpec(5.5, 0.8, 0.8, 0, 10)),
}
ADVERSE_EVENTS = ("headache", "mild GI upset", "vivid dreams", "drowsiness on waking", "nausea, mild",
                  "loose stools")
MISSING_DAY_P = 0.05
ADVERSE_EVENT_P = 0.015
POOR_ADHERENCE_P = 0.08
CORRECTED_P = 0.02


def diary_rows(rng: np.random.Generator, design: pd.DataFrame, effects: dict[str, float]) -> pd.DataFrame:
    """Final diary entries, one per participant and date kept, in DATA_CONTRACT.md column order."""
    n = len(design)
    is_placebo = ~design["is_active"].to_numpy()
    values = {col: daily_values(rng, oid, spec, effects.get(oid, 0.0), is_placebo, d.DAY_WEEK)
              for col, (oid, spec) in RATINGS.items()}
    kept = d.collected(design) & (rng.random((n, d.N_DAYS)) >= MISSING_DAY_P)
    p, o = np.nonzero(kept)
    adherence = np.where(rng.random(n) < POOR_ADHERENCE_P, 0.6, 0.97)
    treated = d.STUDY_DAYS[o] > 0
    took = np.where(rng.random(len(p)) < adherence[p], "yes", "no")
    event = rng.random(len(p)) < np.where(treated, ADVERSE_EVENT_P, ADVERSE_EVENT_P / 3)
    rows = pd.DataFrame({
        "participant_id": design["participant_id"].to_numpy()[p],
        "date": d.dates(design)[p, o].astype(str),
        **{col: values[col][p, o].astype(np.int64) for col in RATINGS},
        "took_supplement": np.where(treated, took, ""),
        "adverse_event": np.where(event, np.array(ADVERSE_EVENTS)[rng.integers(0, len(ADVERSE_EVENTS), len(p))], ""),
    })
    return rows


def export_files(rng: np.random.Generator, rows: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """export_1 (entries up to the median date, a few with an energy value later corrected) and export_2."""
    dates = rows["date"].to_numpy()
    cutoff = np.sort(dates)[len(dates) // 2] if len(dates) else ""
    early = dates <= cutoff
    corrected = early & (rng.random(len(rows)) < CORRECTED_P)
    first = rows[early].copy()
    wrong = corrected[early]
    first.loc[wrong, "energy"] = (first.loc[wrong, "energy"] + rng.integers(2, 6, int(wrong.sum()))) % 11
    return {"export_1.csv": first, "export_2.csv": rows[~early | corrected]}
