"""Multiplicity (SAP "Multiplicity"): Benjamini-Hochberg within each family at q = 0.05.

An outcome counts as improved when its BH-adjusted p is below 0.05 and its estimate points the
better way. Outcomes without a p-value (model not fitted) are not counted among the family's tests.
The adjustment is statsmodels' ``multipletests(method="fdr_bh")``: min over k >= i of m p_(k) / k,
capped at 1.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests

Q = 0.05


def benjamini_hochberg(p_values) -> np.ndarray:
    """BH adjusted p in the input order; NaN (not tested) stays NaN and is not counted in m."""
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full(p.shape, np.nan)
    tested = ~np.isnan(p)
    if tested.any():
        adjusted[tested] = multipletests(p[tested], alpha=Q, method="fdr_bh")[1]
    return adjusted


def adjust_within_families(table: pd.DataFrame) -> pd.Series:
    """``p_adj`` of each row: BH over the rows of its ``family``."""
    return table.groupby("family", sort=False)["p_value"].transform(lambda p: benjamini_hochberg(p.to_numpy()))


def improved(p_adj: pd.Series, estimate: pd.Series, direction: pd.Series) -> pd.Series:
    """p_adj < q and sign(estimate) equal to the outcome's better direction (+1 higher, -1 lower)."""
    return (p_adj < Q) & (np.sign(estimate) == direction)
