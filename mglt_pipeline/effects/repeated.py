"""An MMRM from a formula and a data frame, as R's ``mmrm(formula, data)`` is called.

``fit_formula_mmrm(data, "FEV1 ~ RACE + SEX + ARMCD * AVISIT", levels, visit="AVISIT",
subject="USUBJID", covariance="unstructured")`` fits ``mmrm``'s own README example; the pipeline's
SAP model goes through the same three steps (``sensitivity.fit_sap_mmrm``): the design from the
formula (``design.py``), the pattern sums (``mmrm.pattern_moments``) and the REML fit.
Rows with a missing response are left out, as ``mmrm`` and PROC MIXED leave them out.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from mglt_pipeline.effects.design import Design
from mglt_pipeline.effects.mmrm import MmrmFit, fit_mmrm, pattern_moments


def fit_formula_mmrm(data: pd.DataFrame, formula: str, levels: Mapping[str, tuple], visit: str,
                     subject: str, covariance: str) -> tuple[MmrmFit, Design]:
    """REML fit of ``formula`` with residuals correlated across ``visit`` (levels[visit] in order)
    within ``subject``; the fit and the design (column names, term slices) it used."""
    response = formula.split("~")[0].strip()
    rows = data.loc[data[response].notna()].reset_index(drop=True)
    design = Design.build(rows, formula, levels)
    visit_index = rows[visit].map({v: k for k, v in enumerate(levels[visit])}).to_numpy()
    moments = pattern_moments(design.rows(rows), rows[response].to_numpy(float), rows[subject].to_numpy(),
                              visit_index, len(levels[visit]))
    return fit_mmrm(moments, covariance, rows[subject].nunique()), design


def coefficient_table(fit: MmrmFit, design: Design, inference) -> pd.DataFrame:
    """Estimate, model-based SE and Satterthwaite df of every coefficient (``summary(fit)``)."""
    eye = np.eye(len(design.columns))
    rows = [inference.contrast(row) for row in eye]
    return pd.DataFrame({"estimate": fit.beta, "se": [r.se_model for r in rows],
                         "df": [r.df_satterthwaite for r in rows]}, index=list(design.columns))
