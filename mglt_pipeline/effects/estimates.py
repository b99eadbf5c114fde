"""A contrast's estimate with its t-based 95% CI and two-sided p, and the names of the df methods.

SAP "Degrees of freedom": the primary model's contrasts use Satterthwaite df, the MMRM's
Kenward-Roger df; without df (not computable) the normal approximation is used and named. An
estimate of a model that was not fitted names no method at all.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

DF_SATTERTHWAITE = "satterthwaite"
DF_KENWARD_ROGER = "kenward-roger"
DF_NORMAL = "normal"
"""``df_method`` values: Satterthwaite or Kenward-Roger t, or the normal approximation when no df is
available."""


@dataclass(frozen=True)
class Estimate:
    """A linear combination of the fixed effects with its t-based 95% CI and two-sided p."""

    estimate: float
    se: float
    df: float
    df_method: str | None
    ci_low: float
    ci_high: float
    p_value: float


NOT_ESTIMATED = Estimate(*(float("nan"),) * 3, None, *(float("nan"),) * 3)
"""The estimate of a model that was not fitted: no number and no df method."""


def t_estimate(estimate: float, se: float, df: float, method: str = DF_SATTERTHWAITE) -> Estimate:
    """CI and p from t with ``df`` (computed by ``method``); the normal approximation when df is not
    available (SAP "Degrees of freedom": the table says which, in ``df_method``)."""
    if np.isfinite(df) and df > 0:
        quantile = special.stdtrit(df, 0.975)
        p = 2.0 * special.stdtr(df, -abs(estimate / se)) if se > 0 else float("nan")
    else:
        method, df, quantile = DF_NORMAL, float("nan"), special.ndtri(0.975)
        p = 2.0 * special.ndtr(-abs(estimate / se)) if se > 0 else float("nan")
    half = float(quantile) * se
    return Estimate(estimate, se, df, method, estimate - half, estimate + half, float(p))
