"""The SAP's ANCOVA sensitivity analysis at week_3 on completers.

SAP "Sensitivity analyses": ``aval ~ base + arm`` by OLS on the FAS participants with an observed
week_3 value, with HC3 heteroscedasticity-consistent SEs (MacKinnon & White 1985). The test uses t
with the residual df (n - 3), as R's ``lmtest::coeftest(fit, vcovHC(fit, "HC3"))`` does. The
per-protocol analysis is the primary model on the PP rows (``primary.fit_primary(..., "pp")``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm

from mglt_pipeline.effects.primary import ArmLabels, model_rows
from mglt_pipeline.visits import FINAL_VISIT


@dataclass(frozen=True)
class Ancova:
    estimate: float
    se: float
    p_value: float
    n: int
    message: str


def ancova_completers(rows: pd.DataFrame, labels: ArmLabels) -> Ancova:
    """Active minus placebo at week_3 adjusted for baseline, on completers, HC3 SE."""
    data = model_rows(rows, labels, "fas")
    data = data.loc[data["visit"] == FINAL_VISIT]
    active = (data["arm"] == labels.active).to_numpy(float)
    n, n_active = len(data), int(active.sum())
    if min(n_active, n - n_active) < 2 or n <= 3:
        return _failed(n, f"too few completers: {n_active} {labels.active}, {n - n_active} {labels.control}")
    X = np.column_stack([np.ones(n), data["base"].to_numpy(float), active])
    if np.linalg.matrix_rank(X) < 3:
        return _failed(n, "singular design (constant baseline)")
    fit = sm.OLS(data["aval"].to_numpy(float), X).fit(cov_type="HC3", use_t=True)
    se = float(fit.bse[2])
    if not np.isfinite(se) or se <= 0:
        return _failed(n, "HC3 SE not available (residuals all zero or a point of leverage 1)")
    return Ancova(float(fit.params[2]), se, float(fit.pvalues[2]), n, "")


def _failed(n: int, reason: str) -> Ancova:
    return Ancova(float("nan"), float("nan"), float("nan"), n, f"ANCOVA not fitted: {reason}")
