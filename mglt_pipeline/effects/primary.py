"""The SAP's primary model of one outcome, fitted once; contrasts and adjusted means derive from it.

SAP "Primary model": on the FAS rows with non-missing ``aval``,

    aval ~ base_c + C(visit) + arm + C(visit):arm + (1 | participant_id)     (REML)

``base_c`` = ``base`` minus its mean over the model rows; ``visit`` reference the first
post-baseline visit; ``arm`` reference placebo (``A`` while blinded). The fixed-effect design comes
from the formula (``design.py``), so the contrast and adjusted-mean weights of every visit and the
visit:arm columns of the joint test are read from it, not written out. The same function fits the
per-protocol sensitivity model on the PP rows. A model that cannot be fitted is returned with
``fit = None`` and a message, never an exception.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import stats

from mglt_pipeline.arms import ArmLabels
from mglt_pipeline.effects.design import FIXED_EFFECTS, Design, sap_levels
from mglt_pipeline.effects.estimates import NOT_ESTIMATED, Estimate, t_estimate
from mglt_pipeline.effects.reml import FitError, RandomInterceptFit, fit_random_intercept
from mglt_pipeline.effects.satterthwaite import RandomInterceptInference

MODEL = f"LMM (REML): {FIXED_EFFECTS} + (1 | participant_id)"
INTERACTION = "C(visit):arm"


@dataclass(frozen=True)
class PrimaryModel:
    """The fitted primary model of one outcome on one analysis set (``fit`` None if not fitted)."""

    fit: RandomInterceptFit | None
    message: str
    n_control: int
    n_active: int
    n_obs: int
    design: Design
    labels: ArmLabels

    @property
    def converged(self) -> bool:
        return self.fit is not None

    @cached_property
    def inference(self) -> RandomInterceptInference:
        return RandomInterceptInference(self.fit)

    def contrast(self, visit: str) -> Estimate:
        """Active minus placebo at ``visit``: the difference of the two cells' adjusted means."""
        return self._estimate(contrast_weights(self.design, self.labels, visit))

    def adjusted_mean(self, visit: str, active: bool) -> Estimate:
        """Model-based mean of an arm at a visit, at base_c = 0 (the mean baseline of the model rows)."""
        arm = self.labels.active if active else self.labels.control
        return self._estimate(self.design.cell_weights(visit=visit, arm=arm))

    def interaction_p(self) -> float:
        """Joint F test of the visit:arm terms, Satterthwaite denominator df (lmerTest ``contestMD``)."""
        if self.fit is None:
            return float("nan")
        L = np.eye(len(self.design.columns))[self.design.term_columns(INTERACTION)]
        f_value, ndf, ddf = self.inference.wald_f(L)
        return float(stats.f.sf(f_value, ndf, ddf)) if np.isfinite(ddf) else float(stats.chi2.sf(f_value * ndf, ndf))

    def _estimate(self, L: np.ndarray) -> Estimate:
        if self.fit is None:
            return NOT_ESTIMATED
        return t_estimate(*self.inference.contrast(L))


def contrast_weights(design: Design, labels: ArmLabels, visit: str) -> np.ndarray:
    """Weights of active minus placebo at ``visit`` (at any covariate value: it cancels)."""
    return (design.cell_weights(visit=visit, arm=labels.active)
            - design.cell_weights(visit=visit, arm=labels.control))


def model_rows(rows: pd.DataFrame, labels: ArmLabels, analysis_set: str = "fas") -> pd.DataFrame:
    """Rows of the analysis set (``fas`` or ``pp``) of the two arms, with ``aval`` and ``base``."""
    keep = (rows[analysis_set].astype(bool) & rows["aval"].notna() & rows["base"].notna()
            & rows["arm"].isin([labels.control, labels.active]))
    return rows.loc[keep]


def sap_design(rows: pd.DataFrame, labels: ArmLabels) -> Design:
    """The SAP's fixed-effect design over ``rows`` (build once per table, share between models)."""
    return Design.build(rows, FIXED_EFFECTS, sap_levels(labels))


def arm_sizes(data: pd.DataFrame, labels: ArmLabels) -> tuple[int, int]:
    """Participants in the model rows: (active, control)."""
    arms = data.drop_duplicates("participant_id")["arm"]
    return int((arms == labels.active).sum()), int((arms == labels.control).sum())


def fit_primary(rows: pd.DataFrame, labels: ArmLabels, analysis_set: str = "fas",
                design: Design | None = None) -> PrimaryModel:
    """Fit the primary model to one outcome's ``analysis_dataset`` rows on ``analysis_set``
    (``design``: the SAP design of a table holding these rows, else built here)."""
    design = sap_design(rows, labels) if design is None else design
    data = model_rows(rows, labels, analysis_set)
    n_active, n_control = arm_sizes(data, labels)
    reason = cannot_fit(data, labels, n_active, n_control, analysis_set, design)
    if reason is None:
        try:
            fit = fit_random_intercept(design.rows(data), data["aval"].to_numpy(float),
                                       data["participant_id"].to_numpy())
        except (FitError, np.linalg.LinAlgError, ValueError) as error:
            fit, reason = None, str(error)
    if reason is not None:
        return PrimaryModel(None, f"not fitted: {reason}", n_control, n_active, len(data), design, labels)
    message = ("boundary fit: between-participant variance estimated as 0 (sigma_b = 0); converged"
               if fit.boundary else "converged")
    return PrimaryModel(fit, message, n_control, n_active, len(data), design, labels)


def cannot_fit(data: pd.DataFrame, labels: ArmLabels, n_active: int, n_control: int,
               analysis_set: str, design: Design) -> str | None:
    """Why the SAP's models cannot be fitted to these rows, or None."""
    if data.empty:
        return f"no {analysis_set.upper()} rows with non-missing aval and base"
    if min(n_active, n_control) < 2:
        return (f"too few participants: {n_active} {labels.active} and {n_control} {labels.control} "
                "(at least 2 per arm)")
    cells = set(zip(data["visit"], data["arm"]))
    for visit in design.levels["visit"]:
        for arm in (labels.control, labels.active):
            if (visit, arm) not in cells:
                return f"singular design: no {arm} values at {visit}"
    if np.ptp(data["aval"].to_numpy(float)) == 0.0:
        return "no residual variance: aval is constant"
    n_participants, n_columns = data["participant_id"].nunique(), len(design.columns)
    if len(data) <= n_participants or len(data) <= n_columns:
        return (f"too few observations ({len(data)} values from {n_participants} participants) for "
                f"{n_columns} fixed effects and a random intercept")
    return None
