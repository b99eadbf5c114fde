"""How the report writes numbers: one rule per kind of number, used by every table of the report.

- estimates, confidence limits, means and Hedges' g: 2 decimals;
- p-values: 3 decimals, and ``<0.001`` below 0.001 (the convention of most journals);
- a missing number: ``n/a``.
"""
from __future__ import annotations

import pandas as pd

MISSING = "n/a"


def is_missing(value: object) -> bool:
    """True for None, NaN and pandas' missing markers (``pd.NA``, ``NaT``); False for any non-scalar."""
    return bool(pd.api.types.is_scalar(value) and pd.isna(value))


def fmt_number(value: object, digits: int = 2) -> str:
    """``value`` with ``digits`` decimals (``-0.00`` written ``0.00``), or ``n/a``."""
    if is_missing(value):
        return MISSING
    text = f"{float(value):.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def fmt_p(value: object) -> str:
    """A p-value with 3 decimals, ``<0.001`` below 0.001, or ``n/a``."""
    if is_missing(value):
        return MISSING
    return "<0.001" if float(value) < 0.001 else f"{float(value):.3f}"


def fmt_ci(low: object, high: object, digits: int = 2) -> str:
    """A confidence interval as ``low to high`` (``to`` reads unambiguously with negative limits)."""
    if is_missing(low) or is_missing(high):
        return MISSING
    return f"{fmt_number(low, digits)} to {fmt_number(high, digits)}"


def fmt_count(value: object) -> str:
    """A count as a whole number, or ``n/a``."""
    return MISSING if is_missing(value) else str(int(value))


def fmt_flag(value: object) -> str:
    """A boolean as ``yes``/``no``, or ``n/a``."""
    return MISSING if is_missing(value) else ("yes" if bool(value) else "no")
