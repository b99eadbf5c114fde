"""Where the pipeline reads and writes: the data root, configured once from the environment.

The data root holds ``raw/`` (read-only to the pipeline), ``warehouse.duckdb`` and ``reports/``
(DATA_CONTRACT.md). It is ``$MGLT_DATA_DIR`` when set, else the repository's ``data/``.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
from dagster._core.storage.db_io_manager import DbIOManager, DbTypeHandler, TableSlice
from dagster_duckdb import DuckDBIOManager
from dagster_duckdb.io_manager import DuckDbClient
from dagster_duckdb_pandas import DuckDBPandasTypeHandler
from pydantic import PrivateAttr

REPO_DATA_DIR = Path(__file__).resolve().parents[1] / "data"
WAREHOUSE_FILE = "warehouse.duckdb"
REPORTS_DIR = "reports"


def default_data_root() -> Path:
    """``$MGLT_DATA_DIR`` if set, else the repository's ``data/`` folder."""
    return Path(os.environ.get("MGLT_DATA_DIR") or REPO_DATA_DIR).resolve()


class DataRoot(dg.ConfigurableResource):
    """The trial's data root: raw inputs under ``raw/``, outputs beside them."""

    path: str

    @property
    def root(self) -> Path:
        return Path(self.path)

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    @property
    def warehouse(self) -> Path:
        return self.root / WAREHOUSE_FILE

    @property
    def reports(self) -> Path:
        return self.root / REPORTS_DIR

    def relative(self, path: Path) -> str:
        """A path as the quarantine and lineage columns show it: relative to the data root."""
        return Path(path).resolve().relative_to(self.root.resolve()).as_posix()


class ReplacingPandasTypeHandler(DuckDBPandasTypeHandler):
    """Stores a DataFrame as a table that replaces the previous one, even when it has no rows.

    dagster-duckdb-pandas skips empty frames (so an empty quarantine would never exist as a table)
    and inserts into an existing table by column position (so a changed column set would fail or
    misalign). A materialization must replace its table (STYLE.md: re-running is safe).
    """

    def handle_output(self, context: dg.OutputContext, table_slice: TableSlice, obj: pd.DataFrame, connection):
        if context.has_partition_key:
            return super().handle_output(context, table_slice, obj, connection)
        connection.register("_mglt_frame", obj)
        try:
            connection.execute(
                f"create or replace table {table_slice.schema}.{table_slice.table} as select * from _mglt_frame"
            )
        finally:
            connection.unregister("_mglt_frame")
        context.add_output_metadata({
            "dagster/row_count": len(obj),
            "dataframe_columns": dg.MetadataValue.table_schema(dg.TableSchema(
                columns=[dg.TableColumn(name=str(name), type=str(dtype)) for name, dtype in obj.dtypes.items()]
            )),
        })


class RunConnectionClient(DuckDbClient):
    """dagster-duckdb's client, holding one DuckDB connection for the whole run.

    The stock client opens and closes the database file for every input and output (about 10 ms
    each, several hundred times a run; seconds in all). The in-process executor runs every step in
    this process, one after another, so one connection serves them all; it is closed when the run's
    resources are torn down. There is no ``DELETE FROM`` before a whole-table write either: the
    table is replaced right after.
    """

    def __init__(self, database: str, config: dict) -> None:
        self._database, self._config, self._connection = database, config, None

    @contextmanager
    def connect(self, context, table_slice):
        if self._connection is None:
            self._connection = duckdb.connect(self._database, read_only=False, config=self._config)
        cursor = self._connection.cursor()
        try:
            yield cursor
        finally:
            cursor.close()

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    @staticmethod
    def delete_table_slice(context: dg.OutputContext, table_slice: TableSlice, connection) -> None:
        if table_slice.partition_dimensions:
            DuckDbClient.delete_table_slice(context, table_slice, connection)


class WarehouseIOManager(DuckDBIOManager):
    """dagster-duckdb's IO manager for pandas DataFrames: tables replaced on every write, one
    connection per run."""

    _client: RunConnectionClient | None = PrivateAttr(default=None)

    def create_io_manager(self, context) -> DbIOManager:
        self._client = RunConnectionClient(self.database, dict(self.connection_config))
        return DbIOManager(db_client=self._client, database=self.database, schema=self.schema_,
                           type_handlers=self.type_handlers(), default_load_type=self.default_load_type(),
                           io_manager_name="WarehouseIOManager")

    def teardown_after_execution(self, context) -> None:
        if self._client is not None:
            self._client.close()

    @staticmethod
    def type_handlers() -> list[DbTypeHandler]:
        return [ReplacingPandasTypeHandler()]

    @staticmethod
    def default_load_type() -> type:
        return pd.DataFrame


def build_resources(data_root: Path | str) -> dict[str, object]:
    """The resources of one data root: the root itself and the DuckDB IO manager on its warehouse."""
    root = Path(data_root).resolve()
    return {
        "data_root": DataRoot(path=str(root)),
        "io_manager": WarehouseIOManager(database=str(root / WAREHOUSE_FILE), schema="main"),
    }
