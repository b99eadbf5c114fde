"""Are two warehouses the same tables? Used to show that a speed-up changed no output.

Compares every table of the first DuckDB file with the table of the same name in the second: same
names, same columns and dtypes, same rows in the same order, numbers equal to a relative and absolute
tolerance of 1e-12 (the same pipeline on the same raw data must give the same numbers).

    python benchmarks/compare_warehouses.py before.duckdb after.duckdb [--added-columns]

``--added-columns``: a change that adds columns to a table (e.g. the MMRM's ``mmrm_*``) compares the
columns the first warehouse has, in its order, and lists the added ones; a removed column is a
difference.
"""
from __future__ import annotations

import argparse
import sys

import duckdb
import pandas as pd

TOLERANCE = 1e-12


def read_tables(path: str) -> dict[str, pd.DataFrame]:
    """Every table of the ``main`` schema of one warehouse file."""
    with duckdb.connect(path, read_only=True) as con:
        names = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'main' order by 1").fetchall()]
        return {name: con.execute(f'select * from main."{name}"').df() for name in names}


def differences(before: dict[str, pd.DataFrame], after: dict[str, pd.DataFrame],
                added_columns: bool = False) -> tuple[list[str], list[str]]:
    """One line per table that is missing, added or different; and one per table with added
    columns (allowed when ``added_columns``)."""
    lines = [f"{name}: only in the first" for name in sorted(set(before) - set(after))]
    lines += [f"{name}: only in the second" for name in sorted(set(after) - set(before))]
    added = []
    for name in sorted(set(before) & set(after)):
        second = after[name]
        new = [c for c in second.columns if c not in before[name].columns]
        if added_columns and new and set(before[name].columns) <= set(second.columns):
            added.append((name, ", ".join(new)))
            second = second[list(before[name].columns)]
        try:
            pd.testing.assert_frame_equal(before[name], second, check_exact=False,
                                          rtol=TOLERANCE, atol=TOLERANCE)
        except AssertionError as error:
            lines.append(f"{name}: {' '.join(str(error).split())[:300]} ...")
    by_columns: dict[str, list[str]] = {}
    for name, columns in added:
        by_columns.setdefault(columns, []).append(name)
    return lines, [f"{len(names)} table(s) ({', '.join(names[:3])}{', ...' if len(names) > 3 else ''}): "
                   f"added {columns}" for columns, names in by_columns.items()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("first")
    parser.add_argument("second")
    parser.add_argument("--added-columns", action="store_true", help="allow columns added in the second")
    args = parser.parse_args(argv)
    before, after = read_tables(args.first), read_tables(args.second)
    lines, added = differences(before, after, args.added_columns)
    print("\n".join(added))
    print("\n".join(lines) if lines else f"{len(before)} tables, all equal to {TOLERANCE:g}"
          + (" in the columns of the first" if added else ""))
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main())
