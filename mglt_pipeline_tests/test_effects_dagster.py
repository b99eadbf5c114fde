"""The treatment-effects assets materialized with the real DuckDB IO manager on a simulated trial."""
from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

import dagster as dg
from mglt_pipeline.defs.effects import (
    ASSETS, CHECKS, FOREST_PLOT, GROUP, TREATMENT_EFFECTS, effect_asset_name,
)
from mglt_pipeline.effects.simulate import simulate_trial
from mglt_pipeline.effects.tables import EFFECT_COLUMNS, TREATMENT_EFFECTS_COLUMNS
from mglt_pipeline.registry import OUTCOMES
from mglt_pipeline.paths import FOREST_PLOT_FILE
from mglt_pipeline.resources import REPORTS_DIR, WAREHOUSE_FILE, build_resources

pytestmark = pytest.mark.whole_pipeline(runs=1)

PLANTED = {"isi_total": -6.0, "oura_sleep_score": 6.0}  # week_3 differences, active minus placebo
EMPTY_OUTCOME = "poms_cb"                               # every value missing: the model cannot be fitted


def _analysis_dataset(blinded: bool) -> pd.DataFrame:
    rows = simulate_trial({o.id: (0.0, 0.0, PLANTED.get(o.id, 0.0)) for o in OUTCOMES}, seed=3, blinded=blinded)
    empty = rows["outcome"] == EMPTY_OUTCOME
    rows.loc[empty, ["aval", "chg"]] = np.nan
    rows.loc[empty, ["fas", "pp"]] = False
    return rows


def _stand_in(frame: pd.DataFrame) -> dg.AssetsDefinition:
    @dg.asset(name="analysis_dataset")
    def analysis_dataset() -> pd.DataFrame:
        return frame
    return analysis_dataset


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("effects_root")
    result = dg.materialize([_stand_in(_analysis_dataset(blinded=False)), *ASSETS, *CHECKS],
                            resources=build_resources(root))
    with duckdb.connect(str(root / WAREHOUSE_FILE), read_only=True) as con:
        tables = {t: con.sql(f"select * from main.{t}").df()
                  for t in [TREATMENT_EFFECTS, *(effect_asset_name(o.id) for o in OUTCOMES)]}
    return root, result, tables


def _metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    events = [e for e in result.get_asset_materialization_events()
              if e.asset_key == dg.AssetKey(asset)]
    assert len(events) == 1
    return events[0].materialization.metadata


def test_run_succeeds_and_check_passes(run):
    _, result, _ = run
    assert result.success
    checks = result.get_asset_check_evaluations()
    assert [c.passed for c in checks] == [True]


def test_effect_tables_have_one_row_per_visit(run):
    _, _, tables = run
    for o in OUTCOMES:
        table = tables[effect_asset_name(o.id)]
        assert list(table.columns) == list(EFFECT_COLUMNS)
        assert table["visit"].tolist() == ["week_1", "week_2", "week_3"]
        assert (table["outcome"] == o.id).all() and not table["blinded"].any()


def test_treatment_effects_is_the_sap_table(run):
    _, _, tables = run
    te = tables[TREATMENT_EFFECTS]
    assert list(te.columns) == list(TREATMENT_EFFECTS_COLUMNS)
    assert te["outcome"].tolist() == [o.id for o in OUTCOMES]
    assert (te["visit"] == "week_3").all()
    row = te.set_index("outcome")
    assert row.loc["isi_total", "improved"] and row.loc["oura_sleep_score", "improved"]
    assert row.loc["isi_total", "estimate"] < 0 < row.loc["oura_sleep_score", "estimate"]
    empty = row.loc[EMPTY_OUTCOME]
    assert not empty["converged"] and np.isnan(empty["estimate"]) and "no FAS rows" in empty["message"]
    assert row["converged"].sum() == len(OUTCOMES) - 1
    # an unfitted model names no df method; the MMRM columns as SAP "The effects table" names them
    assert empty["df_method"] is None and empty["mmrm_df_method"] is None and empty["mmrm_covariance"] == ""
    assert np.isnan(empty["mmrm_estimate"]) and "MMRM not fitted" in empty["message"]
    fitted = te.loc[te["converged"]]
    assert (fitted["mmrm_covariance"] == "unstructured").all() and (fitted["mmrm_df_method"] == "kenward-roger").all()
    assert ((fitted["mmrm_ci_low"] < fitted["mmrm_estimate"]) & (fitted["mmrm_estimate"] < fitted["mmrm_ci_high"])).all()
    assert (fitted["mmrm_n_active"] == fitted["n_active"]).all() and (fitted["mmrm_se"] > 0).all()
    assert row.loc["isi_total", "mmrm_estimate"] < 0 < row.loc["oura_sleep_score", "mmrm_estimate"]
    assert row.loc["isi_total", "mmrm_p_value"] < 0.05


def test_effect_metadata_carries_week_3_numbers_and_plot(run):
    _, result, tables = run
    metadata = _metadata(result, effect_asset_name("isi_total"))
    week_3 = tables[effect_asset_name("isi_total")].iloc[2]
    te = tables[TREATMENT_EFFECTS].set_index("outcome")
    # rounded to 4 significant digits (p to 3), the BH-adjusted p of the family and the better direction
    assert metadata["week_3_estimate"].value == float(f"{week_3['estimate']:.4g}")
    assert metadata["week_3_p_value"].value == float(f"{week_3['p_value']:.3g}")
    assert metadata["week_3_p_adj"].value == float(f"{te.loc['isi_total', 'p_adj']:.3g}")
    assert metadata["week_3_mmrm_estimate"].value == float(f"{week_3['mmrm_estimate']:.4g}")
    assert metadata["better"].value == "lower" and metadata["mmrm_covariance"].value == "unstructured"
    assert metadata["n_active"].value == week_3["n_active"]
    assert metadata["converged"].value is True
    assert metadata["adjusted_means"].value.startswith("![ISI total](data:image/png;base64,")


def test_forest_plot_is_written_and_shown(run):
    root, result, _ = run
    path = root / REPORTS_DIR / FOREST_PLOT_FILE
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert "data:image/png;base64," in _metadata(result, FOREST_PLOT)["forest_plot"].value


def test_blinded_run_labels_arms_a_and_b(tmp_path):
    result = dg.materialize([_stand_in(_analysis_dataset(blinded=True)), *ASSETS],
                            resources=build_resources(tmp_path),
                            selection=["analysis_dataset", effect_asset_name("isi_total")])
    assert result.success
    table = result.asset_value(effect_asset_name("isi_total"))
    assert table["blinded"].all() and table["converged"].all()
    metadata = _metadata(result, effect_asset_name("isi_total"))
    assert metadata["blinded"].value is True
    assert metadata["week_3_p_adj"].value.startswith("in treatment_effects")  # its family was not all fitted


def test_asset_graph():
    specs = {key.to_user_string(): spec for a in ASSETS for key, spec in zip(a.keys, a.specs)}
    assert set(specs) == {effect_asset_name(o.id) for o in OUTCOMES} | {TREATMENT_EFFECTS, FOREST_PLOT}
    assert all(spec.group_name == GROUP for spec in specs.values())
    deps = {name: {d.asset_key.to_user_string() for d in spec.deps} for name, spec in specs.items()}
    assert all(deps[effect_asset_name(o.id)] == {"analysis_dataset"} for o in OUTCOMES)
    assert deps[TREATMENT_EFFECTS] == {effect_asset_name(o.id) for o in OUTCOMES}
    assert deps[FOREST_PLOT] == {TREATMENT_EFFECTS}
    assert [s.asset_key.to_user_string() for check in CHECKS for s in check.check_specs] == [TREATMENT_EFFECTS]
