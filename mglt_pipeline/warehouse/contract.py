"""Table contracts of the warehouse: columns, types, keys and meanings, as pandera schemas.

A contract is the one statement of a warehouse table: the IO manager checks every table against
it on the way in (``warehouse.tables.check_table``) and ``docs/TABLES.md`` is generated from it
(``warehouse.docs``). Types are the warehouse's logical types, whatever pandas storage the frame
uses: ``text`` (VARCHAR), ``integer`` (BIGINT), ``number`` (DOUBLE), ``boolean``, ``date`` (a
TIMESTAMP at midnight) and ``timestamp``. A column without any value passes its type: an empty
table has no types to show.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

import pandas as pd
import pandera.pandas as pa
from pandas.api import types


def _has_no_values(series: pd.Series) -> bool:
    return bool(series.isna().all())


def _is_text(series: pd.Series) -> bool:
    if isinstance(series.dtype, pd.StringDtype):
        return True
    return series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty")


def _is_integer(series: pd.Series) -> bool:
    return types.is_integer_dtype(series.dtype) and not types.is_bool_dtype(series.dtype)


def _is_number(series: pd.Series) -> bool:
    return types.is_float_dtype(series.dtype)


def _is_boolean(series: pd.Series) -> bool:
    return types.is_bool_dtype(series.dtype)


def _is_timestamp(series: pd.Series) -> bool:
    return types.is_datetime64_any_dtype(series.dtype)


def _is_date(series: pd.Series) -> bool:
    if not _is_timestamp(series):
        return False
    values = series.dropna()
    return bool((values == values.dt.normalize()).all())


def _is_sas_date(series: pd.Series) -> bool:
    """Dates as the ADaM frames hold them: ``datetime.date`` objects (or None), as SAS stores a date."""
    values = series.dropna()
    return series.dtype == object and all(type(v) is date for v in values)


TYPES = {
    "text": (_is_text, "VARCHAR"),
    "integer": (_is_integer, "BIGINT"),
    "number": (_is_number, "DOUBLE"),
    "boolean": (_is_boolean, "BOOLEAN"),
    "date": (_is_date, "TIMESTAMP (midnight)"),
    "timestamp": (_is_timestamp, "TIMESTAMP"),
    "sas_date": (_is_sas_date, "DATE"),
}
"""Logical type -> (test of a pandas column, the DuckDB type it is stored as)."""


def type_check(name: str) -> pa.Check:
    """A column-wide check that the column holds the logical type ``name`` (or no value at all)."""
    test, _ = TYPES[name]
    return pa.Check(lambda s: _has_no_values(s) or test(s), element_wise=False, name=f"is {name}",
                    error=f"must be of type {name}")


@dataclass(frozen=True)
class Column:
    """One column of a table: its name, logical type, meaning and rules."""

    name: str
    type: str
    description: str
    nullable: bool = True
    checks: tuple[pa.Check, ...] = ()
    rule: str = ""

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"column {self.name!r}: unknown type {self.type!r}; one of {sorted(TYPES)}")


def column(name: str, type: str, description: str, *, required: bool = False, isin=None,
           ge=None, le=None) -> Column:
    """A contract column. ``required``: never null. ``isin``/``ge``/``le``: the allowed values."""
    checks, rules = [], []
    if isin is not None:
        checks.append(pa.Check.isin(list(isin)))
        rules.append("one of " + ", ".join(map(str, isin)))
    if ge is not None:
        checks.append(pa.Check.ge(ge))
        rules.append(f">= {ge:g}")
    if le is not None:
        checks.append(pa.Check.le(le))
        rules.append(f"<= {le:g}")
    return Column(name, type, description, nullable=not required, checks=tuple(checks), rule="; ".join(rules))


@dataclass(frozen=True)
class TableContract:
    """The contract of one warehouse table (or of a family of tables of one shape, ``tables``)."""

    name: str
    group: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    tables: tuple[str, ...] = field(default=())

    @property
    def table_names(self) -> tuple[str, ...]:
        """The warehouse tables this contract governs."""
        return self.tables or (self.name,)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @cached_property
    def schema(self) -> pa.DataFrameSchema:
        """The pandera schema: every column with its type and rules, no other column (the key is
        checked apart, ``tables.duplicated_keys``: pandera's own check needs a unique index)."""
        return pa.DataFrameSchema(
            {c.name: pa.Column(None, checks=[type_check(c.type), *c.checks], nullable=c.nullable,
                               description=c.description, metadata={"type": c.type})
             for c in self.columns},
            strict=True, name=self.name, description=self.description)
