"""Where the pipeline reads and writes: the data root, configured once from the environment.

The data root holds ``raw/`` (read-only to the pipeline), ``warehouse.duckdb`` and ``reports/``
(DATA_CONTRACT.md). It is ``$MGLT_DATA_DIR`` when set, else the repository's ``data/``.
"""
from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from dagster_duckdb_pandas import DuckDBPandasIOManager

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


def build_resources(data_root: Path | str) -> dict[str, object]:
    """The resources of one data root: the root itself and the DuckDB IO manager on its warehouse."""
    root = Path(data_root).resolve()
    return {
        "data_root": DataRoot(path=str(root)),
        "io_manager": DuckDBPandasIOManager(database=str(root / WAREHOUSE_FILE), schema="main"),
    }
