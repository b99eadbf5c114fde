"""The report's safety section: adverse events of the safety set, as display text.

SAP "Analysis sets": the safety set is the dosed participants, analysed by arm as randomized, and
adverse events come from the diary's ``adverse_event`` text (the analysis room's ``adverse_events``
table, which keeps entries before Day 1). The counts are the analysis room's
``adverse_event_summary``; the report only puts them in words. While blinded the arms are their
codes, whatever labels the tables carry (SAP "Blinded mode").
"""
from __future__ import annotations

import pandas as pd

from mglt_pipeline.analysis.dataset import derive_arm_labels
from mglt_pipeline.visits import TREATMENT_DAYS
from mglt_pipeline.analysis.tables import NOT_RANDOMIZED, TOTAL, adverse_event_summary
from mglt_pipeline.report.formatting import MISSING, fmt_count, is_missing

PRE_TREATMENT = "pre-treatment"
TREATMENT = "treatment"
POST_TREATMENT = "after Day 21"
GROUP_NAMES = {NOT_RANDOMIZED: "Not randomized", TOTAL: "Total"}
ANY_EVENT_ROW = "Participants with any treatment-emergent adverse event (Day 1 on), n (%)"


def report_arms(randomization: pd.DataFrame, blinded: bool) -> pd.DataFrame:
    """``participant_id`` and ``arm`` as the report names the arms: the codes while blinded."""
    arms = derive_arm_labels(randomization)
    return arms.assign(arm=arms["arm_code"]) if blinded else arms


def safety_summary(adverse_events: pd.DataFrame, participants: pd.DataFrame,
                   randomization: pd.DataFrame, blinded: bool) -> pd.DataFrame:
    """Safety set and participants with any treatment-emergent adverse event per arm, then total
    (``adverse_event_summary``)."""
    return adverse_event_summary(adverse_events, participants, report_arms(randomization, blinded))


def safety_set_size(summary: pd.DataFrame) -> int:
    """The number of participants in the safety set (the summary's total row)."""
    return int(summary.loc[summary["arm"] == TOTAL, "safety_set"].sum())


def _group_order(summary: pd.DataFrame) -> list[str]:
    """The arms (sorted), then not randomized, then total: the order of the participant flow."""
    arms = sorted(a for a in summary["arm"] if a not in GROUP_NAMES)
    return arms + [g for g in GROUP_NAMES if g in set(summary["arm"])]


def count_percent(count: int, denominator: int) -> str:
    """``n (x.x%)`` of ``denominator``; ``0`` when there is nobody to count."""
    return f"{count} ({100.0 * count / denominator:.1f}%)" if denominator else "0"


def safety_summary_display(summary: pd.DataFrame) -> pd.DataFrame:
    """One row, one column per arm (then not randomized, total) headed ``arm (N = safety set)``."""
    by_group = summary.set_index("arm")
    shown = {"": [ANY_EVENT_ROW]}
    for group in _group_order(summary):
        size = int(by_group.loc[group, "safety_set"])
        header = f"{GROUP_NAMES.get(group, group)} (N = {size})"
        shown[header] = [count_percent(int(by_group.loc[group, "with_treatment_emergent_event"]), size)]
    return pd.DataFrame(shown)


def treatment_period(study_day: object) -> str:
    """Where a study day falls: before Day 1 (pre-treatment), Days 1..21 (treatment) or later."""
    if is_missing(study_day):
        return MISSING
    first, last = TREATMENT_DAYS
    if study_day < first:
        return PRE_TREATMENT
    return TREATMENT if study_day <= last else POST_TREATMENT


def adverse_event_listing(adverse_events: pd.DataFrame, randomization: pd.DataFrame,
                          blinded: bool) -> pd.DataFrame:
    """Every adverse event: participant, arm, study day, period and the diary text as written,
    by arm (flow order), participant and study day."""
    columns = ["Participant", "Arm", "Study day", "Period", "Adverse event (diary text)"]
    if adverse_events.empty:
        return pd.DataFrame(columns=columns)
    arm_of = report_arms(randomization, blinded).set_index("participant_id")["arm"]
    arm = adverse_events["participant_id"].map(arm_of).fillna(NOT_RANDOMIZED)
    order = {a: i for i, a in enumerate(sorted(set(arm) - {NOT_RANDOMIZED}) + [NOT_RANDOMIZED])}
    events = adverse_events.assign(_arm=arm, _order=arm.map(order)).sort_values(
        ["_order", "participant_id", "study_day"], kind="stable")
    return pd.DataFrame({
        columns[0]: events["participant_id"].astype(str),
        columns[1]: events["_arm"].map(lambda a: GROUP_NAMES.get(a, a)),
        columns[2]: events["study_day"].map(fmt_count),
        columns[3]: events["study_day"].map(treatment_period),
        columns[4]: events["text"].astype(str),
    }).reset_index(drop=True)
