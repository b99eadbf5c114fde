"""REML fit of the random-intercept linear mixed model, written for speed.

The production fit of the SAP's primary model (``aval ~ ... + (1 | participant_id)`` by REML). The
task statement names statsmodels ``MixedLM``; that is kept as the independent reference in the tests
and in ``benchmarks/model_fit.py`` (0.05-0.4 s per outcome; lme4 0.01-0.03 s). This fit gives the
same REML estimates (to 1e-6 and better, against MixedLM and against R lme4) in about 2 ms.

Why it can be fast: participant i's marginal covariance is ``sigma_e^2 (I + theta J)`` with
``theta = sigma_b^2 / sigma_e^2``. Its inverse ``(I - theta/(1 + n_i theta) J) / sigma_e^2`` and
determinant ``(1 + n_i theta) sigma_e^(2 n_i)`` are closed-form (Sherman-Morrison), so the REML
deviance with ``beta`` and ``sigma_e^2`` profiled out is a function of ``theta`` alone, computed
from per-participant sums of X and y (Patterson & Thompson 1971; lme4's profiled REML criterion,
Bates et al. 2015, J Stat Softw 67(1), eq. 42). ``theta`` is found on a log grid and refined by
root-finding on the analytic derivative; ``theta = 0`` is a legitimate boundary optimum
(no between-participant variance). Inference on contrasts (Satterthwaite df) is in
``satterthwaite.py``, which reads a fit; this module does not depend on it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

THETA_GRID = np.concatenate([[0.0], 10.0 ** np.arange(-6.0, 6.01, 0.5)])


@dataclass(frozen=True)
class GroupedMoments:
    """Sufficient statistics of the model: cross-products of X and y, overall and per participant."""

    n_obs: int
    n_i: np.ndarray   # observations per participant (G,)
    s: np.ndarray     # column sums of X per participant (G, p)
    t: np.ndarray     # sums of y per participant (G,)
    xtx: np.ndarray   # X'X (p, p)
    xty: np.ndarray   # X'y (p,)
    yty: float

    @property
    def p(self) -> int:
        return self.xtx.shape[0]


def grouped_moments(X: np.ndarray, y: np.ndarray, groups: np.ndarray) -> GroupedMoments:
    """Per-participant sums of the rows of X and y (``groups`` any labels, one per row)."""
    _, codes = np.unique(groups, return_inverse=True)
    order = np.argsort(codes, kind="stable")
    codes, X, y = codes[order], X[order], y[order]
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    return GroupedMoments(
        n_obs=len(y), n_i=np.diff(np.r_[starts, len(y)]).astype(float),
        s=np.add.reduceat(X, starts, axis=0), t=np.add.reduceat(y, starts),
        xtx=X.T @ X, xty=X.T @ y, yty=float(y @ y),
    )


def _profile(m: GroupedMoments, theta: float) -> tuple[float, float, np.ndarray, np.ndarray, float]:
    """Profiled REML deviance at ``theta``, its derivative, GLS ``beta``, X'M^-1 X and the RSS."""
    lam = 1.0 / (1.0 + m.n_i * theta)          # 1 / (1 + n_i theta)
    w = theta * lam
    A = m.xtx - (m.s.T * w) @ m.s              # X' M^-1 X with M = V / sigma_e^2
    b = m.xty - m.s.T @ (w * m.t)              # X' M^-1 y
    solved = np.linalg.solve(A, np.column_stack([b, m.s.T]))
    beta = solved[:, 0]
    rss = float(m.yty - w @ m.t**2 - b @ beta)  # (y - X beta)' M^-1 (y - X beta)
    dof = m.n_obs - m.p
    logdet = -np.log(lam).sum() + np.linalg.slogdet(A)[1]
    deviance = dof * (1.0 + np.log(2.0 * np.pi * rss / dof)) + logdet
    lam2 = lam**2
    resid_sum = m.t - m.s @ beta               # per-participant sums of y - X beta
    leverage = np.einsum("gi,ig->g", m.s, solved[:, 1:])
    slope = -dof * (lam2 @ resid_sum**2) / rss + m.n_i @ lam - lam2 @ leverage
    return float(deviance), float(slope), beta, A, rss


def _grid_deviance(m: GroupedMoments, thetas: np.ndarray) -> np.ndarray:
    """The profiled REML deviance at many ``theta`` at once (inf where not computable)."""
    lam = 1.0 / (1.0 + np.outer(thetas, m.n_i))
    w = thetas[:, None] * lam
    A = m.xtx[None] - np.einsum("kg,gi,gj->kij", w, m.s, m.s)
    b = m.xty[None] - np.einsum("kg,gi->ki", w, m.s * m.t[:, None])
    with np.errstate(all="ignore"):
        sign, logdet_a = np.linalg.slogdet(A)
        ok = sign > 0
        beta = np.full_like(b, np.nan)
        beta[ok] = np.linalg.solve(A[ok], b[ok][..., None])[..., 0]
        q = m.yty - w @ m.t**2 - np.einsum("ki,ki->k", b, beta)
        dof = m.n_obs - m.p
        dev = dof * (1.0 + np.log(2.0 * np.pi * q / dof)) - np.log(lam).sum(axis=1) + logdet_a
    # a residual RMS below 1e-6 of the data's RMS is rounding error: y is fitted exactly
    return np.where(ok & (q > 1e-12 * m.yty) & np.isfinite(dev), dev, np.inf)


@dataclass(frozen=True)
class RandomInterceptFit:
    """A REML fit: ``theta`` (= sigma_b^2 / sigma_e^2), fixed effects and their covariance."""

    moments: GroupedMoments
    theta: float
    beta: np.ndarray
    cov_beta: np.ndarray
    sigma2_e: float
    deviance: float
    boundary: bool

    @property
    def sigma2_b(self) -> float:
        return self.theta * self.sigma2_e


class FitError(ValueError):
    """The model cannot be fitted to these data; the message says why."""


def fit_random_intercept(X: np.ndarray, y: np.ndarray, groups: np.ndarray) -> RandomInterceptFit:
    """REML fit of ``y = X beta + b_group + e`` with b ~ N(0, sigma_b^2), e ~ N(0, sigma_e^2).

    Raises ``FitError`` when the fixed-effects design is rank deficient, when there is no residual
    variance, or when the likelihood has no finite optimum.
    """
    X = np.asarray(X, dtype=float)
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise FitError("singular design: the fixed-effect columns are linearly dependent "
                       "(e.g. an arm or a visit without observations)")
    m = grouped_moments(X, np.asarray(y, dtype=float), np.asarray(groups))
    with np.errstate(divide="ignore", invalid="ignore"):
        return _fit(m)


def _fit(m: GroupedMoments) -> RandomInterceptFit:
    """Grid search, refinement and the estimates at the optimum (see the module docstring)."""
    dev = _grid_deviance(m, THETA_GRID)
    if not np.isfinite(dev).any():
        raise FitError("no residual variance: aval is constant or fitted exactly by the fixed effects")
    k = int(np.argmin(dev))
    if k == len(THETA_GRID) - 1:
        raise FitError("no finite optimum: the within-participant variance tends to 0")
    theta, boundary = _refine(m, k)
    deviance, _, beta, A, rss = _profile(m, theta)
    sigma2_e = rss / (m.n_obs - m.p)
    cov_beta = sigma2_e * np.linalg.inv(A)
    if not (np.isfinite(deviance) and sigma2_e > 0 and np.all(np.isfinite(cov_beta))):
        raise FitError("no finite REML optimum (numerically degenerate data)")
    return RandomInterceptFit(m, theta, beta, cov_beta, sigma2_e, float(deviance), boundary)


def _refine(m: GroupedMoments, k: int) -> tuple[float, bool]:
    """The minimum of the deviance next to grid point ``k``, or the boundary ``theta = 0``."""
    slope = lambda th: _profile(m, th)[1]  # noqa: E731
    if k == 0 and slope(0.0) >= 0.0:
        return 0.0, True
    lo, hi = THETA_GRID[max(k - 1, 0)], THETA_GRID[k + 1]
    if k > 0:
        mid_slope = slope(THETA_GRID[k])
        lo, hi = (lo, THETA_GRID[k]) if mid_slope > 0.0 else (THETA_GRID[k], hi)
    if slope(lo) < 0.0 < slope(hi):
        return float(optimize.brentq(slope, lo, hi, xtol=1e-15, rtol=1e-13, maxiter=200)), False
    found = optimize.minimize_scalar(lambda th: _profile(m, th)[0], bounds=(lo, hi), method="bounded",
                                     options={"xatol": 1e-12 * max(hi, 1.0)})
    return float(found.x), False
