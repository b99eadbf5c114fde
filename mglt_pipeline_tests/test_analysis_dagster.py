"""The windows and analysis assets materialized with the real DuckDB IO manager on tiny upstream tables."""
import duckdb
import pandas as pd
import pytest

import dagster as dg
from mglt_pipeline.defs.analysis import ASSETS, CHECKS
from mglt_pipeline.registry import OUTCOMES
from mglt_pipeline.resources import WAREHOUSE_FILE, build_resources
from mglt_pipeline.validation.quarantine import quarantine_frame
from mglt_pipeline_tests import analysis_frames as f

DOSE = "2025-01-30"
NIGHTS = [d for d in range(-7, 22) if d not in (0, -3, -2, -1, 10)]  # no Day 0; baseline keeps 4 nights


def _upstream() -> dict[str, pd.DataFrame]:
    people = f.participants([("P1", DOSE, "completed"), ("P2", DOSE, "completed"), ("P3", None, "withdrawn")])
    tables = {"participants": people, "randomization": f.randomization({"P1": "A", "P2": "B"}),
              "randomization_quarantine": quarantine_frame([])}  # participant_flow counts its conflicts
    docs = [f.daily_documents(pid, [f.day(d) for d in NIGHTS], score) for pid, score in (("P1", 70.0), ("P2", 80.0))]
    for name in docs[0]:
        tables[name] = pd.concat([d[name] for d in docs], ignore_index=True)
    periods = [f.sleep_period(pid, f.day(d), "long_sleep", 6 * 3600 + (d > 0) * 3600 * (pid == "P2"), f"{pid}{d}")
               for pid in ("P1", "P2") for d in NIGHTS]
    periods.append(f.sleep_period("P1", f.day(2), "sleep", 9 * 3600, "nap"))
    tables["oura_sleep_periods"] = pd.DataFrame(periods)
    all_days = list(range(-7, 0)) + list(range(1, 22))
    tables["diary_entries"] = pd.concat([f.diary_entries("P1", all_days, 6.0, events={5: "headache"}),
                                         f.diary_entries("P2", all_days, 7.0)], ignore_index=True)
    for source in ("isi_scores", "lseq_scores", "rsq_scores", "poms_scores"):
        tables[source] = f.score_table(source, {("P1", "baseline"): 15.0, ("P1", "week_3"): 11.0,
                                                ("P2", "baseline"): 12.0, ("P2", "week_1"): 12.5})
    return tables


def _upstream_assets(tables):
    def make(name, frame):
        @dg.asset(name=name)
        def _table() -> pd.DataFrame:
            return f.conforming(name, frame)
        return _table
    return [make(name, frame) for name, frame in tables.items()]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    root = tmp_path_factory.mktemp("analysis_root")
    result = dg.materialize([*_upstream_assets(_upstream()), *ASSETS, *CHECKS], resources=build_resources(root))
    assert result.success
    checks = result.get_asset_check_evaluations()
    assert len(checks) == len(CHECKS) and all(c.passed for c in checks)
    with duckdb.connect(str(root / WAREHOUSE_FILE), read_only=True) as con:
        tables = {t: con.sql(f"select * from main.{t}").df() for t in (
            "oura_nightly", "diary_daily", "outcome_windows", "analysis_dataset",
            "baseline_characteristics", "participant_flow", "adverse_events")}
    row_counts = {e.asset_key.to_user_string(): e.materialization.metadata["dagster/row_count"].value
                  for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() in tables}
    yield {**tables, "row_counts": row_counts}


def test_row_count_metadata_is_the_stored_table_length(warehouse):
    assert warehouse["row_counts"] == {t: len(warehouse[t]) for t in warehouse if t != "row_counts"}


def test_analysis_dataset_in_the_warehouse(warehouse):
    data = warehouse["analysis_dataset"]
    assert len(data) == 2 * len(OUTCOMES) * 3
    sleep = data.query("outcome == 'oura_total_sleep_min'").set_index(["participant_id", "visit"])
    assert sleep.loc[("P1", "week_2"), "aval"] == 360.0      # 6 h every night, the 9 h nap ignored
    assert sleep.loc[("P2", "week_2"), "aval"] == 420.0      # 7 h from Day 1
    assert sleep.loc[("P2", "week_2"), "chg"] == 60.0
    assert sleep["fas"].all()
    isi = data.query("outcome == 'isi_total'").set_index(["participant_id", "visit"])
    assert isi.loc[("P1", "week_3"), "chg"] == -4.0
    assert pd.isna(isi.loc[("P1", "week_1"), "aval"])
    assert isi.loc[("P2", "week_1"), "aval"] == 12.5
    assert set(data["arm"]) == {"A", "B"}
    assert data["pp"].sum() == data["fas"].sum()  # both took the supplement every day and completed


def test_windows_and_tables_in_the_warehouse(warehouse):
    nightly = warehouse["oura_nightly"]
    assert len(nightly) == 2 * len(NIGHTS)
    windows = warehouse["outcome_windows"].set_index(["participant_id", "outcome", "visit"])
    assert windows.loc[("P1", "oura_sleep_score", "baseline"), "n_valid_days"] == 4
    assert windows.loc[("P1", "oura_sleep_score", "week_2"), "n_valid_days"] == 6   # Day 10 missing
    assert windows.loc[("P2", "diary_energy", "week_3"), "value"] == 7.0
    flow = warehouse["participant_flow"].pivot(index="stage", columns="arm", values="n")
    assert flow.loc["enrolled", "total"] == 3 and flow.loc["randomized", "total"] == 2
    events = warehouse["adverse_events"]
    assert events[["participant_id", "study_day", "text"]].values.tolist() == [["P1", 5, "headache"]]
    table = warehouse["baseline_characteristics"]
    overall_sleep = table.query("characteristic == 'oura_sleep_score' and arm == 'overall'")
    assert overall_sleep["mean"].tolist() == [75.0]  # P1 70, P2 80 every baseline night
