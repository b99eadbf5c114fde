"""The four score assets and their range checks, run by Dagster into a real DuckDB warehouse."""
from __future__ import annotations

import math

import dagster as dg
import duckdb
import pandas as pd

from mglt_pipeline.defs.scoring import ASSETS, CHECKS, GROUP, QUESTIONNAIRE_ITEMS, score_assets
from mglt_pipeline.resources import WAREHOUSE_FILE, build_resources
from mglt_pipeline_tests.scoring_fixtures import poms_answers, sheet, sheets

_ = None

ITEMS = sheets(
    sheet("isi", [4, 3, 2, 1, 0, 3, 4], "P001", "baseline"),   # 17, moderate
    sheet("isi", [1, 1, 1, 1, 1, 1, _], "P001", "week_3"),     # 6/6 x 7 = 7, none
    sheet("isi", [_] * 7, "P002", "baseline"),                 # all blank: missing, n 0
    sheet("lseq", [12.5, 40.0, 73.3, 55.5, 60.25, 0.0, 100.0, 33.3, 66.6, _], "P001", "baseline"),
    sheet("rsq", [4, 3, 5, 2, 4, 3, 2, 1, 5], "P002", "week_1"),  # (31/9 - 1) x 25 = 550/9
    sheet("poms", poms_answers(4), "P001", "baseline"),        # TMD 160
    sheet("poms", poms_answers(0), "P002", "baseline"),        # TMD 8
)


@dg.asset(key=QUESTIONNAIRE_ITEMS)
def questionnaire_items() -> pd.DataFrame:
    return ITEMS


def read_table(root, table: str) -> pd.DataFrame:
    with duckdb.connect(str(root / WAREHOUSE_FILE), read_only=True) as con:
        return con.sql(f"select * from main.{table} order by participant_id, visit_num").df()


def test_scores_materialize_into_duckdb(tmp_path):
    result = dg.materialize([questionnaire_items, *ASSETS, *CHECKS], resources=build_resources(tmp_path))
    assert result.success

    isi = read_table(tmp_path, "isi_scores")
    assert isi["participant_id"].tolist() == ["P001", "P001", "P002"]
    assert isi["isi_total"].tolist()[:2] == [17.0, 7.0] and math.isnan(isi["isi_total"][2])
    assert isi["isi_category"].tolist() == ["moderate", "none", None]
    assert isi["isi_total_n_answered"].tolist() == [7, 6, 0]

    lseq = read_table(tmp_path, "lseq_scores")
    assert len(lseq) == 1 and abs(lseq["lseq_qos"][0] - 57.875) < 1e-12  # (55.5+60.25)/2

    rsq = read_table(tmp_path, "rsq_scores")
    assert rsq[["participant_id", "visit", "visit_num"]].values.tolist() == [["P002", "week_1", 1]]
    assert abs(rsq["rsq_total"][0] - 550 / 9) < 1e-12

    poms = read_table(tmp_path, "poms_scores")
    assert poms["poms_tmd"].tolist() == [160.0, 8.0]

    meta = next(e.materialization.metadata for e in result.get_asset_materialization_events()
                if e.asset_key == dg.AssetKey("isi_scores"))
    assert meta["dagster/row_count"].value == 3
    assert meta["missing_scores"].value == {"isi_total": 1}
    assert "moderate" in meta["preview"].value

    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) == 4 and all(e.passed for e in evaluations)


def test_range_check_warns_on_an_impossible_score(tmp_path):
    bad = sheet("isi", [4, 4, 4, 4, 4, 4, 9])  # 24 + 9 = 33 > 28 (an item out of its 0..4 range)

    @dg.asset(key=QUESTIONNAIRE_ITEMS)
    def bad_items() -> pd.DataFrame:
        return bad

    result = dg.materialize([bad_items, score_assets], selection=["questionnaire_items", "isi_scores"],
                            resources=build_resources(tmp_path))
    (evaluation,) = result.get_asset_check_evaluations()  # only the selected instrument's check
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    assert evaluation.metadata["out_of_range"].value == {"isi_total": 1}


def test_graph_of_the_scoring_room():
    assert {k.to_user_string(): a.group_names_by_key[k] for a in ASSETS for k in a.keys} == {
        name: GROUP for name in ("isi_scores", "lseq_scores", "rsq_scores", "poms_scores")}
    assert all(a.asset_deps[k] == {QUESTIONNAIRE_ITEMS} for a in ASSETS for k in a.keys)
    assert sorted(k.name for c in [*ASSETS, *CHECKS] for k in c.check_keys) == [
        "isi_scores_in_range", "lseq_scores_in_range", "poms_scores_in_range", "rsq_scores_in_range"]
