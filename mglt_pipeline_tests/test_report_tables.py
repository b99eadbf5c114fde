"""The report's printed tables from realistic frames: CONSORT flow, Table 1, sensitivity, model notes.

The flow and Table 1 inputs are the analysis room's long tables derived from five hand-made
participants (``test_report.report_inputs``): P01 (A, F, 30 y, dosed, completed), P02 (B, M, 41 y,
dosed, completed), P03 (A, F, 52 y, never dosed, withdrawn), P04 (B, X, 63 y, dosed, completed), P05
(M, 44 y, enrolled, never randomized). Every expected cell below is worked out by hand from them.
"""
from __future__ import annotations

import html as html_lib
import re

import pandas as pd
import pytest

from mglt_pipeline.registry import OUTCOMES
from mglt_pipeline.report.formatting import fmt_count, fmt_flag, fmt_number, fmt_p
from mglt_pipeline.report.render import build_trial_report
from mglt_pipeline_tests.test_report import (NORMAL_DF, UNCONVERGED, UNCONVERGED_MESSAGE, TableCells,
                                             outcome_rows, report_inputs)

MISSING_MARKERS = re.compile(r"\b(?:nan|NaN|None|NaT)\b|<NA>")


@pytest.fixture(scope="module")
def page() -> str:
    return build_trial_report(report_inputs(blinded=True, simulated=True))


@pytest.fixture(scope="module")
def cells(page) -> dict[str, list[list[str]]]:
    tables = TableCells()
    tables.feed(page)
    return tables.tables


def visible_text(page: str) -> str:
    """The page's text as a reader sees it: no tags, no style or script, entities decoded."""
    body = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.DOTALL | re.IGNORECASE)
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", body))


def test_flow_is_a_consort_count_table_by_arm(cells):
    rows = cells["participant-flow"]
    assert rows[0] == ["Stage", "A", "B", "Not randomized", "Total"]
    by_stage = {r[0]: r[1:] for r in rows[1:]}
    assert by_stage["Enrolled"] == ["2", "2", "1", "5"]
    assert by_stage["Randomized"] == ["2", "2", "0", "4"]
    assert by_stage["Dosed (Study Day 1 recorded)"] == ["1", "2", "0", "3"]
    assert by_stage["Completed the study"] == ["1", "2", "0", "3"]
    # P05 withdrew before randomization: counted as enrolled only.
    assert by_stage["Withdrawn"] == ["1", "0", "0", "1"]
    assert by_stage["Lost to follow-up"] == ["0", "0", "0", "0"]
    assert by_stage["Full analysis set: ISI total"] == ["1", "2", "0", "3"]
    assert by_stage["Full analysis set: Energy"] == ["1", "2", "0", "3"]


def test_table_1_has_one_column_per_arm_then_overall(cells):
    rows = cells["baseline-characteristics"]
    assert rows[0] == ["Characteristic", "A (N = 2)", "B (N = 2)", "Overall (N = 4)"]
    by_row = {r[0]: r[1:] for r in rows[1:] if len(r) == 4}
    # Ages A: 30, 52; B: 41, 63; SD = sqrt(242) = 15.6 in each arm, sqrt(605 / 3) = 14.2 overall.
    assert by_row["Age (years), mean (SD)"] == ["41.0 (15.6)", "52.0 (15.6)", "46.5 (14.2)"]
    assert by_row["Sex: female, n (%)"] == ["2 (100.0%)", "0 (0.0%)", "2 (50.0%)"]
    assert by_row["Sex: X, n (%)"] == ["0 (0.0%)", "1 (50.0%)", "1 (25.0%)"]
    # RSQ-W baseline A: 40, 60; B: 50, 70.  ISI: A only P01 (10), B 12 and 14.
    assert by_row["RSQ-W total at baseline (0-100), mean (SD)"] == ["50.0 (14.1)", "60.0 (14.1)", "55.0 (12.9)"]
    assert by_row["ISI total at baseline (0-28), mean (SD)"] == ["10.0 (-)", "13.0 (1.4)", "12.0 (2.0)"]
    note = rows[-1][0]
    assert "ISI total 1 (A)" in note and "Sleep score 2 (A)" in note and "Sleep score 2 (B)" in note
    assert "RSQ-W" not in note


def test_effects_table_groups_outcomes_by_family_and_names_df_method_once(cells, page):
    rows = cells["effects-table"]
    group_headings = [r[0] for r in rows if len(r) == 1]
    assert group_headings[:5] == ["Oura sleep", "Oura activity and readiness", "Sleep questionnaires",
                                  "Mood (POMS)", "Daily diary"]
    assert any("Satterthwaite unless stated beside the number" in h for h in group_headings)
    effects = page.split('id="effects"')[1].split('id="sensitivity"')[0]
    assert "satterthwaite" not in effects.lower().replace("satterthwaite unless", "")
    assert NORMAL_DF.id in outcome_rows(page, "effects-table", 12)


def test_unconverged_outcome_shows_no_estimate_and_its_message(page, cells):
    row = outcome_rows(page, "effects-table", 12)[UNCONVERGED.id]
    assert row[4:6] == ["not converged", "n/a"]
    notes = page.split('id="model-notes"')[1].split("</div>")[0]
    assert f"{UNCONVERGED.label} ({UNCONVERGED.id}): {UNCONVERGED_MESSAGE}" in html_lib.unescape(notes)
    section = page.split(f'id="outcome-{UNCONVERGED.id}"')[1].split('class="outcome"')[0]
    assert UNCONVERGED_MESSAGE in html_lib.unescape(section)
    sensitivity = outcome_rows(page, "sensitivity-table", 13)[UNCONVERGED.id]
    assert sensitivity[1:] == ["0 / 0", "not converged", "n/a"] + ["0 / 0", "n/a", "n/a"] * 3


def test_sensitivity_table_sets_primary_mmrm_pp_and_ancova_side_by_side_with_n_per_arm(page, cells):
    header = cells["sensitivity-table"][:2]
    assert header[0][1:] == ["Primary (FAS)", "MMRM (FAS)", "Per-protocol", "ANCOVA, completers"]
    assert header[1] == ["n", "Estimate (SE)", "p"] * 4
    rows = outcome_rows(page, "sensitivity-table", 13)
    assert set(rows) == {o.id for o in OUTCOMES}
    # Pattern 0 (estimate 1.126, SE 0.4, p 0.0004, n 38/39); MMRM 1.05 (0.42), p 0.0143, n 38/39;
    # PP 1.2 (0.45), p 0.0005, n 33/35; ANCOVA 0.9 (0.5), p 0.07, n 36/37 (test_report.effects_row).
    first = OUTCOMES[0]
    assert rows[first.id][1:] == ["38 / 39", "1.13 (0.40)", "<0.001", "38 / 39", "1.05 (0.42)", "0.014",
                                  "33 / 35", "1.20 (0.45)", "<0.001", "36 / 37", "0.90 (0.50)", "0.070"]
    notes = visible_text(page.split('id="sensitivity"')[1].split("</section>")[0])
    assert f"{NORMAL_DF.label}: compound symmetry" in " ".join(notes.split())


def test_forest_plot_caption_names_what_it_plots(page):
    """The forest plot (``effects.plots.forest_plot_png``) shows Hedges' g, not raw differences."""
    caption = visible_text(page.split('id="forest"')[1].split("</figure>")[0])
    assert "Hedges' g at week 3, B minus A" in " ".join(caption.split())


@pytest.mark.parametrize("blinded", [True, False])
def test_no_missing_value_marker_anywhere_on_the_page(blinded):
    page = build_trial_report(report_inputs(blinded=blinded, simulated=not blinded))
    found = MISSING_MARKERS.findall(visible_text(page))
    assert found == []
    assert "n/a" in visible_text(page)


def test_pandas_missing_markers_print_as_n_a():
    """``pd.NA`` (nullable Int64/boolean columns) and ``NaT`` are missing like NaN and None."""
    assert [fmt_count(pd.NA), fmt_number(pd.NA), fmt_p(pd.NaT), fmt_flag(pd.NA)] == ["n/a"] * 4
    assert [fmt_count(3), fmt_flag(False), fmt_number(0.0)] == ["3", "no", "0.00"]
