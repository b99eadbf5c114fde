"""docs/TABLES.md, generated from the warehouse contracts (``warehouse.tables.CONTRACTS``).

``python -m mglt_pipeline.warehouse.docs`` rewrites the file; ``--check`` exits 1 when the committed
file differs from what the contracts say (a test runs the same comparison).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mglt_pipeline.warehouse.contract import TYPES, TableContract
from mglt_pipeline.warehouse.tables import CONTRACTS

TABLES_MD = Path(__file__).resolve().parents[2] / "docs" / "TABLES.md"
SECTIONS = {
    "participants": "Clean tables (one asset group per source)", "randomization": None, "oura": None,
    "redcap": None, "diary": None,
    "data_quality": "Data quality (group `data_quality`, and one table of each kind per source group)",
    "scored": "Scored instruments (group `scored`)",
    "windows": "Windows (group `windows`)",
    "analysis": "Analysis (group `analysis`)",
    "adherence": "Adherence and missing data (group `adherence`)",
    "treatment_effects": "Treatment effects (group `treatment_effects`)",
    "submission": "Submission (group `submission`)",
    "pull": "API pulls (group `pull`)",
    "warehouse": "Warehouse bookkeeping (written by the IO manager, not by an asset)",
}
NOTES = {
    "submission": "CDISC ADaM datasets with the ADaMIG variable names and labels, also written as files under "
                  "`<data root>/submission/`: SAS transport v5 (`<name>.xpt`) and Dataset-JSON v1.1 "
                  "(`<name>.json`), described by `define.xml` (Define-XML 2.1). Character values are `\"\"` when "
                  "missing (SAS has no null text). The `rtf_tables` asset writes "
                  "`<data root>/reports/tables/*.rtf` and `consort_diagram` (group `report`) "
                  "`<data root>/reports/consort_diagram.svg`; they have no table.\n",
    "pull": "`redcap_pull` writes files under `raw/redcap/` only (no table).\n",
}
INTRO = """\
# Warehouse tables

<!-- Generated from mglt_pipeline/warehouse/*_tables.py by `python -m mglt_pipeline.warehouse.docs`;
do not edit by hand: edit the contract and regenerate. -->

Every table is written to `<data root>/warehouse.duckdb` (schema `main`) by the asset of the same
name, through the pipeline's IO manager, which checks it against the contract below on the way in: a
table with a column its contract lacks, a column of another type, a null where none is allowed, a
value outside its rule or a repeated key fails the step and names the table and the column. A
materialization replaces its table; a run's tables are committed together when the run succeeds
(`warehouse_runs`). Participants are known only by `participant_id`.

Types: {types}. "null: no" means the column never holds a null.
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def contract_markdown(contract: TableContract) -> str:
    """One table's section: heading, description, key and a row per column."""
    lines = [f"### {contract.name} (group `{contract.group}`)", "", contract.description, ""]
    if contract.key:
        lines += ["Key: " + ", ".join(f"`{k}`" for k in contract.key) + " (unique).", ""]
    lines += ["| column | type | null | rule | meaning |", "|---|---|---|---|---|"]
    lines += [f"| `{c.name}` | {c.type} | {'yes' if c.nullable else 'no'} | {_cell(c.rule)} | {_cell(c.description)} |"
              for c in contract.columns]
    return "\n".join(lines) + "\n"


def tables_markdown(contracts: tuple[TableContract, ...] = CONTRACTS) -> str:
    """The whole of docs/TABLES.md."""
    types = ", ".join(f"`{name}` ({storage})" for name, (_, storage) in TYPES.items())
    parts = [INTRO.format(types=types)]
    for group, title in SECTIONS.items():
        members = [c for c in contracts if c.group == group]
        if title:
            parts.append(f"## {title}\n")
        if group in NOTES:
            parts.append(NOTES[group])
        parts += [contract_markdown(c) for c in members]
    unplaced = [c.name for c in contracts if c.group not in SECTIONS]
    if unplaced:
        raise ValueError(f"contracts of a group docs.SECTIONS does not know: {unplaced}")
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/TABLES.md is not current")
    args = parser.parse_args(argv)
    text = tables_markdown()
    if args.check:
        current = TABLES_MD.read_text(encoding="utf-8") if TABLES_MD.exists() else ""
        if current != text:
            print(f"{TABLES_MD} is not current: run python -m mglt_pipeline.warehouse.docs", file=sys.stderr)
            return 1
        return 0
    TABLES_MD.write_text(text, encoding="utf-8")
    print(f"wrote {TABLES_MD}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
