"""Great Expectations 1.x suites for the Oura tables, run from Dagster asset checks.

A second, independent statement of the Oura tables' contract (ids unique where there are ids: the
account export and the Trends CSV have none; scores and contributors 1..100, period types from
Oura's list), in the tool data managers know. One ephemeral
context per process (no project folder on disk): GX set-up is the costly part, and GX is imported
only when a suite runs (its import alone takes over a second, paid by every code-location load).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from mglt_pipeline.validation.oura_schemas import SLEEP_TYPES

DATA_SOURCE = "mglt_warehouse"
SCORE_COLUMNS = {
    "oura_daily_sleep": ["score", "contributors_deep_sleep", "contributors_efficiency",
                         "contributors_latency", "contributors_rem_sleep", "contributors_restfulness",
                         "contributors_timing", "contributors_total_sleep"],
    "oura_sleep_periods": [],
    "oura_daily_activity": ["score", "contributors_meet_daily_targets", "contributors_move_every_hour",
                            "contributors_recovery_time", "contributors_stay_active",
                            "contributors_training_frequency", "contributors_training_volume"],
    "oura_daily_readiness": ["score", "contributors_activity_balance", "contributors_body_temperature",
                             "contributors_hrv_balance", "contributors_previous_day_activity",
                             "contributors_previous_night", "contributors_recovery_index",
                             "contributors_resting_heart_rate", "contributors_sleep_balance"],
}
OURA_TABLES = tuple(SCORE_COLUMNS)


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's verdict, as the asset check reports it."""

    expectation: str
    column: str
    success: bool
    unexpected_count: int


@lru_cache(maxsize=1)
def _context():
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
    return context


def oura_suite(table: str) -> gx.ExpectationSuite:
    """The expectations of one Oura table."""
    import great_expectations as gx

    suite = gx.ExpectationSuite(name=f"{table}_suite")
    suite.add_expectation(gx.expectations.ExpectColumnValuesToNotBeNull(column="participant_id"))
    suite.add_expectation(gx.expectations.ExpectColumnValuesToBeUnique(column="id"))
    suite.add_expectation(gx.expectations.ExpectColumnValuesToNotBeNull(column="day"))
    for column in SCORE_COLUMNS[table]:
        suite.add_expectation(gx.expectations.ExpectColumnValuesToBeBetween(
            column=column, min_value=1, max_value=100))
    if table == "oura_sleep_periods":
        suite.add_expectation(gx.expectations.ExpectColumnValuesToBeInSet(
            column="type", value_set=list(SLEEP_TYPES)))
        for column in ("average_heart_rate", "lowest_heart_rate"):
            suite.add_expectation(gx.expectations.ExpectColumnValuesToBeBetween(
                column=column, min_value=25, max_value=220))
    return suite


def _batch_definition(table: str):
    context = _context()
    try:
        source = context.data_sources.get(DATA_SOURCE)
    except (KeyError, ValueError):
        source = context.data_sources.add_pandas(DATA_SOURCE)
    try:
        asset = source.get_asset(table)
    except LookupError:
        asset = source.add_dataframe_asset(table)
    try:
        return asset.get_batch_definition("whole_table")
    except KeyError:
        return asset.add_batch_definition_whole_dataframe("whole_table")


def run_oura_suite(table: str, frame: pd.DataFrame) -> list[ExpectationOutcome]:
    """Validate ``frame`` (one Oura table) against its suite; one outcome per expectation."""
    batch = _batch_definition(table).get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(oura_suite(table))
    return [ExpectationOutcome(r.expectation_config.type, str(r.expectation_config.kwargs.get("column")),
                               bool(r.success), int(r.result.get("unexpected_count") or 0))
            for r in result.results]
