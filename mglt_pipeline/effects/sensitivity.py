"""The SAP's sensitivity analyses: the MMRM, ANCOVA at week_3 on completers (per-protocol is the
primary model on the PP rows, ``primary.fit_primary(..., "pp")``).

MMRM (SAP "Sensitivity analyses"): the primary model's fixed effects on the same FAS rows, no random
effect, the residuals of a participant correlated across visits; unstructured covariance by REML, and
if that does not converge the first of heterogeneous Toeplitz, heterogeneous AR(1) and compound
symmetry that does (the structure used is named). Contrasts have the Kenward-Roger adjusted SE and
df (``kenward_roger.py``); Satterthwaite df are computed too.

ANCOVA: ``aval ~ base + arm`` by OLS on the FAS participants with an observed final-visit value,
with HC3 heteroscedasticity-consistent SEs (MacKinnon & White 1985). The test uses t with the
residual df (n - 3), as R's ``lmtest::coeftest(fit, vcovHC(fit, "HC3"))`` does.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import statsmodels.api as sm

from mglt_pipeline.arms import ArmLabels
from mglt_pipeline.effects.covariance import FALLBACK_ORDER
from mglt_pipeline.effects.design import FIXED_EFFECTS, Design
from mglt_pipeline.effects.estimates import DF_KENWARD_ROGER, NOT_ESTIMATED, Estimate, t_estimate
from mglt_pipeline.effects.kenward_roger import MmrmInference
from mglt_pipeline.effects.mmrm import MmrmFit, fit_mmrm, pattern_moments
from mglt_pipeline.effects.primary import (
    arm_sizes, cannot_fit, contrast_weights, model_rows, sap_design,
)
from mglt_pipeline.effects.reml import FitError
from mglt_pipeline.visits import FINAL_VISIT

MMRM_MODEL = f"MMRM (REML): {FIXED_EFFECTS}, residuals correlated across visits within participant_id"


@dataclass(frozen=True)
class MmrmAnalysis:
    """The SAP's MMRM of one outcome (``fit`` None when no structure converged)."""

    fit: MmrmFit | None
    message: str
    n_control: int
    n_active: int
    design: Design
    labels: ArmLabels

    @property
    def covariance(self) -> str:
        """The structure used (SAP ``mmrm_covariance``), empty when none converged."""
        return self.fit.structure.name if self.fit is not None else ""

    @cached_property
    def inference(self) -> MmrmInference:
        return MmrmInference(self.fit)

    def contrast(self, visit: str) -> tuple[Estimate, float]:
        """Active minus placebo at ``visit``: Kenward-Roger SE, df, CI and p; and Satterthwaite df."""
        if self.fit is None:
            return NOT_ESTIMATED, float("nan")
        c = self.inference.contrast(contrast_weights(self.design, self.labels, visit))
        return t_estimate(c.estimate, c.se, c.df, DF_KENWARD_ROGER), c.df_satterthwaite


def fit_sap_mmrm(rows: pd.DataFrame, labels: ArmLabels, design: Design | None = None) -> MmrmAnalysis:
    """The MMRM on one outcome's FAS rows, with the SAP's fallback order of covariance structures."""
    design = sap_design(rows, labels) if design is None else design
    data = model_rows(rows, labels, "fas")
    n_active, n_control = arm_sizes(data, labels)
    reason = cannot_fit(data, labels, n_active, n_control, "fas", design)
    if reason is not None:
        return MmrmAnalysis(None, f"MMRM not fitted: {reason}", n_control, n_active, design, labels)
    visits = design.levels["visit"]
    try:
        moments = pattern_moments(design.rows(data), data["aval"].to_numpy(float),
                                  data["participant_id"].to_numpy(),
                                  data["visit"].map({v: k for k, v in enumerate(visits)}).to_numpy(),
                                  len(visits))
    except FitError as error:
        return MmrmAnalysis(None, f"MMRM not fitted: {error}", n_control, n_active, design, labels)
    failures = []
    for structure in FALLBACK_ORDER:
        try:
            fit = fit_mmrm(moments, structure, data["participant_id"].nunique())
        except (FitError, np.linalg.LinAlgError) as error:
            failures.append(f"{structure} not fitted ({error})")
            continue
        if fit.converged:
            message = "converged" if not failures else f"{'; '.join(failures)}; {structure} used"
            return MmrmAnalysis(fit, message, n_control, n_active, design, labels)
        failures.append(f"{structure} did not converge ({fit.message})")
    return MmrmAnalysis(None, f"MMRM not fitted: {'; '.join(failures)}", n_control, n_active, design, labels)


@dataclass(frozen=True)
class Ancova:
    estimate: float
    se: float
    p_value: float
    n: int
    message: str
    n_active: int = 0
    n_control: int = 0


def ancova_completers(rows: pd.DataFrame, labels: ArmLabels) -> Ancova:
    """Active minus placebo at the final visit adjusted for baseline, on completers, HC3 SE."""
    data = model_rows(rows, labels, "fas")
    data = data.loc[data["visit"] == FINAL_VISIT]
    active = (data["arm"] == labels.active).to_numpy(float)
    n, n_active = len(data), int(active.sum())
    if min(n_active, n - n_active) < 2 or n <= 3:
        return _failed(n, n_active, f"too few completers: {n_active} {labels.active}, "
                                    f"{n - n_active} {labels.control}")
    X = np.column_stack([np.ones(n), data["base"].to_numpy(float), active])
    if np.linalg.matrix_rank(X) < 3:
        return _failed(n, n_active, "singular design (constant baseline)")
    fit = sm.OLS(data["aval"].to_numpy(float), X).fit(cov_type="HC3", use_t=True)
    se = float(fit.bse[2])
    if not np.isfinite(se) or se <= 0:
        return _failed(n, n_active, "HC3 SE not available (residuals all zero or a point of leverage 1)")
    return Ancova(float(fit.params[2]), se, float(fit.pvalues[2]), n, "", n_active, n - n_active)


def _failed(n: int, n_active: int, reason: str) -> Ancova:
    nan = float("nan")
    return Ancova(nan, nan, nan, n, f"ANCOVA not fitted: {reason}", n_active, n - n_active)
