"""Adherence per participant and by arm, and each outcome's missingness (SAP "Adherence and missing data").

- Oura wear: the share of study nights inside the study (to ``withdrawn_on``) with a main sleep,
  the published wearable-cohort measure ("% of study nights with a sleep record"), overall and per
  analysis window; the nights without one are counted by reason (``adherence.MISSING_REASONS``).
- Diary completion: the share of study days inside the study with a diary entry.
- Supplement adherence: the share of Days 1..21 with ``took_supplement = yes`` (the per-protocol
  rule; a missing entry counts as not taken, and the denominator is always the 21 planned days).
- Missingness of every outcome by visit and arm: n with a value over n in the FAS of that outcome.
Percentages are 0..100; a participant contributes to a window's summary only when that window has
study nights inside the study for them.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from mglt_pipeline.analysis.adherence import MISSING_REASONS
from mglt_pipeline.analysis.diary import supplement_adherence
from mglt_pipeline.registry import OUTCOMES
from mglt_pipeline.visits import POST_BASELINE_VISITS, VISITS

ALL_PERIODS = "all"
TOTAL = "total"
OURA_WEAR = "oura_wear"
DIARY_COMPLETION = "diary_completion"
SUPPLEMENT = "supplement"
MEASURES: tuple[str, ...] = (OURA_WEAR, *(f"night_{r}" for r in MISSING_REASONS), DIARY_COMPLETION, SUPPLEMENT)
SUMMARY_COLUMNS = ["arm", "measure", "period", "participants", "days", "of_days", "pooled_pct",
                   "mean_pct", "sd_pct", "median_pct", "min_pct", "max_pct"]
MISSINGNESS_COLUMNS = ["outcome", "family", "visit", "visit_num", "arm", "n_fas", "n_with_value", "n_missing",
                       "pct_with_value"]


def _pct(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    return (100.0 * numerator / denominator.where(denominator > 0)).astype(float)


def participant_days(adherence: pd.DataFrame, diary_daily: pd.DataFrame) -> pd.DataFrame:
    """Per participant and period (each visit window, then ``all``): study days inside the study,
    nights with a main sleep, nights of each missing reason and days with a diary entry."""
    nights = adherence.loc[adherence["in_study"]]
    diary = diary_daily[["participant_id", "study_day"]].dropna().drop_duplicates().assign(diary=True)
    nights = nights.merge(diary.astype({"study_day": int}), on=["participant_id", "study_day"], how="left")
    nights = nights.assign(diary=nights["diary"].eq(True),
                           **{f"night_{r}": nights["reason"] == r for r in MISSING_REASONS})
    counted = ["main_sleep", "diary", *(f"night_{r}" for r in MISSING_REASONS)]
    parts = [nights.groupby(["participant_id", "arm", "visit"], sort=False)[counted].sum().reset_index()
             .rename(columns={"visit": "period"}),
             nights.groupby(["participant_id", "arm"], sort=False)[counted].sum().reset_index().assign(period=ALL_PERIODS)]
    sizes = pd.concat([nights.groupby(["participant_id", "visit"], sort=False).size().rename("days").reset_index()
                       .rename(columns={"visit": "period"}),
                       nights.groupby("participant_id", sort=False).size().rename("days").reset_index()
                       .assign(period=ALL_PERIODS)])
    return pd.concat(parts, ignore_index=True).merge(sizes, on=["participant_id", "period"])


def derive_participant_adherence(adherence: pd.DataFrame, diary_daily: pd.DataFrame) -> pd.DataFrame:
    """One row per dosed participant: nights in the study, Oura wear overall and per window, nights
    by missing reason, nights after withdrawal, diary completion and supplement adherence."""
    days = participant_days(adherence, diary_daily)
    overall = days.loc[days["period"] == ALL_PERIODS].set_index("participant_id")
    people = adherence[["participant_id", "arm"]].drop_duplicates("participant_id").set_index("participant_id")
    out = people.assign(nights_in_study=overall["days"], nights_main_sleep=overall["main_sleep"])
    out = out.fillna({"nights_in_study": 0, "nights_main_sleep": 0})
    out["oura_wear_pct"] = _pct(out["nights_main_sleep"], out["nights_in_study"])
    by_window = days.pivot(index="participant_id", columns="period", values=["main_sleep", "days"])
    for visit in VISITS:
        if ("days", visit) in by_window:
            out[f"oura_wear_{visit}_pct"] = _pct(by_window[("main_sleep", visit)], by_window[("days", visit)])
        else:
            out[f"oura_wear_{visit}_pct"] = np.nan
    for reason in MISSING_REASONS:
        out[f"nights_{reason}"] = overall[f"night_{reason}"]
    out["nights_after_withdrawal"] = (~adherence["in_study"]).groupby(adherence["participant_id"]).sum()
    out["diary_days"] = overall["diary"]
    out["diary_completion_pct"] = _pct(out["diary_days"], out["nights_in_study"])
    supplement = supplement_adherence(diary_daily, pd.Series(out.index)).set_index("participant_id")
    out["supplement_days_taken"] = supplement["days_taken"]
    out["supplement_days_planned"] = supplement["days_planned"]
    out["supplement_pct"] = 100.0 * supplement["adherence"]
    counts = [c for c in out.columns if c.startswith(("nights_", "diary_days", "supplement_days"))]
    out[counts] = out[counts].fillna(0).astype(int)
    return out.reset_index()


def _statistics(arm: str, measure: str, period: str, numerator: pd.Series, denominator: pd.Series) -> dict:
    share = _pct(numerator, denominator).dropna()
    return {"arm": arm, "measure": measure, "period": period, "participants": int(len(share)),
            "days": int(numerator[denominator > 0].sum()), "of_days": int(denominator.sum()),
            "pooled_pct": float(100.0 * numerator.sum() / denominator.sum()) if denominator.sum() else np.nan,
            "mean_pct": share.mean() if len(share) else np.nan,
            "sd_pct": share.std(ddof=1) if len(share) > 1 else np.nan,
            "median_pct": share.median() if len(share) else np.nan,
            "min_pct": share.min() if len(share) else np.nan, "max_pct": share.max() if len(share) else np.nan}


def derive_adherence_summary(adherence: pd.DataFrame, diary_daily: pd.DataFrame,
                             participant_adherence: pd.DataFrame) -> pd.DataFrame:
    """By arm (each arm, then ``total``), measure and period: participants, pooled days over the
    days that could count (``days``/``of_days``, ``pooled_pct``) and the participant shares' mean,
    SD (ddof 1), median, min and max."""
    days = participant_days(adherence, diary_daily)
    supplement = participant_adherence[["participant_id", "arm", "supplement_days_taken", "supplement_days_planned"]]
    rows = []
    groups = [(arm, arm) for arm in sorted(days["arm"].unique())] + [(TOTAL, None)]
    for label, arm in groups:
        mine = days if arm is None else days.loc[days["arm"] == arm]
        for period in (*VISITS, ALL_PERIODS):
            rows_of = mine.loc[mine["period"] == period]
            rows.append(_statistics(label, OURA_WEAR, period, rows_of["main_sleep"], rows_of["days"]))
            rows += [_statistics(label, f"night_{r}", period, rows_of[f"night_{r}"], rows_of["days"])
                     for r in MISSING_REASONS]
            rows.append(_statistics(label, DIARY_COMPLETION, period, rows_of["diary"], rows_of["days"]))
        taken = supplement if arm is None else supplement.loc[supplement["arm"] == arm]
        rows.append(_statistics(label, SUPPLEMENT, ALL_PERIODS, taken["supplement_days_taken"],
                                taken["supplement_days_planned"]))
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def derive_outcome_missingness(analysis_dataset: pd.DataFrame) -> pd.DataFrame:
    """Per outcome, post-baseline visit and arm: participants in the FAS of that outcome, those with
    a value at the visit, those without, and the share with a value (``pct_with_value``)."""
    fas = analysis_dataset.loc[analysis_dataset["fas"]]
    counts = (fas.assign(has=fas["aval"].notna())
              .groupby(["outcome", "visit", "arm"], sort=False)["has"].agg(n_fas="size", n_with_value="sum"))
    grid = pd.MultiIndex.from_product([[o.id for o in OUTCOMES], list(POST_BASELINE_VISITS),
                                       sorted(analysis_dataset["arm"].dropna().unique())],
                                      names=["outcome", "visit", "arm"])
    out = counts.reindex(grid, fill_value=0).reset_index()
    out[["n_fas", "n_with_value"]] = out[["n_fas", "n_with_value"]].astype(int)
    out["n_missing"] = out["n_fas"] - out["n_with_value"]
    out["pct_with_value"] = _pct(out["n_with_value"], out["n_fas"])
    out["family"] = out["outcome"].map({o.id: o.family for o in OUTCOMES})
    out["visit_num"] = out["visit"].map({v: i + 1 for i, v in enumerate(POST_BASELINE_VISITS)}).astype(int)
    return out[MISSINGNESS_COLUMNS]
