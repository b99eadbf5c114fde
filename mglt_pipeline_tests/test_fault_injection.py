"""The fault-injection suite (issue 10 acceptance): one small trial per fault, and the real graph.

The clean trial is simulated once. Each fault of the table (``csv_faults.CSV_FAULTS`` and
``oura_faults.OURA_FAULTS``) is planted in a copy, and the pipeline's pure functions run on it: the
run completes, the fault is in the quarantine with file, row, line, participant, key, field, value and
its own rule, nothing else is rejected, the counts add up, and every outcome the fault cannot touch
has an analysis dataset identical to the clean run's (what it did change is fitted again, one outcome
per family). One Dagster run of the real graph's job (up to the effects, the quarantine, the set-aside
list, the participant flow and the adverse events) on a trial with many of these faults at once
proves the same: its quarantine and set-aside tables are exactly the faults', every effect the faults
cannot touch equals the clean trial's to 1e-12, and no identifier planted at the door reaches the
warehouse.
"""
from __future__ import annotations

import re

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import pytest

from mglt_pipeline.definitions import build_definitions
from mglt_pipeline.simulate import simulate_trial
from mglt_pipeline.validation.quarantine import QUARANTINE_COLUMNS, SET_ASIDE_COLUMNS
from mglt_pipeline_tests.csv_faults import CSV_FAULTS
from mglt_pipeline_tests.oura_faults import OURA_FAULTS
from mglt_pipeline_tests.fault_injection import (
    ALL, Planted, all_entries, assert_entries, check_fault, copy_trial, counts_add_up, effects, one_per_family,
    run_pipeline,
)

pytestmark = pytest.mark.whole_pipeline(runs=3)

FAULTS = CSV_FAULTS + OURA_FAULTS
TOGETHER = ("participants_sex_lower_case", "participants_withdrawn_before_enrolment", "participants_identifier_columns",
            "redcap_complete_not_numeric", "redcap_identifier_columns", "redcap_repeated_header_line",
            "redcap_other_event", "redcap_label_export", "diary_infinity", "diary_contact_details_in_text",
            "raw_unknown_file_and_folder", "oura_dangling_next_token", "oura_folders_and_files_not_read",
            "oura_unknown_participant_folder", "oura_other_ways_of_api_nights")
"""Faults that can share one trial (different files, or rows planted in an order that keeps the
others' row and line numbers), for the Dagster run."""
THROUGH = ("treatment_effects", "quarantine", "set_aside", "participant_flow", "adverse_events")
"""The Dagster run materializes the real graph's job up to these assets and their checks (what the
faults can reach; the report and submission files downstream are not needed to prove it)."""


@pytest.fixture(scope="session")
def clean_trial(tmp_path_factory):
    root = tmp_path_factory.mktemp("clean_trial")
    simulate_trial(root, participants=8, seed=21)
    return root, run_pipeline(root)


def test_the_clean_trial_has_nothing_to_quarantine_or_set_aside(clean_trial):
    _, clean = clean_trial
    assert all_entries(clean, "quarantine").empty and all_entries(clean, "set_aside").empty
    counts_add_up(clean)
    assert clean.dataset["fas"].any() and clean.dataset["aval"].notna().any()


def test_every_fault_has_its_own_name():
    assert len({f.name for f in FAULTS}) == len(FAULTS) >= 45


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.name)
def test_one_fault(fault, clean_trial, tmp_path):
    clean_root, clean = clean_trial
    root = copy_trial(clean_root, tmp_path)
    planted = fault.plant(root / "raw")
    faulty = run_pipeline(root, clean)
    changed = check_fault(clean, faulty, planted)
    refitted = effects(faulty.dataset, one_per_family(changed))  # the run goes on: what changed is fitted
    assert all(len(table) == 3 for table in refitted.values())


@pytest.fixture(scope="module")
def together(clean_trial, tmp_path_factory):
    """One trial with every fault of ``TOGETHER``, materialized by the real graph's job (``THROUGH``)."""
    clean_root, clean = clean_trial
    root = copy_trial(clean_root, tmp_path_factory.mktemp("together"))
    by_name = {f.name: f for f in FAULTS}
    plans = [by_name[name].plant(root / "raw") for name in TOGETHER]
    planted = Planted([e for p in plans for e in p.quarantine], [e for p in plans for e in p.set_aside],
                      frozenset().union(*(p.touches for p in plans)))
    defs = build_definitions(root)
    keys = dg.AssetSelection.assets(*THROUGH).upstream().resolve(defs.resolve_asset_graph())
    result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), asset_selection=list(keys), raise_on_error=False)
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        tables = {t: con.execute(f"select * from main.{t}").fetchdf()
                  for (t,) in con.execute("select table_name from information_schema.tables").fetchall()}
    return clean, planted, result, tables


def test_the_real_graph_completes_with_exactly_the_planted_entries(together):
    _, planted, result, tables = together
    failed = [e.step_key for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert result.success and not failed
    assert_entries(tables["quarantine"], planted.quarantine, QUARANTINE_COLUMNS)
    assert_entries(tables["set_aside"], planted.set_aside, SET_ASIDE_COLUMNS)
    for event in result.get_asset_materialization_events():
        meta = event.materialization.metadata
        if "rows_read" in meta:
            assert meta["rows_read"].value == sum(meta[k].value for k in (
                "rows_clean", "rows_quarantined", "rows_superseded", "rows_set_aside"))


def test_effects_the_faults_cannot_touch_equal_the_clean_trials(together):
    clean, planted, _, tables = together
    untouched = sorted(ALL - planted.touches)
    assert len(untouched) >= 30
    expected = pd.concat([t[t["visit"] == "week_3"] for t in effects(clean.dataset, untouched).values()])
    found = tables["treatment_effects"].set_index("outcome").loc[untouched]
    expected = expected.set_index("outcome").loc[untouched]
    for column in ("estimate", "se", "df", "ci_low", "ci_high", "p_value", "hedges_g", "interaction_p"):
        np.testing.assert_allclose(found[column].to_numpy(float), expected[column].to_numpy(float),
                                   rtol=0, atol=1e-12, err_msg=column)


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
_PHONE = re.compile(r"\(\d{3}\) \d{3}-\d{4}|\+1 555")


def test_no_identifier_reaches_the_warehouse(together):
    _, _, _, tables = together
    for name, table in tables.items():
        columns = {c.lower() for c in table.columns}
        assert not columns & {"mrn", "email", "name", "phone_number", "date_of_birth"}, name
        text = table.select_dtypes(include=["object", "string"]).astype("string")
        for column in text.columns:
            values = text[column].dropna()
            assert not values.str.contains(_EMAIL).any(), (name, column)
            assert not values.str.contains(_PHONE).any(), (name, column)
    events = tables["diary_entries"]["adverse_event"].dropna()
    assert events.str.contains(r"\[redacted\]").sum() == 1
