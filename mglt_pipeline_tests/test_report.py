"""The trial report from small hand-made tables: every registry outcome shows its numbers.

The expected cells are written by hand from the report's stated rules (estimates with 2 decimals,
p with 3 decimals and ``<0.001`` below 0.001, CI as ``low to high``), not copied from the code.
"""
from __future__ import annotations

import io
import re
from datetime import datetime, timezone
from html.parser import HTMLParser

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from mglt_pipeline.analysis.adherence_summary import (  # noqa: E402
    derive_adherence_summary, derive_outcome_missingness, derive_participant_adherence)
from mglt_pipeline.analysis.study_days import derive_visit  # noqa: E402
from mglt_pipeline.report.consort import consort_svg  # noqa: E402
from mglt_pipeline.analysis.tables import (  # noqa: E402
    derive_adverse_events,
    derive_baseline_characteristics,
    derive_participant_flow,
)
from mglt_pipeline.registry import OUTCOMES  # noqa: E402
from mglt_pipeline.report.audit import report_problems  # noqa: E402
from mglt_pipeline.report.provenance import Provenance  # noqa: E402
from mglt_pipeline.report.render import ReportInputs, build_trial_report  # noqa: E402
from mglt_pipeline.report.sections import quarantine_summary  # noqa: E402

# (estimate, ci_low, ci_high, p_value, p_adj) -> the cells a reader must see, worked out by hand.
PATTERNS = [
    ((1.126, 0.374, 1.878, 0.0004, 0.0012), ("1.13", "0.37 to 1.88", "<0.001", "0.001")),
    ((-2.374, -4.012, -0.743, 0.0123, 0.0369), ("-2.37", "-4.01 to -0.74", "0.012", "0.037")),
    ((0.004, -1.25, 1.258, 0.5, 1.0), ("0.00", "-1.25 to 1.26", "0.500", "1.000")),
]


class TableCells(HTMLParser):
    """Rows of cell texts of every table, keyed by the id of the nearest enclosing element with one."""

    def __init__(self):
        super().__init__()
        self.ids: list[str | None] = []
        self.tables: dict[str, list[list[str]]] = {}
        self.table_id: str | None = None
        self.cell: list[str] | None = None
        self.images: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        if tag == "br" and self.cell is not None:
            self.cell.append(" ")
        if tag in ("img", "br", "meta", "link", "col", "input", "hr"):
            return
        self.ids.append(attrs.get("id"))
        if tag == "table":
            self.table_id = next((i for i in reversed(self.ids) if i), None)
            self.tables.setdefault(self.table_id, [])
        elif tag == "tr" and self.table_id is not None:
            self.tables[self.table_id].append([])
        elif tag in ("td", "th") and self.table_id is not None:
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("img", "br", "meta", "link", "col", "input", "hr"):
            return
        if tag in ("td", "th") and self.cell is not None:
            rows = self.tables[self.table_id]
            if rows:
                rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "table":
            self.table_id = None
        if self.ids:
            self.ids.pop()

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def tiny_png() -> bytes:
    figure, axes = plt.subplots(figsize=(1, 1))
    axes.plot([0, 1], [0, 1])
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=20)
    plt.close(figure)
    return buffer.getvalue()


UNCONVERGED = OUTCOMES[4]
"""The outcome whose model could not be fitted: no estimate, NaN everywhere, a message."""
UNCONVERGED_MESSAGE = "not fitted: no FAS rows with non-missing aval and base"
NORMAL_DF = OUTCOMES[1]
"""The outcome whose df came from the normal approximation (the others: Satterthwaite)."""
NAN = float("nan")


def effects_row(i: int, outcome, blinded: bool) -> dict:
    (estimate, low, high, p, p_adj), _ = PATTERNS[i % len(PATTERNS)]
    row = {"outcome": outcome.id, "family": outcome.family, "better": outcome.better, "visit": "week_3",
           "n_active": 38, "n_placebo": 39, "estimate": estimate, "se": 0.4, "df": 75.3,
           "df_method": "normal" if outcome is NORMAL_DF else "satterthwaite", "ci_low": low, "ci_high": high,
           "p_value": p, "p_adj": p_adj, "hedges_g": 0.25, "hedges_g_ci_low": -0.2, "hedges_g_ci_high": 0.7,
           "interaction_p": 0.3, "improved": False, "converged": True, "message": "converged",
           "model": "lmm", "blinded": blinded, "ancova_estimate": 0.9, "ancova_se": 0.5, "ancova_p": 0.07,
           "pp_estimate": 1.2, "pp_se": 0.45, "pp_p": 0.0005, "pp_n_active": 33, "pp_n_placebo": 35,
           "ancova_n_active": 36, "ancova_n_placebo": 37, "mmrm_estimate": 1.05, "mmrm_se": 0.42,
           "mmrm_df": 74.1, "mmrm_df_method": "kenward-roger", "mmrm_ci_low": 0.21, "mmrm_ci_high": 1.89,
           "mmrm_p_value": 0.0143, "mmrm_covariance": "unstructured", "mmrm_df_satterthwaite": 74.1,
           "mmrm_n_active": 38, "mmrm_n_placebo": 39}
    if outcome is NORMAL_DF:
        row["mmrm_covariance"] = "compound_symmetry"
    if outcome is UNCONVERGED:
        row.update({name: NAN for name in ("estimate", "se", "df", "ci_low", "ci_high", "p_value", "p_adj",
                                           "hedges_g", "hedges_g_ci_low", "hedges_g_ci_high", "interaction_p",
                                           "ancova_estimate", "ancova_se", "ancova_p", "pp_estimate", "pp_se",
                                           "pp_p", "mmrm_estimate", "mmrm_se", "mmrm_df", "mmrm_ci_low",
                                           "mmrm_ci_high", "mmrm_p_value", "mmrm_df_satterthwaite")})
        row.update({"mmrm_covariance": "", "mmrm_df_method": None, "mmrm_n_active": 0, "mmrm_n_placebo": 0,
                    "pp_n_active": 0, "pp_n_placebo": 0, "ancova_n_active": 0, "ancova_n_placebo": 0})
        row.update({"n_active": 0, "n_placebo": 0, "converged": False, "message": UNCONVERGED_MESSAGE,
                    "df_method": None})
    return row


def visit_table(outcome_id: str, i: int) -> pd.DataFrame:
    rows = []
    for num, visit in ((1, "week_1"), (2, "week_2"), (3, "week_3")):
        rows.append({"outcome": outcome_id, "visit": visit, "visit_num": num, "estimate": 0.5 * num,
                     "se": 0.3, "df": 70.0, "df_method": "satterthwaite", "ci_low": 0.5 * num - 0.6,
                     "ci_high": 0.5 * num + 0.6, "p_value": 0.2, "mean_placebo": 10.0 + i,
                     "mean_placebo_ci_low": 9.0 + i, "mean_placebo_ci_high": 11.0 + i,
                     "mean_active": 10.0 + i + 0.5 * num, "mean_active_ci_low": 9.0 + i,
                     "mean_active_ci_high": 12.0 + i, "n_active": 38, "n_placebo": 39,
                     "converged": True, "message": "converged", "blinded": True})
    table = pd.DataFrame(rows)
    if outcome_id == UNCONVERGED.id:
        numbers = [c for c in table.columns if c.startswith(("estimate", "se", "df", "ci_", "p_", "mean_"))
                   and c != "df_method"]
        table[numbers] = NAN
        table = table.assign(converged=False, message=UNCONVERGED_MESSAGE, df_method=None, n_active=0, n_placebo=0)
    return table


# Baseline values by outcome: P03 (arm A) was never dosed and has no ISI; nobody has a Sleep score.
BASELINE_VALUES = {"isi_total": {"P01": 10.0, "P02": 12.0, "P04": 14.0},
                   "rsq_total": {"P01": 40.0, "P02": 50.0, "P03": 60.0, "P04": 70.0},
                   "oura_deep_sleep_score": {"P01": 70.0, "P02": 75.0, "P04": 80.0},
                   "diary_energy": {"P01": 5.0, "P02": 6.0, "P04": 7.0}}


def analysis_rows(dosed: set[str]) -> pd.DataFrame:
    """``analysis_dataset`` rows (one per participant and outcome) with ``base``, FAS = dosed with a base."""
    return pd.DataFrame([{"participant_id": pid, "outcome": outcome_id, "visit": "week_1", "base": base,
                          "aval": base, "fas": pid in dosed, "pp": pid in dosed}
                         for outcome_id, values in BASELINE_VALUES.items() for pid, base in values.items()])


# Diary entries with their study days worked out by hand from first_dose_on (no Day 0): P01 (dosed
# 2026-01-08) on 01-05 is Day -3; P04 (dosed 01-10) on 01-12, 01-20 and 01-31 is Day 3, 11 and 22.
# P03 was never dosed: its event is outside the safety set. P02 reported none.
DIARY_EVENTS = [("P01", "2026-01-05", -3, "headache"), ("P01", "2026-01-09", 2, None),
                ("P02", "2026-01-12", 4, None), ("P03", "2026-01-10", None, "nausea, mild"),
                ("P04", "2026-01-12", 3, "rash <2 cm & itch"), ("P04", "2026-01-20", 11, "vivid dreams"),
                ("P04", "2026-01-31", 22, "headache")]


def diary_daily_rows() -> pd.DataFrame:
    """``diary_daily`` columns the adverse events are derived from."""
    frame = pd.DataFrame(DIARY_EVENTS, columns=["participant_id", "date", "study_day", "adverse_event"])
    return frame.assign(date=pd.to_datetime(frame["date"]), study_day=frame["study_day"].astype("Int64"))


def trial_tables(participants: pd.DataFrame, randomization: pd.DataFrame, blinded: bool):
    """The flow, Table 1 and adverse events as the analysis room derives them (NaN where undefined)."""
    arms = randomization.assign(arm=randomization["arm_code"] if blinded else randomization["arm"])
    dosed = set(participants.loc[participants["first_dose_on"].notna(), "participant_id"])
    rows = analysis_rows(dosed)
    return (derive_participant_flow(participants, arms, rows),
            derive_baseline_characteristics(participants, arms, rows),
            derive_adverse_events(diary_daily_rows(), participants, arms))


def report_inputs(blinded: bool, simulated: bool) -> ReportInputs:
    png = tiny_png()
    # P05 enrolled but was never randomized.
    participants = pd.DataFrame({
        "participant_id": ["P01", "P02", "P03", "P04", "P05"], "site": ["S1", "S1", "S2", "S2", "S2"],
        "age": [30, 41, 52, 63, 44], "sex": ["F", "M", "F", "X", "M"],
        "first_dose_on": pd.to_datetime(["2026-01-08", "2026-01-09", None, "2026-01-10", None]),
        "status": ["completed", "completed", "withdrawn", "completed", "withdrawn"]})
    randomization = pd.DataFrame({"participant_id": ["P01", "P02", "P03", "P04"],
                                  "arm_code": ["A", "B", "A", "B"],
                                  "arm": [None] * 4 if blinded else ["placebo", "MgT", "placebo", "MgT"]})
    # The last entry is about a whole file: no row, field or value.
    quarantine = pd.DataFrame({
        "source": ["redcap", "redcap", "redcap", "diary", "oura"],
        "file": ["raw/redcap/e1.csv", "raw/redcap/e1.csv", "raw/redcap/e1.csv", "raw/diary/d.csv",
                 "raw/oura/P01/sleep.json"],
        "row": ["3", "3", "7", "12", None], "line": ["4", "4", "8", "13", None],
        "participant_id": ["P01", "P01", "P02", "P04", "P01"],
        "key": ["baseline_arm_1", "baseline_arm_1", "day_7_arm_1", "2026-01-20", None],
        "field": ["isi_1", "isi_2", "isi_1", "mood", None],
        "value": ["9", "7", "5", "11", None],
        "rule": ["isi items are integers 0..4"] * 3 + ["diary ratings are 0..10", "a page is valid JSON"]})
    set_aside = pd.DataFrame({"source": ["redcap", "oura"], "file": ["raw/redcap/e1.csv", "raw/oura/P02/tag.json"],
                              "row": ["9", None], "participant_id": ["P02", "P02"], "key": ["screening_arm_1", None],
                              "reason": ["REDCap event not analysed", "Oura collection not analysed"]})
    adherence, summary, missingness = adherence_tables(blinded)
    flow, baseline, adverse_events = trial_tables(participants, randomization, blinded)
    return ReportInputs(
        participants=participants, randomization=randomization,
        participant_flow=flow, baseline_characteristics=baseline, adverse_events=adverse_events,
        quarantine=quarantine,
        treatment_effects=pd.DataFrame([effects_row(i, o, blinded) for i, o in enumerate(OUTCOMES)]),
        effect_tables={o.id: visit_table(o.id, i) for i, o in enumerate(OUTCOMES)},
        forest_png=png, outcome_pngs={o.id: png for o in OUTCOMES},
        provenance=Provenance("0.1.0", None, "f" * 64, "run-123",
                              datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc), simulated),
        set_aside=set_aside, adherence_summary=summary, outcome_missingness=missingness,
        adherence_png=png, consort_svg=consort_svg(flow),
    )


NIGHTS = [d for d in range(-7, 22) if d != 0]
# Oura nights by hand: P01 (A) misses Days 2 and 3 (ring not worn), P02 (B) has naps only on Days
# -5, 4, 9 and 18, P04 (B) a main sleep every night. Diary: P01 every study day, P02 none, P04 Days 1..21.
MISSED = {"P01": {2: "not_worn", 3: "not_worn"}, "P02": {-5: "no_main_sleep", 4: "no_main_sleep",
                                                         9: "no_main_sleep", 18: "no_main_sleep"}, "P04": {}}


def adherence_tables(blinded: bool):
    """``adherence`` (the night grid), ``adherence_summary`` and ``outcome_missingness`` of the hand trial."""
    arms = {"P01": "A", "P02": "B", "P04": "B"} if blinded else {"P01": "placebo", "P02": "MgT", "P04": "MgT"}
    nights = pd.DataFrame([{"participant_id": pid, "arm": arms[pid], "study_day": d, "night": pd.Timestamp("2026-01-01"),
                            "visit": None, "visit_num": 0, "main_sleep": d not in MISSED[pid], "in_study": True,
                            "reason": MISSED[pid].get(d)} for pid in MISSED for d in NIGHTS])
    nights["visit"] = derive_visit(nights["study_day"])
    diary_days = [("P01", d) for d in NIGHTS] + [("P04", d) for d in range(1, 22)]
    diary = pd.DataFrame({"participant_id": [p for p, _ in diary_days], "study_day": [d for _, d in diary_days],
                          "date": [pd.Timestamp("2026-01-10") + pd.Timedelta(days=d) for _, d in diary_days],
                          "took_supplement": [None if d < 1 else "yes" for _, d in diary_days]})
    per_participant = derive_participant_adherence(nights, diary)
    rows = analysis_rows({"P01", "P02", "P04"}).assign(arm=lambda f: f["participant_id"].map(arms))
    rows = rows.loc[rows["participant_id"].isin(arms)]
    return nights, derive_adherence_summary(nights, diary, per_participant), derive_outcome_missingness(rows)


@pytest.fixture(scope="module")
def blinded_html() -> str:
    return build_trial_report(report_inputs(blinded=True, simulated=True))


EFFECTS_COLUMNS = ["Outcome", "Better", "B", "A", "Estimate", "95% CI", "df", "p", "p (BH)", "Hedges' g",
                   "Interaction p", "Improved"]
"""The effects table's columns left to right (blinded: n of B then A under the spanner ``n``)."""


def outcome_rows(html: str, table_id: str, width: int) -> dict[str, list[str]]:
    """The data rows of an outcome-per-row table by outcome id (the small text after the label)."""
    tables = TableCells()
    tables.feed(html)
    return {r[0].split()[-1]: r for r in tables.tables[table_id] if len(r) == width and r[0] != "Outcome"}


def test_every_outcome_appears_with_its_estimate_ci_and_p(blinded_html):
    tables = TableCells()
    tables.feed(blinded_html)
    header_cells = {c for r in tables.tables["effects-table"][:2] for c in r}
    assert set(EFFECTS_COLUMNS) | {"n"} <= header_cells
    by_id = outcome_rows(blinded_html, "effects-table", len(EFFECTS_COLUMNS))
    assert set(by_id) == {o.id for o in OUTCOMES}
    for i, outcome in enumerate(OUTCOMES):
        if outcome is UNCONVERGED:
            continue
        estimate, ci, p, p_adj = PATTERNS[i % len(PATTERNS)][1]
        row = dict(zip(EFFECTS_COLUMNS, by_id[outcome.id]))
        assert row["Outcome"] == f"{outcome.label} {outcome.id}"
        assert (row["Estimate"], row["95% CI"], row["p"], row["p (BH)"]) == (estimate, ci, p, p_adj)
        assert (row["B"], row["A"], row["Hedges' g"], row["Interaction p"]) == ("38", "39", "0.25", "0.300")
        assert row["df"] == ("75.3 (normal)" if outcome is NORMAL_DF else "75.3")


def test_visit_tables_show_adjusted_means_per_arm(blinded_html):
    tables = TableCells()
    tables.feed(blinded_html)
    for i, outcome in enumerate(OUTCOMES):
        if outcome is UNCONVERGED:
            continue
        rows = tables.tables[f"visits-{outcome.id}"]
        header = next(r for r in rows if "Visit" in r)
        week_3 = next(r for r in rows if r and r[0] == "Week 3")
        assert week_3[header.index("Mean A")] == f"{10 + i}.00"
        assert week_3[header.index("Mean B")] == f"{10 + i + 1.5:.2f}"
        assert week_3[header.index("Difference")] == "1.50"


def test_report_is_self_contained_with_embedded_figures(blinded_html):
    tables = TableCells()
    tables.feed(blinded_html)
    assert len(tables.images) == 2 + len(OUTCOMES)  # forest plot, adherence heat map, one per outcome
    assert all(src.startswith("data:image/png;base64,") for src in tables.images)
    assert report_problems(blinded_html, [o.id for o in OUTCOMES]) == []
    assert not re.search(r"(src|href)=\"https?://", blinded_html)


def test_blinded_and_simulated_notices(blinded_html):
    assert 'id="blinded-notice"' in blinded_html and 'id="simulated-notice"' in blinded_html
    assert "MgT" not in blinded_html
    unblinded = build_trial_report(report_inputs(blinded=False, simulated=False))
    assert 'id="blinded-notice"' not in unblinded and 'id="simulated-notice"' not in unblinded
    tables = TableCells()
    tables.feed(unblinded)
    assert tables.tables["effects-table"][1] == ["MgT", "placebo"]


def test_quarantine_summary_counts_entries_rows_and_files():
    summary = quarantine_summary(report_inputs(True, True).quarantine).set_index(["source", "rule"])
    # redcap: 3 entries on data lines 3 (two fields) and 7 of one file -> 2 rows, 1 file.
    assert summary.loc[("redcap", "isi items are integers 0..4")].tolist() == [3, 2, 1]
    assert summary.loc[("diary", "diary ratings are 0..10")].tolist() == [1, 1, 1]
    assert summary.loc[("oura", "a page is valid JSON")].tolist() == [1, 1, 1]


def test_provenance_section_names_code_data_and_run(blinded_html):
    tables = TableCells()
    tables.feed(blinded_html)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", blinded_html.split('id="provenance"')[1]))
    assert "mglt_pipeline 0.1.0" in text and "f" * 64 in text and "run-123" in text
    assert "2026-03-01 12:00:00" in text and "simulated" in text


def test_audit_names_a_missing_outcome_and_a_network_resource():
    problems = report_problems('<img src="https://example.org/x.png"><div id="outcome-isi_total">',
                               ["isi_total", "poms_tmd"])
    assert len(problems) == 2 and "poms_tmd" in problems[1]
