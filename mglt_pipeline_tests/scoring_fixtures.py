"""Hand-made answer sheets in the long ``questionnaire_items`` layout (docs/TABLES.md)."""
from __future__ import annotations

import pandas as pd

VISIT_NUM = {"baseline": 0, "week_1": 1, "week_2": 2, "week_3": 3}
EVENT = {"baseline": "baseline_arm_1", "week_1": "day_7_arm_1", "week_2": "day_14_arm_1",
         "week_3": "day_21_arm_1"}


def sheet(instrument: str, answers: list[float | None] | dict[int, float | None],
          participant: str = "P001", visit: str = "baseline") -> pd.DataFrame:
    """One form: a list gives items 1..len in order, a dict only the items it names (None = blank)."""
    pairs = enumerate(answers, start=1) if isinstance(answers, list) else answers.items()
    rows = [
        {"participant_id": participant, "event": EVENT[visit], "visit": visit,
         "visit_num": VISIT_NUM[visit], "instrument": instrument, "item": item,
         "value": float("nan") if value is None else float(value),
         "completed_at": pd.Timestamp("2024-03-01 08:00"), "complete_status": 2,
         "source_file": "raw/redcap/export_1.csv"}
        for item, value in pairs
    ]
    return pd.DataFrame(rows)


def sheets(*frames: pd.DataFrame) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True)


def poms_answers(default: float | None, **by_item: float | None) -> list[float | None]:
    """65 POMS answers, all ``default`` except those given as ``i<item>=value``."""
    answers: list[float | None] = [default] * 65
    for key, value in by_item.items():
        answers[int(key[1:]) - 1] = value
    return answers
