"""The report as it prints and reads: print CSS rules, adherence and missingness tables, listings,
the forest plot's verdicts, plain wording. Expected cells are worked out by hand from the inputs of
``test_report.report_inputs`` (``adherence_tables`` and the quarantine and set-aside frames there)."""
from __future__ import annotations

import re

import pandas as pd
import pytest

from mglt_pipeline.effects.plots import BENEFIT, HARM, NO_DIFFERENCE, mean_axis_label, verdict
from mglt_pipeline.registry import OUTCOMES
from mglt_pipeline.report import listings
from mglt_pipeline.report.render import build_trial_report
from mglt_pipeline_tests.test_report import TableCells, report_inputs


@pytest.fixture(scope="module")
def page() -> str:
    return build_trial_report(report_inputs(blinded=True, simulated=True))


@pytest.fixture(scope="module")
def cells(page):
    tables = TableCells()
    tables.feed(page)
    return tables.tables


def test_print_css_sets_a4_landscape_pages_kept_headings_and_repeated_headers(page):
    css = re.sub(r"\s+", " ", page.split("<style>")[1].split("</style>")[0])
    assert "@page { size: A4 portrait;" in css and "@page wide { size: A4 landscape;" in css
    assert ".landscape { page: wide;" in css
    assert re.search(r"h1, h2, h3, h4[^{]*\{ break-after: avoid-page;", css)
    assert "thead { display: table-header-group; }" in css
    assert re.search(r"\.outcome[^{]*\{ break-inside: avoid-page;", css)
    for section in ("effects", "sensitivity"):   # the wide tables print on landscape pages
        assert re.search(rf'<section id="{section}" class="landscape">', page)


def test_adherence_tables_are_the_hand_count(cells):
    rows = cells["adherence-summary"]
    assert rows[0] == ["Measure", "A (N = 1)", "B (N = 2)", "Total (N = 3)"]
    by_measure = {r[0]: r[1:] for r in rows[2:]}
    assert by_measure["Oura: nights with a main sleep, all study days"] == [
        "92.9% (26/28)", "92.9 (n/a)", "92.9% (52/56)", "92.9 (10.1)", "92.9% (78/84)", "92.9 (7.1)"]
    assert by_measure["Diary: days with an entry, all study days"][::2] == ["100.0% (28/28)", "37.5% (21/56)",
                                                                            "58.3% (49/84)"]
    assert by_measure["Supplement taken, Days 1 to 21"][::2] == ["100.0% (21/21)", "50.0% (21/42)",
                                                                 "66.7% (42/63)"]
    nights = {r[0]: r[1:] for r in cells["missing-nights"][1:]}
    assert nights["ring not worn (12 h or more of non-wear, no sleep)"] == ["2 (7.1%)", "0 (0.0%)", "2 (2.4%)"]
    assert nights["naps, rest or unclassified periods only"] == ["0 (0.0%)", "4 (7.1%)", "4 (4.8%)"]


def test_missingness_is_n_with_a_value_over_n_in_the_fas(cells):
    rows = {r[0].split()[-1]: r for r in cells["outcome-missingness"] if len(r) == 7}
    assert rows["isi_total"][1:] == ["1/1", "2/2", "0/0", "0/0", "0/0", "0/0"]   # week 1 A, B; weeks 2, 3
    assert rows["poms_ta"][1:] == ["0/0"] * 6


def test_quarantine_and_set_aside_listings_show_every_row(cells, page):
    rows = cells["quarantine-listing"]
    assert rows[0] == ["File", "Row", "Line", "Participant", "Key", "Field", "Value", "Rule"]
    assert rows[1] == ["raw/diary/d.csv", "12", "13", "P04", "2026-01-20", "mood", "11", "diary ratings are 0..10"]
    assert len(rows) == 1 + 5 and "All 5 entries; also in the warehouse table quarantine." in page
    assert cells["set-aside-listing"][1] == ["oura", "raw/oura/P02/tag.json", "n/a", "P02", "n/a",
                                             "Oura collection not analysed"]


def test_a_long_listing_is_cut_and_says_where_the_rest_is():
    quarantine = pd.DataFrame({"file": ["raw/diary/export_10.csv", "raw/diary/export_2.csv", "raw/diary/export_2.csv"],
                               "row": ["1", "10", "9"], "field": "mood", "rule": "r"})
    shown = listings.quarantine_listing(quarantine, limit=2)
    assert shown[["File", "Row"]].values.tolist() == [["raw/diary/export_2.csv", "9"], ["raw/diary/export_2.csv", "10"]]
    assert listings.listing_note(3, "quarantine", limit=2).startswith("The first 2 of 3 entries; all 3 are in")


def test_plain_wording_and_harm_named_in_the_summary(cells):
    summary = {r[0]: r[1] for r in cells["study-summary"][1:]}
    assert summary["Arms"] == "coded A and B: blinded, no treatment is named"
    worse = summary["Outcomes worse on B (BH-adjusted p < 0.05, the other direction)"]
    # Hand: Deep sleep score (higher is better) has -2.37, p (BH) 0.037; Light sleep time (lower is
    # better) has +1.13, p (BH) 0.001; the Sleep score (+1.13, higher is better) is an improvement.
    assert "Deep sleep score" in worse and "Light sleep time" in worse and "Sleep score," not in worse + ","


def test_forest_plot_verdicts_tell_harm_from_benefit_and_from_no_difference():
    row = {"better": "higher", "estimate": 2.0, "p_adj": 0.01}
    assert verdict(pd.Series(row)) == BENEFIT
    assert verdict(pd.Series({**row, "estimate": -2.0})) == HARM
    assert verdict(pd.Series({**row, "better": "lower"})) == HARM
    assert verdict(pd.Series({**row, "p_adj": 0.05})) == NO_DIFFERENCE
    assert verdict(pd.Series({**row, "p_adj": float("nan")})) == NO_DIFFERENCE


def test_adjusted_means_axis_names_the_unit():
    assert mean_axis_label("oura_total_sleep_min") == "Adjusted mean, min"
    assert mean_axis_label("isi_total") == f"Adjusted mean, {OUTCOMES[18].unit}" == "Adjusted mean, 0-28"


def test_consort_diagram_is_in_the_report(page):
    assert '<figure class="consort" id="consort-diagram"><svg' in page
