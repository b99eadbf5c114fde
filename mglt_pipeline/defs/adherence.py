"""Adherence and missing data as Dagster assets (group ``adherence``): thin wrappers over
``mglt_pipeline.analysis.adherence`` and ``adherence_summary`` (SAP "Adherence and missing data").

- ``adherence``: one row per dosed participant and study night, main sleep or the reason it is missing;
- ``participant_adherence``: Oura wear (overall, per window, by reason), diary completion and
  supplement adherence per participant;
- ``adherence_summary``: the same by arm, measure and period;
- ``outcome_missingness``: n with a value over n in the FAS, per outcome, visit and arm.
The Oura tables are read with the few columns the rules need, so memory grows with the number of
participant days, not with the width of the Oura tables.
"""
from __future__ import annotations

import dagster as dg
import pandas as pd

from mglt_pipeline.analysis.adherence import MISSING_REASONS, REASONS, STUDY_NIGHTS, derive_adherence
from mglt_pipeline.analysis.adherence_summary import (
    ALL_PERIODS, OURA_WEAR, derive_adherence_summary, derive_outcome_missingness, derive_participant_adherence)
from mglt_pipeline.analysis.dataset import derive_arm_labels
from mglt_pipeline.analysis.tables import NOT_RANDOMIZED

GROUP = "adherence"
ADHERENCE = "adherence"
PARTICIPANT_ADHERENCE = "participant_adherence"
ADHERENCE_SUMMARY = "adherence_summary"
OUTCOME_MISSINGNESS = "outcome_missingness"
OURA_COLUMNS = {"oura_sleep_periods": ["participant_id", "day", "type", "id", "total_sleep_duration"],
                "oura_daily_sleep": ["participant_id", "day"],
                "oura_daily_activity": ["participant_id", "day", "non_wear_time"],
                "oura_daily_readiness": ["participant_id", "day"]}


def _output(frame: pd.DataFrame, **metadata) -> dg.Output:
    return dg.Output(frame, metadata={"dagster/row_count": dg.MetadataValue.int(len(frame)), **metadata})


@dg.asset(group_name=GROUP, name=ADHERENCE,
          ins={name: dg.AssetIn(name, metadata={"columns": columns}) for name, columns in OURA_COLUMNS.items()})
def adherence_asset(participants: pd.DataFrame, randomization: pd.DataFrame, oura_sleep_periods: pd.DataFrame,
                    oura_daily_sleep: pd.DataFrame, oura_daily_activity: pd.DataFrame,
                    oura_daily_readiness: pd.DataFrame) -> dg.Output:
    """Every dosed participant's study nights (Day -7..21): main sleep, or the first reason that
    applies: withdrawn, not_synced, not_worn, no_main_sleep, no_sleep_recorded, no_data."""
    nights = derive_adherence(participants, derive_arm_labels(randomization), oura_sleep_periods,
                              oura_daily_sleep, oura_daily_activity, oura_daily_readiness, NOT_RANDOMIZED)
    reasons = nights["reason"].fillna("main sleep").value_counts().rename("nights").rename_axis("night")
    return _output(nights, nights_by_reason=dg.MetadataValue.md(reasons.reset_index().to_markdown(index=False)))


@dg.asset(group_name=GROUP, name=PARTICIPANT_ADHERENCE)
def participant_adherence_asset(adherence: pd.DataFrame, diary_daily: pd.DataFrame) -> dg.Output:
    """Per dosed participant: Oura wear overall and per window, nights by reason, diary completion,
    supplement adherence (Days 1..21)."""
    table = derive_participant_adherence(adherence, diary_daily)
    low = table.loc[table["oura_wear_pct"] < 80, ["participant_id", "arm", "oura_wear_pct"]]
    return _output(table, participants_below_80pct_wear=dg.MetadataValue.int(len(low)))


@dg.asset(group_name=GROUP, name=ADHERENCE_SUMMARY)
def adherence_summary_asset(adherence: pd.DataFrame, diary_daily: pd.DataFrame,
                            participant_adherence: pd.DataFrame) -> dg.Output:
    """By arm, measure (Oura wear, nights by reason, diary completion, supplement) and period."""
    summary = derive_adherence_summary(adherence, diary_daily, participant_adherence)
    overall = summary.loc[summary["period"] == ALL_PERIODS,
                          ["arm", "measure", "participants", "pooled_pct", "mean_pct", "sd_pct"]].round(1)
    wear = overall.loc[overall["measure"] == OURA_WEAR]
    return _output(summary, overall=dg.MetadataValue.md(overall.to_markdown(index=False)),
                   oura_wear_by_arm=dg.MetadataValue.md(wear.to_markdown(index=False)))


@dg.asset(group_name=GROUP, name=OUTCOME_MISSINGNESS)
def outcome_missingness_asset(analysis_dataset: pd.DataFrame) -> dg.Output:
    """Per outcome, post-baseline visit and arm: n in the FAS, n with a value, share with a value."""
    table = derive_outcome_missingness(analysis_dataset)
    worst = table.sort_values("pct_with_value").head(10).round(1)
    return _output(table, least_complete=dg.MetadataValue.md(worst.to_markdown(index=False)))


@dg.asset_check(asset=ADHERENCE, name="one_row_per_dosed_participant_and_night",
                additional_ins={"participants": dg.AssetIn("participants")})
def adherence_grid_check(adherence: pd.DataFrame, participants: pd.DataFrame) -> dg.AssetCheckResult:
    """Every dosed participant has each study night once; every night has a main sleep inside the
    study or exactly one known reason."""
    dosed = participants.loc[participants["first_dose_on"].notna(), "participant_id"].nunique()
    duplicates = int(adherence.duplicated(["participant_id", "study_day"]).sum())
    explained = adherence["reason"].isin(REASONS) | (adherence["main_sleep"] & adherence["in_study"])
    unexplained = int((~explained).sum())
    expected = dosed * len(STUDY_NIGHTS)
    return dg.AssetCheckResult(passed=duplicates == 0 and unexplained == 0 and len(adherence) == expected,
                               metadata={"rows": len(adherence), "expected_rows": expected,
                                         "duplicates": duplicates, "nights_without_reason": unexplained})


@dg.asset_check(asset=PARTICIPANT_ADHERENCE, name="nights_add_up")
def participant_nights_check(participant_adherence: pd.DataFrame) -> dg.AssetCheckResult:
    """Nights with a main sleep plus nights of each missing reason equal the nights in the study,
    and those plus the nights after withdrawal are the 28 study nights."""
    t = participant_adherence
    reasons = t[[f"nights_{r}" for r in MISSING_REASONS]].sum(axis=1)
    off = t.loc[(t["nights_main_sleep"] + reasons != t["nights_in_study"])
                | (t["nights_in_study"] + t["nights_after_withdrawal"] != len(STUDY_NIGHTS)), "participant_id"]
    return dg.AssetCheckResult(passed=off.empty, metadata={"participants_not_adding_up": ", ".join(off)})


ASSETS = [adherence_asset, participant_adherence_asset, adherence_summary_asset, outcome_missingness_asset]
CHECKS = [adherence_grid_check, participant_nights_check]
