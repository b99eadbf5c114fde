"""Windows and analysis rooms as Dagster assets: thin wrappers over ``mglt_pipeline.analysis``.

Group ``windows``: ``oura_nightly``, ``diary_daily``, ``outcome_windows``.
Group ``analysis``: ``analysis_dataset``, ``baseline_characteristics``, ``participant_flow``,
``adverse_events``. Upstream tables are read by asset key (docs/TABLES.md); the questionnaire score
tables are those named as ``source`` in the outcome registry.
"""
from __future__ import annotations

import dagster as dg
import pandas as pd

from mglt_pipeline.analysis.dataset import derive_analysis_dataset, derive_arm_labels, is_blinded
from mglt_pipeline.analysis.diary import derive_diary_daily, supplement_adherence
from mglt_pipeline.analysis.nightly import derive_oura_nightly
from mglt_pipeline.visits import POST_BASELINE_VISITS
from mglt_pipeline.analysis.tables import (
    adverse_event_summary,
    baseline_markdown,
    derive_adverse_events,
    derive_baseline_characteristics,
    derive_participant_flow,
    flow_inconsistencies,
    flow_markdown,
)
from mglt_pipeline.analysis.windows import derive_outcome_windows
from mglt_pipeline.validation.duplicates import conflicted_participants
from mglt_pipeline.registry import OUTCOMES

WINDOWS_GROUP = "windows"
ANALYSIS_GROUP = "analysis"
OURA_NIGHTLY = "oura_nightly"
DIARY_DAILY = "diary_daily"
OUTCOME_WINDOWS = "outcome_windows"
ANALYSIS_DATASET = "analysis_dataset"
BASELINE_CHARACTERISTICS = "baseline_characteristics"
PARTICIPANT_FLOW = "participant_flow"
ADVERSE_EVENTS = "adverse_events"
DERIVED_SOURCES = (OURA_NIGHTLY, DIARY_DAILY)
SCORE_SOURCES: tuple[str, ...] = tuple(dict.fromkeys(o.source for o in OUTCOMES if o.source not in DERIVED_SOURCES))
PREVIEW_ROWS = 10


def _preview(frame: pd.DataFrame, rows: int = PREVIEW_ROWS) -> dg.MetadataValue:
    return dg.MetadataValue.md(frame.head(rows).to_markdown(index=False))


def _output(frame: pd.DataFrame, **metadata) -> dg.Output:
    """The table with its row count and a Markdown preview as materialization metadata."""
    return dg.Output(frame, metadata={"dagster/row_count": dg.MetadataValue.int(len(frame)),
                                      "preview": _preview(frame), **metadata})


@dg.asset(group_name=WINDOWS_GROUP, name=OURA_NIGHTLY)
def oura_nightly_asset(participants: pd.DataFrame, oura_daily_sleep: pd.DataFrame, oura_sleep_periods: pd.DataFrame,
                       oura_daily_activity: pd.DataFrame, oura_daily_readiness: pd.DataFrame) -> dg.Output:
    """One row per participant and Oura day: study day, visit and the Oura outcomes (main sleep only)."""
    nightly = derive_oura_nightly(oura_daily_sleep, oura_sleep_periods, oura_daily_activity,
                                  oura_daily_readiness, participants)
    return _output(nightly, participants=dg.MetadataValue.int(nightly["participant_id"].nunique()))


@dg.asset(group_name=WINDOWS_GROUP, name=DIARY_DAILY)
def diary_daily_asset(participants: pd.DataFrame, diary_entries: pd.DataFrame) -> dg.Output:
    """One row per participant and diary date: study day, visit, diary outcomes, adherence, events."""
    daily = derive_diary_daily(diary_entries, participants)
    return _output(daily, participants=dg.MetadataValue.int(daily["participant_id"].nunique()))


@dg.asset(group_name=WINDOWS_GROUP, name=OUTCOME_WINDOWS,
          ins={source: dg.AssetIn(source) for source in (OURA_NIGHTLY, DIARY_DAILY) + SCORE_SOURCES})
def outcome_windows_asset(**tables: pd.DataFrame) -> dg.Output:
    """Every registry outcome per participant and visit: window means of daily data, event scores."""
    windows = derive_outcome_windows(tables)
    missing = windows["value"].isna().groupby([windows["outcome"], windows["visit"]], sort=False).sum()
    return _output(windows, missing_values=dg.MetadataValue.md(missing.rename("missing").reset_index().to_markdown(index=False)))


@dg.asset(group_name=ANALYSIS_GROUP, name=ANALYSIS_DATASET)
def analysis_dataset_asset(outcome_windows: pd.DataFrame, randomization: pd.DataFrame,
                           participants: pd.DataFrame, diary_daily: pd.DataFrame) -> dg.Output:
    """SAP analysis dataset: aval, base, chg, fas, pp per randomized participant, outcome and visit."""
    adherence = supplement_adherence(diary_daily, randomization["participant_id"])
    dataset = derive_analysis_dataset(outcome_windows, randomization, participants, adherence)
    per_arm = dataset.drop_duplicates("participant_id")["arm"].value_counts().sort_index()
    missing = (dataset.assign(missing=dataset["aval"].isna())
               .pivot_table(index="outcome", columns="visit", values="missing", aggfunc="sum", sort=False))
    return _output(
        dataset,
        blinded=dg.MetadataValue.bool(is_blinded(randomization)),
        n_per_arm=dg.MetadataValue.md(per_arm.rename("n").reset_index().to_markdown(index=False)),
        missing_aval=dg.MetadataValue.md(missing.reset_index().to_markdown(index=False)),
    )


@dg.asset(group_name=ANALYSIS_GROUP, name=BASELINE_CHARACTERISTICS)
def baseline_characteristics_asset(participants: pd.DataFrame, randomization: pd.DataFrame,
                                   analysis_dataset: pd.DataFrame) -> dg.Output:
    """Table 1: randomized participants by arm: n, age, sex and baseline ISI, RSQ-W and sleep score."""
    table = derive_baseline_characteristics(participants, derive_arm_labels(randomization), analysis_dataset)
    return _output(table, table_1=dg.MetadataValue.md(baseline_markdown(table)))


@dg.asset(group_name=ANALYSIS_GROUP, name=PARTICIPANT_FLOW)
def participant_flow_asset(participants: pd.DataFrame, randomization: pd.DataFrame,
                           analysis_dataset: pd.DataFrame, randomization_quarantine: pd.DataFrame) -> dg.Output:
    """CONSORT counts by arm: enrolled, randomized, dosed, completed, withdrawn, lost, randomized
    twice (a conflict: not analysed), key FAS."""
    flow = derive_participant_flow(participants, derive_arm_labels(randomization), analysis_dataset,
                                   conflicted_participants(randomization_quarantine))
    return _output(flow, flow=dg.MetadataValue.md(flow_markdown(flow)))


@dg.asset(group_name=ANALYSIS_GROUP, name=ADVERSE_EVENTS)
def adverse_events_asset(diary_daily: pd.DataFrame, participants: pd.DataFrame,
                         randomization: pd.DataFrame) -> dg.Output:
    """Safety set: every adverse event written in the diary by a dosed participant."""
    arms = derive_arm_labels(randomization)
    events = derive_adverse_events(diary_daily, participants, arms)
    summary = adverse_event_summary(events, participants, arms)
    return _output(events, participants_with_events=dg.MetadataValue.md(summary.to_markdown(index=False)))


@dg.asset_check(asset=ANALYSIS_DATASET, name="one_row_per_participant_outcome_visit", blocking=True,
                additional_ins={"randomization": dg.AssetIn("randomization")})
def analysis_dataset_key_check(analysis_dataset: pd.DataFrame, randomization: pd.DataFrame) -> dg.AssetCheckResult:
    """Exactly one row per randomized participant, registry outcome and post-baseline visit.
    Blocking, as the other structure checks of this room: a failure stops what depends on the table
    (models, tables, report) and the run is not committed."""
    duplicates = int(analysis_dataset.duplicated(["participant_id", "outcome", "visit"]).sum())
    expected = randomization["participant_id"].nunique() * len(OUTCOMES) * len(POST_BASELINE_VISITS)
    return dg.AssetCheckResult(passed=duplicates == 0 and len(analysis_dataset) == expected,
                               metadata={"duplicates": duplicates, "rows": len(analysis_dataset),
                                         "expected_rows": expected})


@dg.asset_check(asset=ANALYSIS_DATASET, name="chg_is_aval_minus_base_and_fas_has_base", blocking=True)
def analysis_dataset_derivation_check(analysis_dataset: pd.DataFrame) -> dg.AssetCheckResult:
    """``chg = aval - base`` on every row; FAS rows have a baseline; PP is inside the FAS."""
    chg_off = int(((analysis_dataset["chg"] - (analysis_dataset["aval"] - analysis_dataset["base"])).abs() > 1e-12).sum())
    fas_without_base = int((analysis_dataset["fas"] & analysis_dataset["base"].isna()).sum())
    pp_outside_fas = int((analysis_dataset["pp"] & ~analysis_dataset["fas"]).sum())
    return dg.AssetCheckResult(passed=chg_off + fas_without_base + pp_outside_fas == 0,
                               metadata={"chg_mismatches": chg_off, "fas_without_base": fas_without_base,
                                         "pp_outside_fas": pp_outside_fas})


@dg.asset_check(asset=PARTICIPANT_FLOW, name="participant_flow_adds_up", blocking=True)
def participant_flow_check(participant_flow: pd.DataFrame) -> dg.AssetCheckResult:
    """Totals are the sums of the arms; enrolled >= randomized >= dosed >= completed."""
    problems = flow_inconsistencies(participant_flow)
    return dg.AssetCheckResult(passed=not problems, metadata={"problems": dg.MetadataValue.json(problems)})


ASSETS = [oura_nightly_asset, diary_daily_asset, outcome_windows_asset, analysis_dataset_asset,
          baseline_characteristics_asset, participant_flow_asset, adverse_events_asset]
CHECKS = [analysis_dataset_key_check, analysis_dataset_derivation_check, participant_flow_check]
