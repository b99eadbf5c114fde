"""What a reader of a data root gets after any run, finished, failed or killed: whole runs only.

The rule (issue 10 item 7): every table of the warehouse is the table a committed run wrote (its
stamp in ``warehouse_tables`` names a run of ``warehouse_runs`` and its row count is the one written),
and the published report is the one of the last committed run that wrote a report; a report of a
committed run not yet moved into place (the run was killed between its commit and the move, which
the next run finishes) is reported as pending, not as a mix.

``python -m mglt_pipeline.warehouse.consistency DATA_ROOT`` prints the problems (exit 1) or what the
data root holds (exit 0). It only reads.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from mglt_pipeline.paths import REPORT_FILE, REPORTS_DIR, WAREHOUSE_FILE
from mglt_pipeline.warehouse.store import staging_dir
from mglt_pipeline.warehouse.tables import RUNS_TABLE, TABLES_TABLE


@dataclass
class DataRootState:
    """The committed runs, the run of each table, the report's run, and what is wrong."""

    runs: list[str] = field(default_factory=list)
    table_runs: dict[str, str] = field(default_factory=dict)
    report_run: str | None = None
    pending_report: bool = False
    problems: list[str] = field(default_factory=list)


def _report_problems(root: Path, state: DataRootState, runs_with_report: list[str]) -> None:
    report = root / REPORTS_DIR / REPORT_FILE
    expected = runs_with_report[-1] if runs_with_report else None
    if not report.exists():
        if expected is not None:
            state.problems.append(f"run {expected} committed a report, but there is none")
        return
    html = report.read_text(encoding="utf-8", errors="replace")
    state.report_run = next((r for r in reversed(runs_with_report) if r in html), None)
    if expected is None:
        state.problems.append("a report is published, but no committed run wrote one")
    elif state.report_run != expected:
        state.pending_report = (staging_dir(root, expected) / REPORTS_DIR / REPORT_FILE).exists()
        if not state.pending_report:
            state.problems.append(f"the report is not the one of run {expected}, the last that committed one")


def data_root_state(root: Path | str) -> DataRootState:
    """What the data root holds, read-only, and every departure from the rule above."""
    root, state = Path(root), DataRootState()
    if not (root / WAREHOUSE_FILE).exists():
        if (root / REPORTS_DIR / REPORT_FILE).exists():
            state.problems.append("a report is published without a warehouse")
        return state
    with duckdb.connect(str(root / WAREHOUSE_FILE), read_only=True) as con:
        tables = {r[0] for r in con.execute("select table_name from information_schema.tables "
                                            "where table_schema = 'main'").fetchall()}
        data = sorted(tables - {RUNS_TABLE, TABLES_TABLE})
        if RUNS_TABLE not in tables:
            state.problems += [f"table {t} is not stamped by any run" for t in data]
            return state
        runs = con.execute(f"select run_id, files from {RUNS_TABLE} order by committed_at").fetchall()
        stamps = {t: (r, n) for t, r, n in con.execute(f"select table_name, run_id, row_count from {TABLES_TABLE}").fetchall()}
        state.runs = [r for r, _ in runs]
        for table in data:
            if table not in stamps or stamps[table][0] not in state.runs:
                state.problems.append(f"table {table} was not written by a committed run")
                continue
            count = con.execute(f'select count(*) from main."{table}"').fetchone()[0]
            if count != stamps[table][1]:
                state.problems.append(f"table {table} has {count} rows; run {stamps[table][0]} wrote {stamps[table][1]}")
            state.table_runs[table] = stamps[table][0]
        state.problems += [f"table {t} is stamped but missing" for t in sorted(set(stamps) - set(data))]
    _report_problems(root, state, [r for r, files in runs if f"{REPORTS_DIR}/{REPORT_FILE}" in (files or "").split(",")])
    return state


def main(argv: list[str] | None = None) -> int:
    root = Path((argv or sys.argv[1:] or ["."])[0])
    state = data_root_state(root)
    for problem in state.problems:
        print(f"problem: {problem}")
    if state.problems:
        return 1
    held = sorted(set(state.table_runs.values()))
    print(f"consistent: {len(state.table_runs)} tables of run(s) {', '.join(held) or '-'}; report of run "
          f"{state.report_run or '-'}" + (" (the last committed report is pending publication)" if state.pending_report else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
