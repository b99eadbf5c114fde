"""Are two warehouses the same tables? Used to show that a speed-up changed no output.

Compares every table of the first DuckDB file with the table of the same name in the second: same
names, same columns and dtypes, same rows in the same order, numbers equal to a relative and absolute
tolerance of 1e-12 (the same pipeline on the same raw data must give the same numbers).

    python benchmarks/compare_warehouses.py before.duckdb after.duckdb
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


def differences(before: dict[str, pd.DataFrame], after: dict[str, pd.DataFrame]) -> list[str]:
    """One line per table that is missing, added or different."""
    lines = [f"{name}: only in the first" for name in sorted(set(before) - set(after))]
    lines += [f"{name}: only in the second" for name in sorted(set(after) - set(before))]
    for name in sorted(set(before) & set(after)):
        try:
            pd.testing.assert_frame_equal(before[name], after[name], check_exact=False,
                                          rtol=TOLERANCE, atol=TOLERANCE)
        except AssertionError as error:
            lines.append(f"{name}: {str(error).splitlines()[0]} ...")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("first")
    parser.add_argument("second")
    args = parser.parse_args(argv)
    before, after = read_tables(args.first), read_tables(args.second)
    lines = differences(before, after)
    print("\n".join(lines) if lines else f"{len(before)} tables, all equal to {TOLERANCE:g}")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main())
