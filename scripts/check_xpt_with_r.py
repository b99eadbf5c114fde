"""Read the ADaM XPT files with R's ``haven::read_xpt`` and compare them with the warehouse (not CI).

    python scripts/check_xpt_with_r.py [DATA_ROOT]

For every dataset of ``mglt_pipeline.submission.metadata.DATASETS``, R reads
``<data root>/submission/<name>.xpt`` (haven, an implementation that shares nothing with pyreadstat's
writer) and hands back every value as text: numbers with 17 significant digits (exact for a double),
dates as ISO 8601, the dataset label and each variable's label. They are compared with the table of
the same name in ``warehouse.duckdb``: numbers bit for bit, text and dates as equal, missing with
missing. Needs ``Rscript`` with ``haven`` and ``jsonlite`` (Debian: r-cran-haven, r-cran-jsonlite).
Prints one line per dataset and exits 1 on any difference.
"""
from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mglt_pipeline.resources import WAREHOUSE_FILE, default_data_root  # noqa: E402
from mglt_pipeline.submission.metadata import DATASETS  # noqa: E402

R_PROGRAM = r"""
args <- commandArgs(trailingOnly = TRUE)
data <- haven::read_xpt(args[1])
as_text <- function(column) {
  if (inherits(column, "Date")) return(ifelse(is.na(column), NA, format(column, "%Y-%m-%d")))
  if (is.numeric(column)) return(ifelse(is.na(column), NA, sprintf("%.17g", column)))
  as.character(column)
}
out <- list(label = attr(data, "label"), names = names(data),
            labels = lapply(data, function(column) attr(column, "label")),
            values = lapply(data, as_text))
writeLines(jsonlite::toJSON(out, auto_unbox = TRUE, na = "null", null = "null", digits = NA), args[2])
"""


def read_with_r(xpt: Path) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        program, out = Path(folder) / "read.R", Path(folder) / "out.json"
        program.write_text(R_PROGRAM)
        subprocess.run(["Rscript", str(program), str(xpt), str(out)], check=True, capture_output=True, timeout=600)
        return json.loads(out.read_text())


def _same(ours, theirs: str | None, data_type: str) -> bool:
    missing = ours is None or (isinstance(ours, float) and math.isnan(ours)) or (ours is pd.NaT)
    if data_type == "text":
        return ("" if missing else str(ours)) == ("" if theirs is None else theirs)
    if missing or theirs is None:
        return missing and theirs is None
    if data_type == "date":
        return pd.Timestamp(ours).date().isoformat() == theirs
    return float(ours) == float(theirs)


def compare(root: Path) -> int:
    failures = 0
    with duckdb.connect(str(root / WAREHOUSE_FILE), read_only=True) as con:
        for spec in DATASETS:
            table = con.sql(f"select * from {spec.file_stem}").df()
            r = read_with_r(root / "submission" / f"{spec.file_stem}.xpt")
            problems = []
            if r["label"] != spec.label:
                problems.append(f"dataset label {r['label']!r}")
            if r["names"] != list(table.columns):
                problems.append(f"variables {r['names']} differ from the warehouse's {list(table.columns)}")
            cells = 0
            for variable in spec.variables:
                if r["labels"].get(variable.name) != variable.label:
                    problems.append(f"{variable.name}: label {r['labels'].get(variable.name)!r}")
                theirs = r["values"].get(variable.name) or []
                if len(theirs) != len(table):
                    problems.append(f"{variable.name}: {len(theirs)} values, warehouse {len(table)}")
                    continue
                bad = [i for i, (a, b) in enumerate(zip(table[variable.name], theirs))
                       if not _same(a, b, variable.data_type)]
                cells += len(theirs)
                problems += [f"{variable.name} record {i + 1}: warehouse {table[variable.name].iloc[i]!r}, "
                             f"R {theirs[i]!r}" for i in bad[:5]]
            failures += bool(problems)
            print(f"{spec.name}: {len(table)} records, {len(spec.variables)} variables, {cells} values compared: "
                  + ("equal" if not problems else f"{len(problems)} differences"))
            for problem in problems[:20]:
                print(f"  {problem}")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    root = Path(argv[0]).resolve() if argv else default_data_root()
    return compare(root)


if __name__ == "__main__":
    sys.exit(main())
