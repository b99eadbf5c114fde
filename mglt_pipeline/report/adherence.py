"""The report's adherence and missing-data tables, as display text (SAP "Adherence and missing data").

- ``adherence_display``: per measure and period, each arm's pooled share (days / days that could
  count) and the participants' mean (SD);
- ``missing_nights_display``: the study nights without a main sleep, by reason and arm;
- ``missingness_display``: every outcome's n with a value / n in the FAS by visit and arm, so that a
  reader sees when an arm lost more data.
"""
from __future__ import annotations

import pandas as pd

from mglt_pipeline.analysis.adherence import MISSING_REASONS
from mglt_pipeline.analysis.adherence_summary import ALL_PERIODS, DIARY_COMPLETION, OURA_WEAR, SUPPLEMENT, TOTAL
from mglt_pipeline.registry import FAMILY_TITLES, OUTCOMES
from mglt_pipeline.report.formatting import MISSING, fmt_count, fmt_number
from mglt_pipeline.report.tables import GROUP, SPANNER, outcome_label
from mglt_pipeline.visits import POST_BASELINE_VISITS, VISITS

PERIOD_LABELS = {"baseline": "baseline week (Days -7 to -1)", "week_1": "week 1 (Days 1 to 7)",
                 "week_2": "week 2 (Days 8 to 14)", "week_3": "week 3 (Days 15 to 21)", ALL_PERIODS: "all study days"}
MEASURE_LABELS = {OURA_WEAR: "Oura: nights with a main sleep", DIARY_COMPLETION: "Diary: days with an entry",
                  SUPPLEMENT: "Supplement taken, Days 1 to 21"}
REASON_LABELS = {"main_sleep": "main sleep recorded", "withdrawn": "after withdrawal (outside the study)",
                 "not_synced": "ring not synced (no data that day or later)",
                 "not_worn": "ring not worn (12 h or more of non-wear, no sleep)",
                 "no_main_sleep": "naps, rest or unclassified periods only",
                 "no_sleep_recorded": "other Oura data, no sleep period", "no_data": "no Oura data that day"}


def _groups(summary: pd.DataFrame) -> list[str]:
    arms = [a for a in dict.fromkeys(summary["arm"]) if a != TOTAL]
    return sorted(arms) + [TOTAL]


def _header(summary: pd.DataFrame, group: str) -> str:
    size = summary.loc[(summary["arm"] == group) & (summary["measure"] == OURA_WEAR)
                       & (summary["period"] == ALL_PERIODS), "participants"]
    name = "Total" if group == TOTAL else group
    return f"{name} (N = {int(size.iloc[0])})" if len(size) else name


def _pooled(row) -> str:
    if not row.of_days:
        return MISSING
    return f"{fmt_number(row.pooled_pct, 1)}% ({fmt_count(row.days)}/{fmt_count(row.of_days)})"


def _mean_sd(row) -> str:
    return MISSING if pd.isna(row.mean_pct) else f"{fmt_number(row.mean_pct, 1)} ({fmt_number(row.sd_pct, 1)})"


def adherence_display(summary: pd.DataFrame) -> pd.DataFrame:
    """Rows: Oura wear overall and per window, diary completion, supplement; per arm (then total) the
    pooled share and the participants' mean (SD), in percent."""
    wanted = [(OURA_WEAR, p) for p in (ALL_PERIODS, *VISITS)] + [(DIARY_COMPLETION, ALL_PERIODS),
                                                                  (SUPPLEMENT, ALL_PERIODS)]
    by_key = summary.set_index(["arm", "measure", "period"])
    rows = []
    for measure, period in wanted:
        label = MEASURE_LABELS[measure] if measure == SUPPLEMENT else f"{MEASURE_LABELS[measure]}, {PERIOD_LABELS[period]}"
        row = {"Measure": label}
        for group in _groups(summary):
            header = _header(summary, group)
            record = by_key.loc[(group, measure, period)] if (group, measure, period) in by_key.index else None
            row[f"{header}{SPANNER}Pooled % (days)"] = _pooled(record) if record is not None else MISSING
            row[f"{header}{SPANNER}Mean % (SD)"] = _mean_sd(record) if record is not None else MISSING
        rows.append(row)
    return pd.DataFrame(rows)


def missing_nights_display(summary: pd.DataFrame) -> pd.DataFrame:
    """Study nights inside the study without a main sleep, by reason: n (% of study nights) per arm."""
    overall = summary.loc[summary["period"] == ALL_PERIODS].set_index(["arm", "measure"])
    rows = []
    for reason in MISSING_REASONS:
        row = {"Reason": REASON_LABELS[reason]}
        for group in _groups(summary):
            record = overall.loc[(group, f"night_{reason}")]
            row[_header(summary, group)] = f"{fmt_count(record.days)} ({fmt_number(record.pooled_pct, 1)}%)"
        rows.append(row)
    return pd.DataFrame(rows)


def missingness_display(outcome_missingness: pd.DataFrame) -> pd.DataFrame:
    """Per outcome (grouped by family), per visit and arm: n with a value / n in the FAS."""
    table = outcome_missingness.set_index(["outcome", "visit", "arm"])
    arms = sorted(outcome_missingness["arm"].dropna().unique())
    rows = []
    for o in OUTCOMES:
        row = {GROUP: FAMILY_TITLES[o.family], "Outcome": outcome_label(o.id), "id": o.id}
        for visit in POST_BASELINE_VISITS:
            for arm in arms:
                key = (o.id, visit, arm)
                cell = (f"{fmt_count(table.loc[key, 'n_with_value'])}/{fmt_count(table.loc[key, 'n_fas'])}"
                        if key in table.index else MISSING)
                row[f"{visit.replace('_', ' ').capitalize()}{SPANNER}{arm}"] = cell
        rows.append(row)
    return pd.DataFrame(rows)
