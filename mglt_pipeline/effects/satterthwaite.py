"""Satterthwaite degrees of freedom for contrasts of a random-intercept REML fit, as lmerTest does.

SAP "Degrees of freedom": the week_3 contrast is tested with Satterthwaite df as lmerTest/emmeans
compute them (Kuznetsova, Brockhoff & Christensen 2017, J Stat Softw 82(13), eqs. 5-6):

    df = 2 (L C L')^2 / (g' A g),   A = 2 H^-1,

with C = cov(beta) as a function of the variance parameters, g its gradient in the direction L and
H the Hessian of the REML deviance (beta profiled out, the variance parameters free). lmerTest takes
numerical derivatives in lme4's parameters (sigma_b / sigma_e, sigma_e); here they are analytic in
(sigma_b^2, sigma_e^2), which gives the same df at an interior optimum. At the boundary
sigma_b = 0 lme4's parameterisation makes the sigma_b direction drop out of g' A g, so the df is
that of a model with sigma_b^2 known to be 0: ``(L C L')^2 H_ee / g_e^2``.

The multi-row F test follows lmerTest's ``contestMD``: a Satterthwaite df per eigen-direction of
L C L', combined into one denominator df (Fai & Cornelius 1996).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from mglt_pipeline.effects.reml import RandomInterceptFit


@dataclass(frozen=True)
class VarianceDerivatives:
    """H: Hessian of the REML deviance in (sigma_b^2, sigma_e^2); d cov(beta) = C X'W dV W X C."""

    hessian: np.ndarray    # 2 x 2, order (sigma_b^2, sigma_e^2)
    xw2x: np.ndarray       # X' V^-2 X: d (X'V^-1 X) / d sigma_e^2, up to sign
    zwx: np.ndarray        # Z' V^-1 X: d (X'V^-1 X) / d sigma_b^2 = -(Z'V^-1 X)'(Z'V^-1 X)


def reml_hessian(fit: RandomInterceptFit) -> VarianceDerivatives:
    """Observed Hessian of the REML deviance at the fit, from per-participant sums only.

    With P = V^-1 - V^-1 X C X' V^-1, dV/d sigma_b^2 = Z Z' and dV/d sigma_e^2 = I:
    H_kl = -tr(P V_k P V_l) + 2 y'P V_k P V_l P y. Powers of participant i's V^-1 stay of the form
    v^-k (I - c J) with c = (1 - lam_i^k) / n_i, lam_i = 1 / (1 + n_i theta), which is why the
    traces reduce to sums over participants.
    """
    m, C, v = fit.moments, fit.cov_beta, fit.sigma2_e
    lam = 1.0 / (1.0 + m.n_i * fit.theta)
    resid_sum = m.t - m.s @ fit.beta
    xr = m.xty - m.xtx @ fit.beta
    rr = m.yty - 2.0 * fit.beta @ m.xty + fit.beta @ m.xtx @ fit.beta

    def shrink(k: int) -> np.ndarray:
        return (1.0 - lam**k) / m.n_i

    def xwx(k: int) -> np.ndarray:
        return (m.xtx - (m.s.T * shrink(k)) @ m.s) / v**k

    def zwx(k: int) -> np.ndarray:
        return m.s * (lam**k / v**k)[:, None]

    def rwr(k: int) -> float:
        return (rr - shrink(k) @ resid_sum**2) / v**k

    def xwr(k: int) -> np.ndarray:
        return (xr - m.s.T @ (shrink(k) * resid_sum)) / v**k

    def zwr(k: int) -> np.ndarray:
        return lam**k * resid_sum / v**k

    xw2x, e1, e2 = xwx(2), zwx(1), zwx(2)
    c_xw2x = C @ xw2x
    tr_w2 = (m.n_i - 1.0 + lam**2).sum() / v**2
    tr_pp = tr_w2 - 2.0 * np.trace(C @ xwx(3)) + np.trace(c_xw2x @ c_xw2x)
    x_pe = xwr(2)
    e_pe = rwr(3) - x_pe @ C @ x_pe
    # Z'PZ = diag(d) - E with E = e1 C e1' (participants x participants) is never formed: its
    # squared sum and quadratic form come from p x p products (the fit stays linear in participants).
    d, e1_c = m.n_i * lam / v, e1 @ C
    e_diag = np.einsum("gi,gi->g", e1_c, e1)
    c_ete = C @ (e1.T @ e1)
    sum_zpz2 = np.sum((d - e_diag) ** 2) + np.trace(c_ete @ c_ete) - np.sum(e_diag**2)
    ze = zwr(1)
    tr_zppz = (m.n_i * lam**2).sum() / v**2 - 2.0 * np.trace(C @ e1.T @ e2) + np.trace(c_xw2x @ c_ete)
    zpe = zwr(2) - e1 @ (C @ x_pe)
    ze_e1 = ze @ e1
    h_bb = -sum_zpz2 + 2.0 * (d @ ze**2 - ze_e1 @ C @ ze_e1)
    h_be = -tr_zppz + 2.0 * ze @ zpe
    h_ee = -tr_pp + 2.0 * e_pe
    return VarianceDerivatives(np.array([[h_bb, h_be], [h_be, h_ee]]), xw2x, e1)


def contrast_gradient(fit: RandomInterceptFit, d: VarianceDerivatives, L: np.ndarray) -> np.ndarray:
    """d (L C L') / d (sigma_b^2, sigma_e^2)."""
    a = fit.cov_beta @ L
    return np.array([np.sum((d.zwx @ a) ** 2), a @ d.xw2x @ a])


def satterthwaite_df(fit: RandomInterceptFit, d: VarianceDerivatives, L: np.ndarray,
                     variance: float | None = None) -> float:
    """Satterthwaite df of ``L @ beta``; NaN when the Hessian is not positive definite."""
    variance = float(L @ fit.cov_beta @ L) if variance is None else variance
    g = contrast_gradient(fit, d, L)
    H = d.hessian
    if fit.boundary:
        return float(variance**2 * H[1, 1] / g[1] ** 2) if H[1, 1] > 0 else float("nan")
    if np.any(np.linalg.eigvalsh(H) <= 0):
        return float("nan")
    return float(variance**2 / (g @ np.linalg.solve(H, g)))


def combined_ddf(nu: np.ndarray) -> float:
    """lmerTest's ``get_Fstat_ddf``: one F denominator df from the per-direction Satterthwaite df."""
    if len(nu) == 1:
        return float(nu[0])
    if np.all(np.abs(np.diff(nu)) < 1e-8):
        return float(np.mean(nu))
    if np.any(nu <= 2):
        return 2.0
    e = np.sum(nu / (nu - 2.0))
    return float(2.0 * e / (e - len(nu)))


def wald_f_satterthwaite(fit: RandomInterceptFit, derivs: VarianceDerivatives,
                         L: np.ndarray) -> tuple[float, int, float]:
    """F statistic of ``L @ beta = 0``, its numerator df (rank of L C L') and Satterthwaite ddf."""
    d, P = np.linalg.eigh(L @ fit.cov_beta @ L.T)
    order = np.argsort(d)[::-1]
    d, P = d[order], P[:, order]
    keep = d > max(np.finfo(float).eps ** 0.5 * d[0], 0.0)
    d, PtL = d[keep], (P.T @ L)[keep]
    f_value = float(np.sum((PtL @ fit.beta) ** 2 / d) / len(d))
    nu = np.array([satterthwaite_df(fit, derivs, row, var) for row, var in zip(PtL, d)])
    return f_value, int(len(d)), combined_ddf(nu)


@dataclass(frozen=True)
class RandomInterceptInference:
    """Satterthwaite inference on contrasts of one random-intercept fit (derivatives computed once)."""

    fit: RandomInterceptFit

    @cached_property
    def derivatives(self) -> VarianceDerivatives:
        """Hessian of the REML deviance in (sigma_b^2, sigma_e^2) and the pieces of d cov(beta)."""
        return reml_hessian(self.fit)

    def contrast(self, L: np.ndarray) -> tuple[float, float, float]:
        """Estimate, SE and Satterthwaite df of ``L @ beta`` (lmerTest's ``contest1D``)."""
        L = np.asarray(L, dtype=float)
        variance = float(L @ self.fit.cov_beta @ L)
        return (float(L @ self.fit.beta), float(np.sqrt(variance)),
                satterthwaite_df(self.fit, self.derivatives, L, variance))

    def wald_f(self, L: np.ndarray) -> tuple[float, int, float]:
        """Joint test of ``L @ beta = 0``: F, numerator df and Satterthwaite denominator df."""
        return wald_f_satterthwaite(self.fit, self.derivatives, np.atleast_2d(np.asarray(L, dtype=float)))
