"""A run's writes, committed together: one DuckDB transaction and the run's output files.

Every table a run writes goes into one transaction on one connection; the run's steps read their
inputs through the same connection, so they see what the run wrote before. Output files (the HTML
report, figures, validation pages under ``reports/``, the ADaM files under ``submission/``) are written
aside, under ``<data root>/.staging/<run id>/`` at their path relative to the data root. When the
run succeeds, the transaction is committed with a row in ``warehouse_runs`` and a stamp per table in
``warehouse_tables``, then the staged files replace the published ones. A run that fails rolls back
and its staged files are removed; a run killed at any moment leaves an uncommitted transaction, which
DuckDB discards when the file is next opened. So a reader of the warehouse sees the tables of whole
runs only, and the report and figures of the run that committed them.

The one window between the database commit and the last file move (milliseconds) is closed by
``recover``: the next run on the data root first publishes the staged files of a committed run and
removes those of runs that never committed.
"""
from __future__ import annotations

import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pandas as pd

from mglt_pipeline.warehouse.tables import RUNS_TABLE, TABLES_TABLE

STAGING = ".staging"
WHOLE_DIRECTORIES = ".whole_directories"
"""File in a run's staging folder listing folders that replace their published copy whole."""
BOOKKEEPING_SQL = (
    f"create table if not exists {RUNS_TABLE} (run_id varchar primary key, committed_at timestamp not null, "
    "tables varchar, files varchar)",
    f"create table if not exists {TABLES_TABLE} (table_name varchar primary key, run_id varchar not null, "
    "committed_at timestamp not null, row_count bigint not null)",
)


def staging_dir(root: Path, run_id: str) -> Path:
    """Where run ``run_id`` writes its output files (at their path under the data root ``root``) until
    it commits."""
    return Path(root) / STAGING / run_id


def staged_files(folder: Path) -> list[str]:
    """The files staged in ``folder``, relative to it, in path order."""
    if not folder.is_dir():
        return []
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                  if p.is_file() and p.name != WHOLE_DIRECTORIES)


def mark_whole_directory(folder: Path, relative: str) -> None:
    """Record that the staged folder ``relative`` replaces its published copy whole when published."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / WHOLE_DIRECTORIES, "a", encoding="utf-8") as handle:
        handle.write(relative + "\n")


def publish(root: Path, run_id: str) -> list[str]:
    """Move run ``run_id``'s staged files into the data root ``root`` (each replacing its published copy
    with an atomic rename; a folder marked whole replaces the published folder); returns what moved."""
    folder = staging_dir(root, run_id)
    marker = folder / WHOLE_DIRECTORIES
    whole = marker.read_text(encoding="utf-8").split() if marker.exists() else []
    for relative in whole:
        if (folder / relative).is_dir():
            shutil.rmtree(Path(root) / relative, ignore_errors=True)
    moved = staged_files(folder)
    for relative in moved:
        target = Path(root) / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(folder / relative, target)
    shutil.rmtree(folder, ignore_errors=True)
    return moved


def committed_runs(connection: duckdb.DuckDBPyConnection) -> set[str]:
    return {row[0] for row in connection.execute(f"select run_id from {RUNS_TABLE}").fetchall()}


def recover(connection: duckdb.DuckDBPyConnection, root: Path) -> dict[str, list[str]]:
    """Finish what a killed run left: publish the staged files of committed runs, remove the others'.
    Call with the data root's lock held (``warehouse.lock``)."""
    done: dict[str, list[str]] = {}
    staging = Path(root) / STAGING
    if not staging.is_dir():
        return done
    committed = committed_runs(connection)
    for folder in sorted(p for p in staging.iterdir() if p.is_dir()):
        if folder.name in committed:
            done[folder.name] = publish(root, folder.name)
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return done


class WarehouseRun:
    """The warehouse as one run sees it: reads and writes in one transaction, committed or rolled
    back as a whole by ``finish``."""

    def __init__(self, database: Path, root: Path, run_id: str,
                 connection: duckdb.DuckDBPyConnection | None = None) -> None:
        self.database, self.root, self.run_id = Path(database), Path(root), run_id
        self.written: dict[str, int] = {}
        self.connection = connection if connection is not None else duckdb.connect(str(self.database))
        for statement in BOOKKEEPING_SQL:
            self.connection.execute(statement)
        self.recovered = recover(self.connection, self.root)
        staging_dir(self.root, run_id).mkdir(parents=True, exist_ok=True)
        self.connection.execute("begin transaction")

    def write(self, table: str, frame: pd.DataFrame) -> None:
        """Replace ``table`` with ``frame`` (also when it has no rows or other columns than before)."""
        self.connection.register("_mglt_frame", frame)
        try:
            self.connection.execute(f'create or replace table main."{table}" as select * from _mglt_frame')
        finally:
            self.connection.unregister("_mglt_frame")
        self.written[table] = len(frame)

    def read(self, table: str) -> pd.DataFrame:
        """``table`` as this run sees it: written earlier in the run, or as last committed."""
        return self.connection.execute(f'select * from main."{table}"').df()

    def finish(self, commit: bool) -> str:
        """Commit the run's tables and publish its files, or roll both back; close. Says which."""
        staged = staged_files(staging_dir(self.root, self.run_id))
        try:
            if commit and (self.written or staged):
                self._commit(staged)
                publish(self.root, self.run_id)
                return f"committed {len(self.written)} tables and {len(staged)} output files of run {self.run_id}"
            self.connection.execute("rollback")
            shutil.rmtree(staging_dir(self.root, self.run_id), ignore_errors=True)
            if not commit:
                return (f"rolled back run {self.run_id}: its {len(self.written)} tables and {len(staged)} report "
                        "files were not committed; the warehouse and reports are those of the last committed run")
            return f"run {self.run_id} wrote nothing"
        finally:
            self.connection.close()

    def _commit(self, files: list[str]) -> None:
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        for table, rows in self.written.items():
            self.connection.execute(f"delete from {TABLES_TABLE} where table_name = ?", [table])
            self.connection.execute(f"insert into {TABLES_TABLE} values (?, ?, ?, ?)", [table, self.run_id, now, rows])
        self.connection.execute(f"insert into {RUNS_TABLE} values (?, ?, ?, ?)",
                                [self.run_id, now, ",".join(sorted(self.written)), ",".join(files)])
        self.connection.execute("commit")
