"""Great Expectations 1.x suites of what holds across rows and tables, with Data Docs.

Pandera's schemas judge one row at a time, on the way in (``validation.schemas``, the warehouse
contracts). These expectations judge the trial as a whole, on the derived tables, and are rendered
as GX Data Docs under ``reports/validation/``:
- ``analysis_participants``: every participant of the analysis dataset is randomized (ERROR:
  otherwise the analysis is of the wrong people; that every randomized participant is there is the
  analysis dataset's own check);
- ``oura_coverage``: every randomized participant who completed has Oura nights in each window;
- ``daily_row_counts``: nights and diary days in the windows against participants x 28 days
  (at least 80% of the completers' days, never more than the dosed participants' days);
- ``baseline_distributions``: every outcome's baseline mean within plausible bounds for this
  population and its SD above 0 (a constant baseline is a derivation fault).
The frames these suites read are built here from the tables (plain pandas, testable alone).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mglt_pipeline.registry import OUTCOMES
from mglt_pipeline.visits import VISIT_WINDOWS

WINDOW_DAYS = sum(w.last_day - w.first_day + 1 for w in VISIT_WINDOWS)
MIN_DAY_COVERAGE = 0.8
DATA_SOURCE = "trial_tables"
SITE = "trial_validation"
PLAUSIBLE_BASELINE_MEANS: dict[str, tuple[float, float]] = {
    # Adults 35-55 with mild to moderate sleep problems (STUDY.md); Oura and diary ranges of that age.
    **{o: (40.0, 95.0) for o in ("oura_sleep_score", "oura_deep_sleep_score", "oura_rem_sleep_score",
                                 "oura_activity_score", "oura_readiness_score", "oura_readiness_activity_balance",
                                 "oura_readiness_sleep_balance", "oura_readiness_hrv_balance")},
    "oura_total_sleep_min": (240.0, 540.0), "oura_deep_sleep_min": (20.0, 150.0),
    "oura_rem_sleep_min": (30.0, 150.0), "oura_light_sleep_min": (120.0, 360.0),
    "oura_sleep_efficiency": (60.0, 100.0), "oura_sleep_latency_min": (2.0, 60.0),
    "oura_lowest_hr": (35.0, 85.0), "oura_average_hrv": (10.0, 150.0),
    "oura_daily_movement_m": (1000.0, 20000.0), "oura_steps": (1000.0, 20000.0),
    "isi_total": (8.0, 21.0),  # subthreshold to moderate insomnia: the trial's inclusion (INSTRUMENTS.md bands)
    **{o: (20.0, 80.0) for o in ("lseq_gts", "lseq_qos", "lseq_afs", "lseq_bfw", "rsq_total")},
    "poms_ta": (0.0, 27.0), "poms_dd": (0.0, 45.0), "poms_ah": (0.0, 36.0), "poms_fi": (0.0, 21.0),
    "poms_cb": (0.0, 21.0), "poms_va": (0.0, 24.0), "poms_tmd": (-32.0, 120.0),
    **{o: (1.0, 9.0) for o in ("diary_energy", "diary_productivity", "diary_mood", "diary_mental_alertness",
                               "diary_sleep_quality", "diary_grouchiness")},
}
"""Bounds of the mean baseline of each outcome in this trial's population (not of single values:
those are the schemas' ranges). A mean outside them points at a unit, scale or derivation fault."""


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's verdict, as the asset check reports it."""

    suite: str
    expectation: str
    column: str
    success: bool
    severity: str
    observed: str
    unexpected: tuple[str, ...]


def completers(participants: pd.DataFrame, randomization: pd.DataFrame) -> pd.Series:
    """Randomized participants who were dosed and completed the study."""
    done = participants.loc[participants["status"].eq("completed") & participants["first_dose_on"].notna(),
                            "participant_id"]
    return pd.Series(sorted(set(done) & set(randomization["participant_id"])), dtype=object)


def window_nights(oura_nightly: pd.DataFrame, who: pd.Series) -> pd.DataFrame:
    """One row per participant of ``who`` and window: its Oura nights, and ``window_without_nights``
    naming it ("P013 week_2") when it has none."""
    grid = pd.MultiIndex.from_product([who, [w.visit for w in VISIT_WINDOWS]], names=["participant_id", "visit"])
    nights = oura_nightly.dropna(subset=["visit"]).groupby(["participant_id", "visit"]).size()
    frame = nights.reindex(grid, fill_value=0).rename("nights").reset_index()
    label = frame["participant_id"].astype(str) + " " + frame["visit"].astype(str)
    return frame.assign(window_without_nights=label.where(frame["nights"] == 0))


def baseline_values(analysis_dataset: pd.DataFrame) -> pd.DataFrame:
    """One column per outcome: each randomized participant's baseline value."""
    first = analysis_dataset.drop_duplicates(["participant_id", "outcome"])
    return first.pivot(index="participant_id", columns="outcome", values="base").reset_index()


def trial_frames(participants: pd.DataFrame, randomization: pd.DataFrame, oura_nightly: pd.DataFrame,
                 diary_daily: pd.DataFrame, analysis_dataset: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The frame each suite validates."""
    return {"analysis_participants": analysis_dataset[["participant_id"]].drop_duplicates(),
            "oura_coverage": window_nights(oura_nightly, completers(participants, randomization)),
            "oura_days_in_windows": oura_nightly.loc[oura_nightly["visit"].notna(), ["participant_id", "visit"]],
            "diary_days_in_windows": diary_daily.loc[diary_daily["visit"].notna(), ["participant_id", "visit"]],
            "baseline_distributions": baseline_values(analysis_dataset)}


def trial_suites(participants: pd.DataFrame, randomization: pd.DataFrame) -> dict[str, list]:
    """The expectations of each suite, with ``meta.severity`` (ERROR or WARN) and ``meta.notes``."""
    import great_expectations as gx

    e = gx.expectations
    done = len(completers(participants, randomization))
    dosed = int(randomization["participant_id"].isin(
        participants.loc[participants["first_dose_on"].notna(), "participant_id"]).sum())
    days = {"min_value": math.ceil(MIN_DAY_COVERAGE * done * WINDOW_DAYS), "max_value": dosed * WINDOW_DAYS}
    warn = {"severity": "WARN"}
    return {
        "analysis_participants": [e.ExpectColumnValuesToBeInSet(
            column="participant_id", value_set=sorted(randomization["participant_id"]),
            meta={"severity": "ERROR", "notes": "every analysed participant is randomized"})],
        "oura_coverage": [e.ExpectColumnValuesToBeNull(
            column="window_without_nights",
            meta={**warn, "notes": "every randomized participant who completed has Oura nights in each window"})],
        "oura_days_in_windows": [e.ExpectTableRowCountToBeBetween(
            **days, meta={**warn, "notes": f"nights in windows: {MIN_DAY_COVERAGE:.0%} of {done} completers x "
                                           f"{WINDOW_DAYS} days at least, {dosed} dosed x {WINDOW_DAYS} at most"})],
        "diary_days_in_windows": [e.ExpectTableRowCountToBeBetween(
            **days, meta={**warn, "notes": f"diary days in windows: {MIN_DAY_COVERAGE:.0%} of {done} completers x "
                                           f"{WINDOW_DAYS} days at least, {dosed} dosed x {WINDOW_DAYS} at most"})],
        "baseline_distributions": [x for o in OUTCOMES for x in (
            e.ExpectColumnMeanToBeBetween(column=o.id, min_value=PLAUSIBLE_BASELINE_MEANS[o.id][0],
                                          max_value=PLAUSIBLE_BASELINE_MEANS[o.id][1], meta=warn),
            e.ExpectColumnStdevToBeBetween(column=o.id, min_value=0, strict_min=True, meta=warn))],
    }


def _outcome(suite: str, result) -> ExpectationOutcome:
    config, details = result.expectation_config, result.result or {}
    unexpected = details.get("partial_unexpected_list") or []
    observed = details.get("observed_value")
    return ExpectationOutcome(suite, config.type, str(config.kwargs.get("column") or ""), bool(result.success),
                              (config.meta or {}).get("severity", "WARN"),
                              "" if observed is None else str(observed), tuple(map(str, unexpected[:20])))


def validate_trial(frames: dict[str, pd.DataFrame], suites: dict[str, list], docs_dir: Path) -> list[ExpectationOutcome]:
    """Validate each frame against its suite in one GX checkpoint, rendering the Data Docs into
    ``docs_dir`` (its ``index.html`` links every suite's page); one outcome per expectation."""
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
    context.add_data_docs_site(site_name=SITE, site_config={
        "class_name": "SiteBuilder", "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)}})
    source = context.data_sources.add_pandas(DATA_SOURCE)
    definitions = []
    for name, expectations in suites.items():
        suite = context.suites.add(gx.ExpectationSuite(name=name, expectations=expectations))
        batch = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe(name)
        definitions.append(context.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch, suite=suite)))
    outcomes = []
    for definition in definitions:
        result = definition.run(batch_parameters={"dataframe": frames[definition.name]})
        outcomes += [_outcome(definition.name, r) for r in result.results]
    context.build_data_docs(site_names=[SITE])
    return outcomes
