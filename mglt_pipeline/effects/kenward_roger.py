"""Kenward-Roger and Satterthwaite inference for a contrast of an MMRM's fixed effects.

Kenward & Roger (1997, Biometrics 53:983-997), as SAS PROC MIXED ``DDFM=KR`` and R ``mmrm``
(``method = "Kenward-Roger"``) compute it:

- the adjusted covariance of beta-hat,
  ``Phi_A = Phi + 2 Phi [sum_ij W_ij (Q_ij - P_i Phi P_j - R_ij / 4)] Phi``,
  with Phi = (X'V^-1 X)^-1, W the asymptotic covariance of the variance parameters (twice the
  inverse of the observed Hessian of the REML deviance) and P, Q, R the derivative matrices of
  ``mmrm.Derivatives``. R_ij involves the second derivatives of V, so Phi_A depends on how the
  covariance is parameterised: it is computed in SAS's own parameters (``covariance.py``), where
  UN, TOEP and CS are linear (R = 0) and TOEPH, ARH(1) and AR(1) are not. ``linear=True`` drops R
  (SAS ``DDFM=KR(LINEAR)``, mmrm ``Kenward-Roger-Linear``);
- the denominator df of the test of ``L beta`` from A1, A2 (KR's eqs. for E and V of the scaled
  F statistic), with the unadjusted Phi, as mmrm's ``h_kr_df`` does.

Satterthwaite: ``df = 2 (L Phi L')^2 / (g' W g)`` with g_i = L Phi P_i Phi L' (the derivative of
L Phi L' in the variance parameters), invariant to the parameterisation.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from mglt_pipeline.effects.mmrm import MmrmFit


@dataclass(frozen=True)
class KrDf:
    """Kenward-Roger denominator df ``m`` and F scale ``lambda`` of one hypothesis ``L beta = 0``."""

    df: float
    scale: float


def parameter_covariance(fit: MmrmFit) -> np.ndarray:
    """W: asymptotic covariance of the variance parameters, 2 H^-1 (H: Hessian of -2 log L_R)."""
    return 2.0 * np.linalg.inv(fit.derivatives.hessian)


def adjusted_covariance(fit: MmrmFit, linear: bool = False) -> np.ndarray:
    """Kenward-Roger's Phi_A (``linear``: without the second-derivative term R)."""
    d, phi = fit.derivatives, fit.cov_beta
    W = parameter_covariance(fit)
    PphiP = (d.P @ phi)[:, None] @ d.P[None]                    # P_i Phi P_j
    inner = d.Q - PphiP - (0.0 if linear else 0.25) * d.R
    total = np.tensordot(W, inner, axes=([0, 1], [0, 1]))
    adjusted = phi + 2.0 * phi @ total @ phi
    return (adjusted + adjusted.T) / 2.0


def kr_df(fit: MmrmFit, L: np.ndarray) -> KrDf:
    """Kenward-Roger df and F scale of the hypothesis ``L beta = 0`` (L: rows of contrasts)."""
    L = np.atleast_2d(np.asarray(L, dtype=float))
    phi, W, P = fit.cov_beta, parameter_covariance(fit), fit.derivatives.P
    rank = L.shape[0]
    M = L.T @ np.linalg.solve(L @ phi @ L.T, L)
    terms = (M @ phi)[None] @ P @ phi[None]                     # M Phi P_i Phi
    traces = np.trace(terms, axis1=1, axis2=2)
    a1 = float(traces @ W @ traces)
    flat = terms.reshape(len(terms), -1)
    a2 = float(np.sum(W * (flat @ terms.transpose(0, 2, 1).reshape(len(terms), -1).T)))
    b = (a1 + 6.0 * a2) / (2.0 * rank)
    e_star = 1.0 / (1.0 - a2 / rank)
    g = ((rank + 1.0) * a1 - (rank + 4.0) * a2) / ((rank + 2.0) * a2)
    denominator = 3.0 * rank + 2.0 - 2.0 * g
    c1, c2, c3 = g / denominator, (rank - g) / denominator, (rank + 2.0 - g) / denominator
    v_star = 2.0 / rank * (1.0 + c1 * b) / ((1.0 - c2 * b) ** 2 * (1.0 - c3 * b))
    rho = v_star / (2.0 * e_star**2)
    m = 4.0 + (rank + 2.0) / (rank * rho - 1.0)
    return KrDf(float(m), float(m / (e_star * (m - 2.0))))


def satterthwaite_df(fit: MmrmFit, L: np.ndarray) -> float:
    """Satterthwaite df of the single contrast ``L @ beta``."""
    L = np.asarray(L, dtype=float)
    phi_l = fit.cov_beta @ L
    variance = float(L @ phi_l)
    g = (fit.derivatives.P @ phi_l) @ phi_l
    return float(2.0 * variance**2 / (g @ parameter_covariance(fit) @ g))


@dataclass(frozen=True)
class ContrastInference:
    """``L beta`` with the Kenward-Roger SE and df, and the model-based SE and Satterthwaite df."""

    estimate: float
    se: float
    df: float
    se_model: float
    df_satterthwaite: float


@dataclass(frozen=True)
class MmrmInference:
    """Inference on contrasts of one MMRM fit; Phi_A is computed once and shared by all contrasts."""

    fit: MmrmFit

    @cached_property
    def adjusted(self) -> np.ndarray:
        return adjusted_covariance(self.fit)

    def contrast(self, L: np.ndarray) -> ContrastInference:
        L = np.asarray(L, dtype=float)
        return ContrastInference(
            float(L @ self.fit.beta), float(np.sqrt(L @ self.adjusted @ L)), kr_df(self.fit, L).df,
            float(np.sqrt(L @ self.fit.cov_beta @ L)), satterthwaite_df(self.fit, L))
