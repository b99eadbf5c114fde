"""Great Expectations across rows and tables (``validation.expectations``), as one asset check.

``trial_expectations`` (on ``analysis_dataset``) validates the trial as a whole and renders GX Data
Docs to ``reports/validation/index.html``, linked from its metadata and from the report. It is
blocking: what depends on the analysis dataset waits for it, so the report links this run's pages,
and when the ERROR expectation fails (the analysed participants are not the randomized ones) the
models and the report are not made and the run is not committed. The other expectations warn.
"""
from __future__ import annotations

import dagster as dg
import pandas as pd

from mglt_pipeline.paths import VALIDATION_DIR
from mglt_pipeline.resources import DataRoot
from mglt_pipeline.validation.expectations import trial_frames, trial_suites, validate_trial

ANALYSIS_DATASET = "analysis_dataset"
TRIAL_EXPECTATIONS = "trial_expectations"
DATA_DOCS_INDEX = f"{VALIDATION_DIR}/index.html"


def failed_markdown(outcomes) -> str:
    """The failed expectations as a Markdown table: suite, expectation, column, observed, examples."""
    rows = [{"suite": o.suite, "expectation": o.expectation, "column": o.column, "severity": o.severity,
             "observed": o.observed[:80], "unexpected (first)": ", ".join(o.unexpected[:10])}
            for o in outcomes if not o.success]
    return pd.DataFrame(rows).to_markdown(index=False) if rows else "none"


@dg.asset_check(
    asset=ANALYSIS_DATASET, name=TRIAL_EXPECTATIONS, blocking=True,
    additional_ins={name: dg.AssetIn(name) for name in ("participants", "randomization", "oura_nightly", "diary_daily")},
    description="Great Expectations across rows and tables: every analysed participant randomized (ERROR); "
                "Oura nights in each window of every completer, days in windows against participants x "
                "days, baseline means within plausible bounds (WARN). Data Docs: reports/validation/.")
def trial_expectations(data_root: DataRoot, analysis_dataset: pd.DataFrame, participants: pd.DataFrame,
                       randomization: pd.DataFrame, oura_nightly: pd.DataFrame,
                       diary_daily: pd.DataFrame) -> dg.AssetCheckResult:
    frames = trial_frames(participants, randomization, oura_nightly, diary_daily, analysis_dataset)
    outcomes = validate_trial(frames, trial_suites(participants, randomization),
                              data_root.output_path(VALIDATION_DIR, whole_directory=True))
    failed = [o for o in outcomes if not o.success]
    index = data_root.reports / DATA_DOCS_INDEX
    return dg.AssetCheckResult(
        passed=not failed,
        severity=dg.AssetCheckSeverity.ERROR if any(o.severity == "ERROR" for o in failed) else dg.AssetCheckSeverity.WARN,
        description=f"{len(failed)} of {len(outcomes)} expectations failed" if failed else "all expectations met",
        metadata={"expectations": len(outcomes), "failed": len(failed),
                  "failed_expectations": dg.MetadataValue.md(failed_markdown(outcomes)),
                  "data_docs": dg.MetadataValue.path(str(index)), "data_docs_url": dg.MetadataValue.url(index.as_uri())})


CHECKS = [trial_expectations]
