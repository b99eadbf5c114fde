"""Every warehouse table's contract, by table name, and the check the IO manager runs on a write.

Adding a table or a column is one entry in ``clean_tables.py`` or ``derived_tables.py``; the IO
manager refuses a table whose columns differ from its contract, naming the table and the column,
and ``docs/TABLES.md`` is regenerated from the contracts (``python -m mglt_pipeline.warehouse.docs``).
"""
from __future__ import annotations

import duckdb
import pandas as pd
import pandera.pandas as pa

from mglt_pipeline.warehouse import clean_tables, deliverable_tables, derived_tables
from mglt_pipeline.warehouse.contract import TableContract, column

RUNS_TABLE = "warehouse_runs"
TABLES_TABLE = "warehouse_tables"
BOOKKEEPING = (
    TableContract(
        RUNS_TABLE, "warehouse",
        "Every run that committed to the warehouse. A run's tables and report files are committed "
        "together when the run succeeds; a run that failed or was killed leaves no trace here or in "
        "any table.",
        (column("run_id", "text", "Dagster run id.", required=True),
         column("committed_at", "timestamp", "When the run's writes were committed (UTC).", required=True),
         column("tables", "text", "The tables the run wrote, comma separated."),
         column("files", "text", "The output files the run wrote (relative to the data root), comma separated.")),
        key=("run_id",)),
    TableContract(
        TABLES_TABLE, "warehouse",
        "Every table of the warehouse stamped with the run that wrote it.",
        (column("table_name", "text", "The table.", required=True),
         column("run_id", "text", "The run that wrote it.", required=True),
         column("committed_at", "timestamp", "When that run committed (UTC).", required=True),
         column("row_count", "integer", "Rows written.", required=True, ge=0)),
        key=("table_name",)),
)
CONTRACT_MODULES = {clean_tables: "mglt_pipeline/warehouse/clean_tables.py",
                    derived_tables: "mglt_pipeline/warehouse/derived_tables.py",
                    deliverable_tables: "mglt_pipeline/warehouse/deliverable_tables.py"}
CONTRACTS: tuple[TableContract, ...] = (*clean_tables.CONTRACTS, *derived_tables.CONTRACTS,
                                        *deliverable_tables.CONTRACTS, *BOOKKEEPING)
_BY_TABLE = {name: contract for contract in CONTRACTS for name in contract.table_names}
_WHERE = {id(contract): path for module, path in CONTRACT_MODULES.items() for contract in module.CONTRACTS}


class TableContractError(ValueError):
    """A table that does not match its contract (or has none); the message names table and columns."""


def contract_for(table: str) -> TableContract:
    """The contract of warehouse table ``table``."""
    try:
        return _BY_TABLE[table]
    except KeyError:
        raise TableContractError(
            f"warehouse table {table!r} has no contract: add one to {' or '.join(CONTRACT_MODULES.values())} "
            "(and regenerate docs/TABLES.md)") from None


def column_differences(table: str, frame: pd.DataFrame) -> list[str]:
    """Sentences naming each column of ``frame`` its contract lacks and each contract column it lacks."""
    contract = contract_for(table)
    where = _WHERE.get(id(contract), "its module")
    extra = [c for c in frame.columns if c not in contract.column_names]
    missing = [c for c in contract.column_names if c not in frame.columns]
    return ([f"warehouse table {table!r} has column {c!r}, which its contract {contract.name!r} lacks "
             f"(add it in {where})" for c in extra]
            + [f"warehouse table {table!r} lacks column {c!r} of its contract {contract.name!r} ({where})"
               for c in missing])


def _failures(table: str, frame: pd.DataFrame, errors: pa.errors.SchemaErrors, limit: int = 10) -> list[str]:
    lines = []
    for (col, check), group in errors.failure_cases.groupby(["column", "check"], sort=False, dropna=False):
        if str(check).startswith("must be of type"):
            lines.append(f"warehouse table {table!r}, column {col!r}: stored as {frame[col].dtype}, {check}")
            continue
        examples = ", ".join(map(repr, group["failure_case"].head(3).tolist()))
        lines.append(f"warehouse table {table!r}, column {col!r}: {check} fails for {len(group)} value(s), "
                     f"e.g. {examples}")
    return lines[:limit]


def duplicated_keys(table: str, frame: pd.DataFrame) -> list[str]:
    """A sentence naming the repeated keys of ``frame``, if its contract has a key and it repeats.
    Counted by DuckDB over the frame (out of core), not by pandas: the largest tables have tens of
    millions of rows at 100k participants."""
    key = contract_for(table).key
    if not key or frame.empty:
        return []
    columns = ", ".join(f'"{k}"' for k in key)
    with duckdb.connect() as connection:
        connection.register("frame", frame)
        complete = " and ".join(f'"{k}" is not null' for k in key)  # a null is no key value (an Oura
        # record of the account export has no id): uniqueness is of the keys that are there
        repeated = connection.execute(f"select {columns}, count(*) as n from frame where {complete} "
                                      f"group by {columns} having count(*) > 1 order by n desc").df()
    if repeated.empty:
        return []
    examples = repeated.head(3).drop(columns="n").to_dict("records")
    return [f"warehouse table {table!r}: key ({', '.join(key)}) repeats in {int(repeated['n'].sum())} rows, "
            f"e.g. {examples}"]


def check_table(table: str, frame: pd.DataFrame) -> None:
    """Raise ``TableContractError`` unless ``frame`` matches the contract of ``table``: exactly its
    columns, each of its type, nulls only where allowed, its rules, and its key unique."""
    problems = column_differences(table, frame)
    if not problems:
        try:
            contract_for(table).schema.validate(frame, lazy=True, inplace=True)
        except pa.errors.SchemaErrors as errors:
            problems = _failures(table, frame, errors)
        problems += duplicated_keys(table, frame)
    if problems:
        raise TableContractError("\n".join(problems))
