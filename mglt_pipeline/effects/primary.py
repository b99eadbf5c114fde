"""The SAP's primary model of one outcome, fitted once; contrasts and adjusted means derive from it.

SAP "Primary model": on the FAS rows with non-missing ``aval``,

    aval ~ base_c + C(visit) + arm + C(visit):arm + (1 | participant_id)     (REML)

``base_c`` = ``base`` minus its mean over the model rows; ``visit`` reference ``week_1``; ``arm``
reference placebo (``A`` while blinded). Fixed-effect columns, in R's order:
intercept, base_c, visit[week_2], visit[week_3], arm[active], visit[week_2]:arm[active],
visit[week_3]:arm[active]. The same function fits the per-protocol sensitivity model on the PP rows.
A model that cannot be fitted is returned with ``fit = None`` and a message, never an exception.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from mglt_pipeline.effects.reml import FitError, RandomInterceptFit, fit_random_intercept
from mglt_pipeline.visits import FINAL_VISIT
from mglt_pipeline.visits import POST_BASELINE_VISITS as VISITS

MODEL = "LMM (REML): aval ~ base_c + C(visit) + arm + C(visit):arm + (1 | participant_id)"
COLUMNS = ("intercept", "base_c", "visit[week_2]", "visit[week_3]", "arm[active]",
           "visit[week_2]:arm[active]", "visit[week_3]:arm[active]")
UNBLINDED_ARMS = ("placebo", "MgT")
BLINDED_ARMS = ("A", "B")
DF_SATTERTHWAITE = "satterthwaite"
DF_NORMAL = "normal"
"""``df_method`` values: Satterthwaite t, or the normal approximation when no df is available."""


@dataclass(frozen=True)
class ArmLabels:
    """Which arm label is the reference (placebo, or A while blinded) and which the active one."""

    control: str
    active: str
    blinded: bool


def arm_labels(arms: Iterable[str]) -> ArmLabels:
    """The labelling in use: ``placebo``/``MgT`` once unblinded, ``A``/``B`` while blinded."""
    present = {a for a in arms if isinstance(a, str)}
    if present <= set(BLINDED_ARMS):
        return ArmLabels(*BLINDED_ARMS, blinded=True)
    if present <= set(UNBLINDED_ARMS):
        return ArmLabels(*UNBLINDED_ARMS, blinded=False)
    raise ValueError(f"arm labels {sorted(present)} are neither {UNBLINDED_ARMS} nor {BLINDED_ARMS}")


@dataclass(frozen=True)
class Estimate:
    """A linear combination of the fixed effects with its t-based 95% CI and two-sided p."""

    estimate: float
    se: float
    df: float
    df_method: str
    ci_low: float
    ci_high: float
    p_value: float


def t_estimate(estimate: float, se: float, df: float) -> Estimate:
    """CI and p from t with ``df`` (Satterthwaite); the normal approximation when df is not available
    (SAP "Degrees of freedom": the table says which, in ``df_method``)."""
    if np.isfinite(df) and df > 0:
        method, quantile = DF_SATTERTHWAITE, special.stdtrit(df, 0.975)
        p = 2.0 * special.stdtr(df, -abs(estimate / se)) if se > 0 else float("nan")
    else:
        method, df, quantile = DF_NORMAL, float("nan"), special.ndtri(0.975)
        p = 2.0 * special.ndtr(-abs(estimate / se)) if se > 0 else float("nan")
    half = float(quantile) * se
    return Estimate(estimate, se, df, method, estimate - half, estimate + half, float(p))


@dataclass(frozen=True)
class PrimaryModel:
    """The fitted primary model of one outcome on one analysis set (``fit`` None if not fitted)."""

    fit: RandomInterceptFit | None
    message: str
    n_control: int
    n_active: int
    n_obs: int

    @property
    def converged(self) -> bool:
        return self.fit is not None

    def contrast(self, visit: str) -> Estimate:
        """Active minus placebo at ``visit``: arm[active] (+ visit[v]:arm[active] after week_1)."""
        return self._estimate(_weights(visit, active=1.0) - _weights(visit, active=0.0))

    def adjusted_mean(self, visit: str, active: bool) -> Estimate:
        """Model-based mean of an arm at a visit, at base_c = 0 (the mean baseline of the model rows)."""
        return self._estimate(_weights(visit, active=float(active)))

    def interaction_p(self) -> float:
        """Joint F test of the visit:arm terms, Satterthwaite denominator df (lmerTest ``contestMD``)."""
        if self.fit is None:
            return float("nan")
        f_value, ndf, ddf = self.fit.wald_f(np.eye(len(COLUMNS))[5:7])
        return float(stats.f.sf(f_value, ndf, ddf)) if np.isfinite(ddf) else float(stats.chi2.sf(f_value * ndf, ndf))

    def _estimate(self, L: np.ndarray) -> Estimate:
        if self.fit is None:
            nan = float("nan")
            return Estimate(nan, nan, nan, DF_SATTERTHWAITE, nan, nan, nan)
        return t_estimate(*self.fit.contrast(L))


def _weights(visit: str, active: float) -> np.ndarray:
    """Fixed-effect weights of the cell (visit, arm) at base_c = 0."""
    k = VISITS.index(visit)
    visit_cols = np.eye(2)[k - 1] if k else np.zeros(2)
    return np.concatenate([[1.0, 0.0], visit_cols, [active], active * visit_cols])


def model_rows(rows: pd.DataFrame, labels: ArmLabels, analysis_set: str = "fas") -> pd.DataFrame:
    """Rows of the analysis set (``fas`` or ``pp``) of the two arms, with ``aval`` and ``base``."""
    keep = (rows[analysis_set].astype(bool) & rows["aval"].notna() & rows["base"].notna()
            & rows["arm"].isin([labels.control, labels.active]))
    return rows.loc[keep]


def design_matrix(rows: pd.DataFrame, labels: ArmLabels) -> np.ndarray:
    """The fixed-effect design of ``COLUMNS`` for model rows (base centred over these rows)."""
    base = rows["base"].to_numpy(float)
    visit = rows["visit"].to_numpy()
    active = (rows["arm"].to_numpy() == labels.active).astype(float)
    week_2, week_3 = (visit == "week_2").astype(float), (visit == "week_3").astype(float)
    return np.column_stack([np.ones(len(rows)), base - base.mean(), week_2, week_3, active,
                            week_2 * active, week_3 * active])


def fit_primary(rows: pd.DataFrame, labels: ArmLabels, analysis_set: str = "fas") -> PrimaryModel:
    """Fit the primary model to one outcome's ``analysis_dataset`` rows on ``analysis_set``."""
    data = model_rows(rows, labels, analysis_set)
    arms = data.drop_duplicates("participant_id")["arm"]
    n_active, n_control = int((arms == labels.active).sum()), int((arms == labels.control).sum())
    reason = _cannot_fit(data, labels, n_active, n_control, analysis_set)
    if reason is None:
        try:
            fit = fit_random_intercept(design_matrix(data, labels), data["aval"].to_numpy(float),
                                       data["participant_id"].to_numpy())
        except (FitError, np.linalg.LinAlgError, ValueError) as error:
            fit, reason = None, str(error)
    if reason is not None:
        return PrimaryModel(None, f"not fitted: {reason}", n_control, n_active, len(data))
    message = ("boundary fit: between-participant variance estimated as 0 (sigma_b = 0); converged"
               if fit.boundary else "converged")
    return PrimaryModel(fit, message, n_control, n_active, len(data))


def _cannot_fit(data: pd.DataFrame, labels: ArmLabels, n_active: int, n_control: int,
                analysis_set: str) -> str | None:
    """Why the model cannot be fitted to these rows, or None."""
    if data.empty:
        return f"no {analysis_set.upper()} rows with non-missing aval and base"
    if min(n_active, n_control) < 2:
        return (f"too few participants: {n_active} {labels.active} and {n_control} {labels.control} "
                "(at least 2 per arm)")
    visits, arms = data["visit"].to_numpy(), data["arm"].to_numpy()
    for visit in VISITS:
        for arm in (labels.control, labels.active):
            if not np.any((visits == visit) & (arms == arm)):
                return f"singular design: no {arm} values at {visit}"
    if np.ptp(data["aval"].to_numpy(float)) == 0.0:
        return "no residual variance: aval is constant"
    n_participants = data["participant_id"].nunique()
    if len(data) <= n_participants or len(data) <= len(COLUMNS):
        return (f"too few observations ({len(data)} values from {n_participants} participants) for "
                f"{len(COLUMNS)} fixed effects and a random intercept")
    return None
