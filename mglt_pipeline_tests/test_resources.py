"""The warehouse IO manager: one connection and one transaction per run, every table checked against
its contract, a run's tables and report files committed together or not at all.

The assets here are small stand-ins named as real warehouse tables (their contracts apply), run with
the real IO manager on a temporary data root, with the rollback hook the definitions attach.
"""
from __future__ import annotations


import dagster as dg
import duckdb
import pandas as pd
import pytest

from mglt_pipeline.resources import WAREHOUSE_FILE, build_resources, roll_back_failed_runs
from mglt_pipeline.run import step_failures
from mglt_pipeline.validation.quarantine import SET_ASIDE_COLUMNS
from mglt_pipeline.warehouse import store
from mglt_pipeline.warehouse.tables import RUNS_TABLE, TABLES_TABLE

FLOW_N = {"value": 1}


@dg.asset(name="participant_flow")
def flow() -> pd.DataFrame:
    return pd.DataFrame({"stage": ["enrolled", "enrolled"], "arm": ["A", "total"], "n": [FLOW_N["value"]] * 2})


@dg.asset(name="set_aside")
def set_aside(participant_flow: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="string") for c in SET_ASIDE_COLUMNS})


@dg.asset(name="adverse_events")
def broken(participant_flow: pd.DataFrame) -> pd.DataFrame:
    raise RuntimeError("a step that fails")


@dg.asset(name="forest_plot", deps=[flow], required_resource_keys={"data_root"})
def with_file(context) -> dg.MaterializeResult:
    context.resources.data_root.write_report_file("figures/stand_in.png", b"png bytes")
    if FLOW_N["value"] > 1:
        raise RuntimeError("fails after writing a report file")
    return dg.MaterializeResult()


def hooked(*assets) -> list[dg.AssetsDefinition]:
    return [a.with_hooks({roll_back_failed_runs}) for a in assets]


def query(root, sql: str) -> list[tuple]:
    """Read the warehouse read-only (raises if a run's read-write connection is still open)."""
    with duckdb.connect(str(root / WAREHOUSE_FILE), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture
def connections(monkeypatch) -> list[str]:
    """The database files opened, one entry per ``duckdb.connect`` (in-memory ones, which count a
    table's repeated keys, not counted)."""
    opened, connect = [], duckdb.connect

    def counting_connect(database=":memory:", *args, **kwargs):
        if str(database) != ":memory:":
            opened.append(str(database))
        return connect(database, *args, **kwargs)

    monkeypatch.setattr(store.duckdb, "connect", counting_connect)
    return opened


@pytest.fixture(autouse=True)
def reset_flow():
    FLOW_N["value"] = 1
    yield
    FLOW_N["value"] = 1


def test_one_connection_serves_a_run_and_its_tables_are_stamped(tmp_path, connections):
    result = dg.materialize(hooked(flow, set_aside), resources=build_resources(tmp_path))
    assert result.success
    assert connections == [str(tmp_path / WAREHOUSE_FILE)]
    assert query(tmp_path, "select n from participant_flow") == [(1,), (1,)]
    assert query(tmp_path, "select count(*) from set_aside") == [(0,)]  # an empty table is a table
    assert query(tmp_path, f"select table_name, run_id, row_count from {TABLES_TABLE} order by 1") == [
        ("participant_flow", result.run_id, 2), ("set_aside", result.run_id, 0)]


def test_a_failed_step_rolls_the_whole_run_back(tmp_path):
    first = dg.materialize(hooked(flow), resources=build_resources(tmp_path))
    FLOW_N["value"] = 2
    failed = dg.materialize(hooked(flow, broken), resources=build_resources(tmp_path), raise_on_error=False)
    assert not failed.success
    assert [s for s, _ in step_failures(failed)] == ["adverse_events"]
    assert query(tmp_path, "select distinct n from participant_flow") == [(1,)]  # the first run's table
    assert query(tmp_path, f"select run_id from {RUNS_TABLE}") == [(first.run_id,)]
    assert not query(tmp_path, "select * from information_schema.tables where table_name = 'adverse_events'")


def test_report_files_are_published_with_the_commit_and_dropped_with_a_rollback(tmp_path):
    reports = tmp_path / "reports"
    assert dg.materialize(hooked(flow, with_file), resources=build_resources(tmp_path)).success
    assert (reports / "figures" / "stand_in.png").read_bytes() == b"png bytes"
    (reports / "figures" / "stand_in.png").write_bytes(b"published")
    FLOW_N["value"] = 2
    assert not dg.materialize(hooked(flow, with_file), resources=build_resources(tmp_path), raise_on_error=False).success
    assert (reports / "figures" / "stand_in.png").read_bytes() == b"published"
    assert list((tmp_path / store.STAGING).iterdir()) == []


def test_a_column_the_contract_lacks_fails_the_step_naming_table_and_column(tmp_path):
    @dg.asset(name="participant_flow")
    def flow_with_note() -> pd.DataFrame:
        return pd.DataFrame({"stage": ["enrolled"], "arm": ["total"], "n": [3], "note": ["x"]})

    result = dg.materialize(hooked(flow_with_note), resources=build_resources(tmp_path), raise_on_error=False)
    [(step, error)] = step_failures(result)
    assert step == "participant_flow"
    assert "warehouse table 'participant_flow' has column 'note', which its contract" in error
    assert "mglt_pipeline/warehouse/derived_tables.py" in error


def test_a_committed_run_killed_before_publishing_is_finished_by_the_next(tmp_path):
    reports = tmp_path / "reports"
    connection = duckdb.connect(str(tmp_path / WAREHOUSE_FILE))
    for statement in store.BOOKKEEPING_SQL:
        connection.execute(statement)
    connection.execute(f"insert into {RUNS_TABLE} values ('committed', now(), 'x', 'reports/trial_report.html')")
    connection.close()
    for run_id in ("committed", "never_committed"):
        (store.staging_dir(tmp_path, run_id) / "reports").mkdir(parents=True)
        (store.staging_dir(tmp_path, run_id) / "reports" / "trial_report.html").write_text(run_id)
    run = store.WarehouseRun(tmp_path / WAREHOUSE_FILE, tmp_path, "next")
    assert run.recovered == {"committed": ["reports/trial_report.html"]}
    assert run.finish(commit=True) == "run next wrote nothing"
    assert (reports / "trial_report.html").read_text() == "committed"
    assert not (tmp_path / store.STAGING / "never_committed").exists()
