"""Where the pipeline reads and writes: the data root and the warehouse, configured once.

The data root (``mglt_pipeline.paths``) holds ``raw/`` (read-only to the pipeline), ``warehouse.duckdb``
and ``reports/`` (DATA_CONTRACT.md). It is ``$MGLT_DATA_DIR`` when set, else the repository's ``data/``.

``WarehouseIOManager`` stores every DataFrame asset as a DuckDB table of the same name, checked
against its contract (``warehouse.tables``), with one connection and one transaction per run: the
run's tables and report files are committed together when it succeeds and rolled back when a step
fails, the run is terminated or the process is killed (``warehouse.store``). It is built on Dagster's
public ``ConfigurableIOManager`` and opens the file through dagster-duckdb's ``DuckDBResource``.
"""
from __future__ import annotations

import os
from contextlib import ExitStack
from pathlib import Path

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from mglt_pipeline.paths import REPORTS_DIR, WAREHOUSE_FILE, default_data_root
from mglt_pipeline.warehouse import lock
from mglt_pipeline.warehouse.store import WarehouseRun, mark_whole_directory, staging_dir
from mglt_pipeline.warehouse.tables import check_table, contract_for

__all__ = ["DataRoot", "WarehouseIOManager", "build_resources", "default_data_root", "REPORTS_DIR",
           "WAREHOUSE_FILE", "roll_back_failed_runs"]
LOCK_WAIT_SECONDS = 1800.0
"""How long a run launched by the daemon or the UI waits for another run on the same data root."""


class DataRoot(dg.ConfigurableResource):
    """The trial's data root: raw inputs under ``raw/``, outputs beside them.

    In a run of the warehouse IO manager, report files are written aside (``output_path``) and
    published when the run commits; ``current_path`` finds the copy this run wrote, else the published
    one."""

    path: str
    _run_id: str | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._run_id = context.run.run_id if context.run is not None else None

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

    def output_path(self, relative: str, whole_directory: bool = False, under: str = REPORTS_DIR) -> Path:
        """Where this run writes ``<under>/<relative>`` (``reports/`` by default; ``relative`` may be
        empty for the folder itself): aside, in the run's staging folder, when the warehouse IO manager
        opened one (the file is published when the run commits), else in place. With
        ``whole_directory``, the folder replaces the published folder whole."""
        target = f"{under}/{relative}".rstrip("/")
        folder = staging_dir(self.root, self._run_id) if self._run_id is not None else None
        if folder is None or not folder.is_dir():
            return self.root / target
        if whole_directory:
            mark_whole_directory(folder, target)
        return folder / target

    def current_path(self, relative: str, under: str = REPORTS_DIR) -> Path:
        """``<under>/<relative>`` as this run sees it: its own copy if it wrote one, else the published."""
        target = f"{under}/{relative}".rstrip("/")
        if self._run_id is not None and (staging_dir(self.root, self._run_id) / target).exists():
            return staging_dir(self.root, self._run_id) / target
        return self.root / target

    def write_report_file(self, relative: str, data: bytes | str) -> Path:
        """Write ``reports/<relative>`` for this run, whole or not at all (a rename), aside until the
        run commits; returns where it was written."""
        path = self.output_path(relative)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".part")
        partial.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(partial, path)
        return path

    def read_report_file(self, relative: str) -> bytes:
        """The bytes of ``reports/<relative>`` as this run sees it; a clear error when it is missing."""
        path = self.current_path(relative)
        if not path.is_file():
            raise FileNotFoundError(f"reports/{relative} does not exist under {self.root}: materialize the "
                                    "asset that writes it first")
        return path.read_bytes()


class WarehouseIOManager(dg.ConfigurableIOManager):
    """Every DataFrame asset as the DuckDB table of its name, checked against its contract on the way
    in; one connection and one transaction per run, committed only when every step succeeded."""

    root: str
    warehouse: DuckDBResource
    lock_wait_seconds: float = LOCK_WAIT_SECONDS
    _run: WarehouseRun | None = PrivateAttr(default=None)
    _connection: ExitStack | None = PrivateAttr(default=None)
    _failed_steps: list[str] = PrivateAttr(default_factory=list)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        run_id = context.run.run_id
        lock.acquire(self.root, run_id, wait_seconds=self.lock_wait_seconds)
        self._failed_steps = []
        try:
            root = Path(self.root)
            self._connection = ExitStack()
            connection = self._connection.enter_context(self.warehouse.get_connection())
            self._run = WarehouseRun(root / WAREHOUSE_FILE, root, run_id, connection)
        except BaseException:
            if self._connection is not None:
                self._connection.close()
            lock.release(self.root)
            raise
        for run_id, files in self._run.recovered.items():
            context.log.warning(f"published {len(files)} output files of run {run_id}, committed before it was killed")

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._run is None:
            return
        try:
            run = context.instance.get_run_by_id(context.run.run_id) if context.instance else None
            stopping = run is not None and run.status in (dg.DagsterRunStatus.CANCELING, dg.DagsterRunStatus.CANCELED)
            outcome = self._run.finish(commit=not self._failed_steps and not stopping)
            (context.log.info if not self._failed_steps else context.log.error)(
                outcome + (f" (failed: {', '.join(self._failed_steps)})" if self._failed_steps else ""))
        finally:
            self._run = None
            if self._connection is not None:
                self._connection.close()
            lock.release(self.root)

    def record_failure(self, step_key: str) -> None:
        """A step of the run failed: the run's writes will be rolled back (``roll_back_failed_runs``)."""
        self._failed_steps.append(step_key)

    def handle_output(self, context: dg.OutputContext, obj: pd.DataFrame) -> None:
        table = context.asset_key.path[-1]
        check_table(table, obj)
        self._run.write(table, obj)
        columns = {c.name: c for c in contract_for(table).columns}
        context.add_output_metadata({
            "dagster/row_count": len(obj),
            "dagster/column_schema": dg.TableSchema(columns=[
                dg.TableColumn(name=str(name), type=columns[name].type, description=columns[name].description)
                for name in obj.columns]),
        })

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        return self._run.read(context.asset_key.path[-1])


@dg.failure_hook(required_resource_keys={"io_manager"})
def roll_back_failed_runs(context: dg.HookContext) -> None:
    """Any failed step (an error, a failed blocking check) rolls the whole run's writes back."""
    record = getattr(context.resources.io_manager, "record_failure", None)
    if record is not None:
        record(context.step_key)


def build_resources(data_root: Path | str) -> dict[str, object]:
    """The resources of one data root: the root itself and the warehouse IO manager, which opens the
    DuckDB file through dagster-duckdb's ``DuckDBResource``."""
    root = Path(data_root).resolve()
    warehouse = DuckDBResource(database=str(root / WAREHOUSE_FILE))
    return {"data_root": DataRoot(path=str(root)), "io_manager": WarehouseIOManager(root=str(root), warehouse=warehouse)}
