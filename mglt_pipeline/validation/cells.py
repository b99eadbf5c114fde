"""Cells to their column's type, one column at a time, each cell judged on its own.

DATA_CONTRACT.md: a number is a number written as one (in JSON a number or a numeric string);
``true``/``false``, ``NaN`` and ``Infinity`` are not numbers; a date is a real date written
``YYYY-MM-DD``; an empty cell (a JSON ``null``) is a missing value, not an error. A cell that cannot
take its type is reported by the caller under its field's rule and becomes missing; it never changes
how another cell of the column is read (no column is left as text because one cell is bad).
Every parser returns the typed column and a boolean mask of the cells that could not be typed.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa

DECIMAL_COMMA = "decimal_comma"
"""Field metadata key: the field may be written with a decimal comma (REDCap ``41,6``)."""
_DECIMAL_COMMA_TEXT = r"^\s*[+-]?\d+,\d+\s*$"
_ISO_DATE_TEXT = r"^\d{4}-\d{2}-\d{2}$"
_NO_TEXT = frozenset({"integer", "floating", "mixed-integer-float", "decimal", "boolean", "empty"})


def _text_kind(values: pd.Series) -> str | None:
    """What an object or string column holds (``pandas.api.types.infer_dtype``, nulls skipped),
    worked out once per column and shared by the parsers; None for any other dtype."""
    if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
        return pd.api.types.infer_dtype(values, skipna=True)
    return None


def is_missing(values: pd.Series, kind: str | None = None) -> np.ndarray:
    """Cells that hold no value: null, NaN or the empty string (``kind``: ``_text_kind(values)``
    when the caller has it)."""
    missing = values.isna().to_numpy(dtype=bool)
    if kind is None:
        kind = _text_kind(values)
    if kind is not None and kind not in _NO_TEXT:  # no empty string without text
        missing = missing | (values.astype(object) == "").to_numpy(dtype=bool)
    return missing


def _is_bool(values: pd.Series, kind: str | None) -> np.ndarray:
    """Cells holding a JSON/Python boolean (``True`` would otherwise pass as the number 1)."""
    if values.dtype == bool:
        return np.ones(len(values), dtype=bool)
    if values.dtype != object or kind in ("string", "integer", "floating", "mixed-integer-float", "decimal", "empty"):
        return np.zeros(len(values), dtype=bool)  # one pass in C: most columns hold no boolean
    return values.map(lambda v: isinstance(v, (bool, np.bool_))).to_numpy(dtype=bool)


_NUMBERS_ONLY = frozenset({"integer", "floating", "mixed-integer-float", "empty"})
"""Kinds of an object column that holds numbers and nulls only (no text, no boolean): JSON numbers."""


def parse_numbers(values: pd.Series, decimal_comma: bool = False) -> tuple[pd.Series, np.ndarray]:
    """Finite numbers as float64; booleans, ``NaN``, ``Infinity`` and text are not numbers."""
    kind = _text_kind(values)
    missing = is_missing(values, kind)
    if values.dtype == object and kind in _NUMBERS_ONLY:  # JSON numbers: nothing to unwrite
        text = values.to_numpy(dtype=object, copy=True)
        text[missing] = None
        numbers = pd.to_numeric(text, errors="coerce").astype(float)
        bad = ~missing & ~np.isfinite(numbers)
        return pd.Series(np.where(bad, np.nan, numbers), index=values.index), bad
    text = values.astype(object).where(~missing, None)
    if decimal_comma:
        as_text = text.astype("string")
        comma = as_text.str.match(_DECIMAL_COMMA_TEXT).fillna(False).to_numpy(dtype=bool)
        if comma.any():
            text = text.copy()
            text[comma] = as_text[comma].str.replace(",", ".", regex=False).to_numpy(dtype=object)
    booleans = _is_bool(values, kind)
    numbers = pd.to_numeric(text.where(~booleans, None), errors="coerce").astype(float)
    finite = np.isfinite(numbers.to_numpy())
    bad = ~missing & (booleans | ~finite)
    return pd.Series(np.where(finite & ~bad, numbers.to_numpy(), np.nan), index=values.index), bad


def parse_integers(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Whole numbers (``41`` or ``41.0``) as nullable Int64; ``41.5`` is not a whole number."""
    numbers, bad = parse_numbers(values)
    fraction = numbers.notna().to_numpy() & (numbers.fillna(0).to_numpy() % 1 != 0)
    bad = bad | fraction
    whole = numbers.where(~fraction)
    return whole.round().astype("Int64"), bad


def parse_dates(values: pd.Series, date_format: str | None) -> tuple[pd.Series, np.ndarray]:
    """Real calendar dates in ``date_format`` (ISO ``YYYY-MM-DD`` when that is the format)."""
    missing = is_missing(values)
    text = values.astype(object).where(~missing, None)
    try:
        dates = pd.to_datetime(text, format=date_format, errors="coerce")
    except TypeError:  # a JSON array or object in the cell: no date, and pandas cannot even hash it
        scalar = text.map(lambda v: not isinstance(v, (list, dict)))
        dates = pd.to_datetime(text.where(scalar, None), format=date_format, errors="coerce")
    shaped = np.ones(len(values), dtype=bool)
    if date_format == "%Y-%m-%d":
        shaped = text.astype("string").str.match(_ISO_DATE_TEXT).fillna(False).to_numpy(dtype=bool)
    good = dates.notna().to_numpy() & shaped
    bad = ~missing & ~good
    return dates.where(good).astype("datetime64[ns]"), bad


def parse_text(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Text as read (a JSON number or boolean as its JSON spelling); empty cells missing."""
    kind = _text_kind(values)
    missing = is_missing(values, kind)
    if kind in ("string", "empty"):  # text already: only the empty cells change
        text = values.to_numpy(dtype=object, copy=True)
        text[missing] = None
        return pd.Series(text, index=values.index, dtype=object, name=values.name), np.zeros(len(values), dtype=bool)
    text = values.astype(object)
    if pd.api.types.infer_dtype(text, skipna=True) not in ("string", "empty"):
        text = text.map(cell_text, na_action="ignore")  # JSON numbers and booleans as their JSON text
    return text.where(~missing, None).astype(object), np.zeros(len(values), dtype=bool)


def cell_text(value: object) -> str | None:
    """A cell as the data manager would have read it: text, whole floats without ``.0``, JSON
    booleans as ``true``/``false``."""
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, str):
        return value or None
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, pd.Timestamp) and value == value.normalize():
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parse_column(values: pd.Series, column: pa.Column) -> tuple[pd.Series, np.ndarray]:
    """``values`` in the type of the schema ``column``, and the cells that cannot take it."""
    dtype = column.dtype
    kind = str(dtype)
    metadata = column.metadata or {}
    if kind.startswith("float"):
        return parse_numbers(values, decimal_comma=bool(metadata.get(DECIMAL_COMMA)))
    if kind in ("int64", "Int64", "int32", "Int32"):
        return parse_integers(values)
    if kind.startswith("datetime64"):
        kwargs = getattr(dtype, "to_datetime_kwargs", None) or {}
        return parse_dates(values, kwargs.get("format"))
    if kind in ("str", "string", "object"):
        return parse_text(values)
    raise TypeError(f"no cell parser for the column type {kind}")
