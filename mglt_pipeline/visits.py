"""The SAP's visits, declared once (SAP "Study days and visits").

Nightly and daily data fall into an analysis window by study day; questionnaires by REDCap event.
Ingest (REDCap events to visits), the analysis room (windows, the analysis dataset), the effects
room (visit levels of the model, the final visit) and the report all read them from here.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class VisitWindow:
    """One analysis visit: its name, number, the study days its window covers (inclusive) and the
    REDCap event whose questionnaires belong to it."""

    visit: str
    visit_num: int
    first_day: int
    last_day: int
    redcap_event: str


VISIT_WINDOWS: tuple[VisitWindow, ...] = (
    VisitWindow("baseline", 0, -7, -1, "baseline_arm_1"),
    VisitWindow("week_1", 1, 1, 7, "day_7_arm_1"),
    VisitWindow("week_2", 2, 8, 14, "day_14_arm_1"),
    VisitWindow("week_3", 3, 15, 21, "day_21_arm_1"),
)
BASELINE = "baseline"
FINAL_VISIT = "week_3"
VISITS: tuple[str, ...] = tuple(w.visit for w in VISIT_WINDOWS)
VISIT_NUM: dict[str, int] = {w.visit: w.visit_num for w in VISIT_WINDOWS}
POST_BASELINE_VISITS: tuple[str, ...] = tuple(w.visit for w in VISIT_WINDOWS if w.visit != BASELINE)
REDCAP_EVENT_VISITS: dict[str, VisitWindow] = {w.redcap_event: w for w in VISIT_WINDOWS}
TREATMENT_DAYS: tuple[int, int] = (1, 21)
