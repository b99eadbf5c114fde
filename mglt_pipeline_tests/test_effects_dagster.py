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


def test_effect_metadata_carries_week_3_numbers_and_plot(run):
    _, result, tables = run
    metadata = _metadata(result, effect_asset_name("isi_total"))
    week_3 = tables[effect_asset_name("isi_total")].iloc[2]
    assert metadata["week_3_estimate"].value == pytest.approx(week_3["estimate"])
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
    assert _metadata(result, effect_asset_name("isi_total"))["blinded"].value is True


def test_asset_graph():
    specs = {key.to_user_string(): spec for a in ASSETS for key, spec in zip(a.keys, a.specs)}
    assert set(specs) == {effect_asset_name(o.id) for o in OUTCOMES} | {TREATMENT_EFFECTS, FOREST_PLOT}
    assert all(spec.group_name == GROUP for spec in specs.values())
    deps = {name: {d.asset_key.to_user_string() for d in spec.deps} for name, spec in specs.items()}
    assert all(deps[effect_asset_name(o.id)] == {"analysis_dataset"} for o in OUTCOMES)
    assert deps[TREATMENT_EFFECTS] == {effect_asset_name(o.id) for o in OUTCOMES}
    assert deps[FOREST_PLOT] == {TREATMENT_EFFECTS}
    assert [s.asset_key.to_user_string() for check in CHECKS for s in check.check_specs] == [TREATMENT_EFFECTS]
