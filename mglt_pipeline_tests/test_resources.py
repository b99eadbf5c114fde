"""The warehouse IO manager: one DuckDB connection per run, closed when the run ends, failed or not.

``resources.RunConnectionClient`` keeps one read-write connection for all the inputs and outputs of
a run. DuckDB allows a second connection to the same file in the same process only with the same
configuration, so opening the file read-only after a run fails exactly when the run's connection
was left open: that is how these tests see that it was closed.
"""
from __future__ import annotations

import dagster as dg
import duckdb
import pandas as pd
import pytest

from mglt_pipeline import resources
from mglt_pipeline.resources import WAREHOUSE_FILE, build_resources


@dg.asset
def first() -> pd.DataFrame:
    return pd.DataFrame({"x": [1, 2]})


@dg.asset
def second(first: pd.DataFrame) -> pd.DataFrame:
    return first.assign(y=first["x"] * 10)


@dg.asset
def broken(second: pd.DataFrame) -> pd.DataFrame:
    raise RuntimeError("a step that fails")


def table(root, name: str) -> pd.DataFrame:
    """A table of the warehouse, read-only (raises if the run's read-write connection is still open)."""
    with duckdb.connect(str(root / WAREHOUSE_FILE), read_only=True) as con:
        return con.sql(f"select * from main.{name}").df()


@pytest.fixture
def connections(monkeypatch) -> list[str]:
    """The databases the IO manager opened, one entry per ``duckdb.connect``."""
    opened, connect = [], duckdb.connect

    def counting_connect(database, *args, **kwargs):
        opened.append(str(database))
        return connect(database, *args, **kwargs)

    monkeypatch.setattr(resources.duckdb, "connect", counting_connect)
    return opened


def test_one_connection_serves_every_input_and_output_of_a_run(tmp_path, connections):
    result = dg.materialize([first, second], resources=build_resources(tmp_path))
    assert result.success
    assert connections == [str(tmp_path / WAREHOUSE_FILE)]
    assert table(tmp_path, "second")["y"].tolist() == [10, 20]


def test_the_connection_is_closed_when_a_step_fails(tmp_path, connections):
    result = dg.materialize([first, second, broken], resources=build_resources(tmp_path), raise_on_error=False)
    assert not result.success
    assert len(connections) == 1
    assert table(tmp_path, "first")["x"].tolist() == [1, 2]


def test_two_runs_on_two_roots_in_one_process_write_each_its_own_warehouse(tmp_path, connections):
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir(), two.mkdir()
    shared = build_resources(one)
    assert dg.materialize([first], resources=shared).success
    assert dg.materialize([first, second], resources=build_resources(two)).success
    assert dg.materialize([first, second], resources=shared).success  # the same resources again
    assert connections == [str(one / WAREHOUSE_FILE), str(two / WAREHOUSE_FILE), str(one / WAREHOUSE_FILE)]
    assert table(one, "second")["y"].tolist() == table(two, "second")["y"].tolist() == [10, 20]
