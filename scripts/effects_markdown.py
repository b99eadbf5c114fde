"""Print a trial's effects table as Markdown (the README shows the bundled trial's this way).

    python scripts/effects_markdown.py DATA_ROOT > table.md

Numbers are written as the trial report writes them (``mglt_pipeline.report.formatting``).
Reads ``treatment_effects`` from ``DATA_ROOT/warehouse.duckdb``; one row per outcome in registry
order: estimate (active minus placebo at week_3) with 95% CI, df (Satterthwaite; ``n/a`` under the
normal approximation), raw and Benjamini-Hochberg p, Hedges' g, and whether the outcome improved;
for a simulated trial (``DATA_ROOT/truth.json`` present) also the planted week_3 effect.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb

from mglt_pipeline.registry import OUTCOMES_BY_ID
from mglt_pipeline.report.formatting import fmt_ci, fmt_number, fmt_p


def effects_markdown(data_root: Path) -> str:
    with duckdb.connect(str(data_root / "warehouse.duckdb"), read_only=True) as con:
        table = con.execute("select * from main.treatment_effects").fetchdf()
    truth_file = data_root / "truth.json"
    planted = json.loads(truth_file.read_text())["effects"]["week_3"] if truth_file.exists() else None
    head = "| outcome | family | better | estimate (95% CI) | df | p | p (BH) | Hedges' g | improved |"
    lines = [head + (" planted |" if planted else ""), "|---" * (9 + bool(planted)) + "|"]
    for row in table.itertuples():
        label = OUTCOMES_BY_ID[row.outcome].label
        if not row.converged:
            line = f"| {label} | {row.family} | {row.better} | {row.message} | | | | | |"
        else:
            line = (f"| {label} | {row.family} | {row.better} | {fmt_number(row.estimate)} "
                    f"({fmt_ci(row.ci_low, row.ci_high)}) | {fmt_number(row.df, 0)} | {fmt_p(row.p_value)} | "
                    f"{fmt_p(row.p_adj)} | {fmt_number(row.hedges_g)} | {'yes' if row.improved else 'no'} |")
        lines.append(line + (f" {planted[row.outcome]:g} |" if planted else ""))
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print(effects_markdown(Path(sys.argv[1])))
