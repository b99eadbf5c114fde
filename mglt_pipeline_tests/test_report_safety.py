"""The report's safety section from hand-made tables (``test_report.report_inputs``).

Safety set (SAP: dosed participants, by arm as randomized): P01 (A), P02 and P04 (B); P03 (A) was
never dosed, P05 never randomized nor dosed. Diary events (``test_report.DIARY_EVENTS``): P01 on
Day -3 (pre-treatment), P04 on Days 3, 11 and 22; P03's event is outside the safety set. Counted are
treatment-emergent events (Day 1 on), so A has 0 of 1 participant with one (0.0%: P01's event was
before the first dose), B 1 of 2 (50.0%), in total 1 of 3 (33.3%).
Every expected cell is worked out by hand from those rules.
"""
from __future__ import annotations

import pandas as pd
import pytest

from mglt_pipeline.analysis.tables import derive_adverse_events
from mglt_pipeline.report.render import build_trial_report
from mglt_pipeline.report.safety import adverse_event_listing, safety_summary, safety_summary_display
from mglt_pipeline_tests.test_report import TableCells, report_inputs
from mglt_pipeline_tests.test_report_tables import MISSING_MARKERS, visible_text

ANY_EVENT = "Participants with any treatment-emergent adverse event (Day 1 on), n (%)"
LISTING_HEADER = ["Participant", "Arm", "Study day", "Period", "Adverse event (diary text)"]


def page_tables(blinded: bool) -> tuple[str, dict[str, list[list[str]]]]:
    page = build_trial_report(report_inputs(blinded=blinded, simulated=blinded))
    tables = TableCells()
    tables.feed(page)
    return page, tables.tables


@pytest.fixture(scope="module")
def blinded() -> tuple[str, dict[str, list[list[str]]]]:
    return page_tables(blinded=True)


def test_participants_with_any_event_by_arm(blinded):
    _, tables = blinded
    assert tables["adverse-event-summary"] == [
        ["", "A (N = 1)", "B (N = 2)", "Total (N = 3)"],
        [ANY_EVENT, "0 (0.0%)", "1 (50.0%)", "1 (33.3%)"]]


def test_listing_marks_pre_treatment_events_and_keeps_the_text(blinded):
    page, tables = blinded
    assert tables["adverse-event-listing"] == [
        LISTING_HEADER,
        ["P01", "A", "-3", "pre-treatment", "headache"],
        ["P04", "B", "3", "treatment", "rash <2 cm & itch"],
        ["P04", "B", "11", "treatment", "vivid dreams"],
        ["P04", "B", "22", "after Day 21", "headache"]]
    assert "rash &lt;2 cm &amp; itch" in page  # the diary text is escaped, not read as markup
    assert "nausea" not in page  # P03 was never dosed
    assert "Adverse events (4 entries)" in visible_text(page)


def test_study_summary_gives_the_safety_set_size(blinded):
    _, tables = blinded
    summary = dict(tuple(r) for r in tables["study-summary"][1:])
    assert summary["Safety set (dosed participants)"] == "3"


def test_unblinded_section_names_the_treatments():
    page, tables = page_tables(blinded=False)
    assert tables["adverse-event-summary"][0] == ["", "MgT (N = 2)", "placebo (N = 1)", "Total (N = 3)"]
    # MgT: P04 (Day 3 on); placebo: P01's only event was on Day -3, before the first dose.
    assert tables["adverse-event-summary"][1] == [ANY_EVENT, "1 (50.0%)", "0 (0.0%)", "1 (33.3%)"]
    assert [r[:3] for r in tables["adverse-event-listing"][1:]] == [
        ["P04", "MgT", "3"], ["P04", "MgT", "11"], ["P04", "MgT", "22"], ["P01", "placebo", "-3"]]
    section = visible_text(page.split('id="safety"')[1].split('id="outcomes"')[0])
    assert MISSING_MARKERS.findall(section) == []


def test_blinded_section_names_no_treatment_even_from_named_tables():
    """An events table that carries treatment names is still printed with the arm codes while blinded."""
    participants = pd.DataFrame({"participant_id": ["P1", "P2", "P3"],
                                 "first_dose_on": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-03"])})
    randomization = pd.DataFrame({"participant_id": ["P1", "P2"], "arm_code": ["A", "B"],
                                  "arm": ["placebo", "MgT"]})
    diary = pd.DataFrame({"participant_id": ["P2", "P3"], "date": pd.to_datetime(["2026-01-04", "2026-01-03"]),
                          "study_day": pd.array([3, pd.NA], dtype="Int64"), "adverse_event": ["dizzy", "itch"]})
    events = derive_adverse_events(diary, participants, randomization)
    assert set(events["arm"]) == {"MgT", "not randomized"}
    shown = safety_summary_display(safety_summary(events, participants, randomization, blinded=True))
    # P3 dosed but never randomized: its own column; its event's study day is unknown, which counts
    # as treatment-emergent. A: P1 without event; B: P2 with one.
    assert shown.columns.tolist() == ["", "A (N = 1)", "B (N = 1)", "Not randomized (N = 1)", "Total (N = 3)"]
    assert shown.iloc[0].tolist() == [ANY_EVENT, "0 (0.0%)", "1 (100.0%)", "1 (100.0%)", "2 (66.7%)"]
    listing = adverse_event_listing(events, randomization, blinded=True)
    assert listing.values.tolist() == [["P2", "B", "3", "treatment", "dizzy"],
                                       ["P3", "Not randomized", "n/a", "n/a", "itch"]]


def test_no_dosed_participant_gives_zero_counts_and_no_listing():
    participants = pd.DataFrame({"participant_id": ["P1"], "first_dose_on": pd.to_datetime([None])})
    randomization = pd.DataFrame({"participant_id": ["P1"], "arm_code": ["A"], "arm": [None]})
    events = pd.DataFrame(columns=["participant_id", "study_day", "date", "arm", "text"])
    shown = safety_summary_display(safety_summary(events, participants, randomization, blinded=True))
    assert shown.values.tolist() == [[ANY_EVENT, "0"]] and shown.columns.tolist() == ["", "Total (N = 0)"]
    assert adverse_event_listing(events, randomization, blinded=True).empty
