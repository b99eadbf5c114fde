"""The REML likelihood of an MMRM, summed by pattern of observed visits.

``y_i = X_i beta + e_i`` for participant i, with ``e_i ~ N(0, Sigma[S_i, S_i])``: one visits x visits
covariance matrix Sigma, of which each participant contributes the rows and columns of the visits
S_i it has a value at. Participants with the same pattern share their covariance block, so every
quantity of the REML likelihood is a sum over patterns (at most 2^T - 1, not participants) of small
weight matrices contracted with the pattern's cross-products of X and y, computed once
(``pattern_moments``). One evaluation costs O(patterns x T^2 x p^2) whatever the number of
participants. ``derivatives`` gives the gradient, the observed and expected Hessian of the REML
deviance and Kenward & Roger's P, Q, R matrices, in whichever parameters Sigma's derivatives are given.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mglt_pipeline.effects.reml import FitError

LOG_2PI = float(np.log(2.0 * np.pi))


@dataclass(frozen=True)
class PatternMoments:
    """Cross-products of X and y by pattern of observed visits: the MMRM's sufficient statistics."""

    masks: np.ndarray    # (K, T) visits observed in each pattern
    counts: np.ndarray   # (K,) participants with the pattern
    sxx: np.ndarray      # (K, T, T, p, p): sum over participants of x_s x_t'
    sxy: np.ndarray      # (K, T, T, p): sum of x_s y_t
    syy: np.ndarray      # (K, T, T): sum of y_s y_t
    n_obs: int

    @property
    def p(self) -> int:
        return self.sxx.shape[-1]


def pattern_moments(X: np.ndarray, y: np.ndarray, subjects: np.ndarray, visits: np.ndarray,
                    n_visits: int) -> PatternMoments:
    """Sufficient statistics of the rows (``visits``: 0-based visit index of each row)."""
    subject = pd.factorize(pd.Series(subjects))[0]
    visits = np.asarray(visits, dtype=int)
    cell = subject * n_visits + visits
    if len(np.unique(cell)) < len(cell):
        raise FitError("more than one value of a participant at the same visit")
    G, p = int(subject.max()) + 1, X.shape[1]
    Xg, yg = np.zeros((G, n_visits, p)), np.zeros((G, n_visits))
    mask = np.zeros((G, n_visits), dtype=bool)
    Xg[subject, visits], yg[subject, visits], mask[subject, visits] = X, y, True
    codes, pattern, counts = np.unique(mask @ (1 << np.arange(n_visits)), return_inverse=True,
                                       return_counts=True)
    masks = (codes[:, None] >> np.arange(n_visits)) & 1 == 1
    K = len(masks)
    sxx, sxy = np.empty((K, n_visits, n_visits, p, p)), np.empty((K, n_visits, n_visits, p))
    syy = np.empty((K, n_visits, n_visits))
    for k in range(K):
        Xk, yk = Xg[pattern == k], yg[pattern == k]
        flat = Xk.reshape(len(Xk), -1)
        sxx[k] = (flat.T @ flat).reshape(n_visits, p, n_visits, p).transpose(0, 2, 1, 3)
        sxy[k] = np.einsum("gsa,gt->sta", Xk, yk)
        syy[k] = yk.T @ yk
    return PatternMoments(masks, counts.astype(float), sxx, sxy, syy, len(y))


@dataclass(frozen=True)
class Evaluation:
    """The REML deviance at one Sigma, with the GLS estimates it implies."""

    deviance: float
    inverse: np.ndarray   # (K, T, T) Sigma_k^-1 embedded in T x T (zeros at unobserved visits)
    cov_beta: np.ndarray  # (X' V^-1 X)^-1
    beta: np.ndarray
    srr: np.ndarray       # (K, T, T) residual cross-products by pattern


def evaluate(m: PatternMoments, sigma: np.ndarray) -> Evaluation | None:
    """Deviance and GLS fit at ``sigma``; None when a pattern's block is not positive definite."""
    both = m.masks[:, :, None] & m.masks[:, None, :]
    T = sigma.shape[0]
    padded = np.where(both, sigma[None], 0.0) + np.eye(T)[None] * (~m.masks)[:, :, None]
    try:
        chol = np.linalg.cholesky(padded)
    except np.linalg.LinAlgError:
        return None
    inverse = np.linalg.inv(padded) * both
    logdet = 2.0 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
    p = m.p
    xvx = (inverse.reshape(-1) @ m.sxx.reshape(-1, p * p)).reshape(p, p)
    xvy = inverse.reshape(-1) @ m.sxy.reshape(-1, p)
    sign, logdet_xvx = np.linalg.slogdet(xvx)
    if sign <= 0:
        return None
    cov_beta = np.linalg.inv(xvx)
    beta = cov_beta @ xvy
    xy_b = m.sxy @ beta                                   # (K, T, T): sum x_s'beta y_t
    srr = m.syy - xy_b - xy_b.transpose(0, 2, 1) + (m.sxx @ beta) @ beta
    quadratic = float(inverse.reshape(-1) @ srr.reshape(-1))
    deviance = float(m.counts @ logdet + logdet_xvx + quadratic + (m.n_obs - m.p) * LOG_2PI)
    return Evaluation(deviance, inverse, cov_beta, beta, srr)


@dataclass(frozen=True)
class Derivatives:
    """First and second derivatives of the REML deviance in ``phi``, and Kenward-Roger's matrices:
    P_i = X'V^-1 V_i V^-1 X, Q_ij = X'V^-1 V_i V^-1 V_j V^-1 X, R_ij = X'V^-1 V_ij V^-1 X."""

    gradient: np.ndarray   # (q,)
    hessian: np.ndarray    # (q, q) observed
    expected: np.ndarray   # (q, q) expected: tr(P V_i P V_j)
    P: np.ndarray          # (q, p, p)
    Q: np.ndarray          # (q, q, p, p)
    R: np.ndarray          # (q, q, p, p)


def derivatives(m: PatternMoments, e: Evaluation, first: np.ndarray, second: np.ndarray) -> Derivatives:
    """Gradient, observed and expected Hessian of the REML deviance (Harville 1977), from the
    pattern sums: with V_i = dV/dphi_i, every trace and quadratic form is a contraction of
    a (K, T, T) weight with ``sxx``, ``srr`` or the X-residual cross-products (one matrix product
    each over the flattened pattern axis)."""
    A, C, n = e.inverse, e.cov_beta, m.counts
    q, p = len(first), m.p
    AD = A[None] @ first[:, None]                                 # (q, K, T, T): A V_i
    B = AD @ A[None]                                              # A V_i A
    BDA = B[:, None] @ AD.transpose(0, 1, 3, 2)[None]             # A V_i A V_j A
    linear = not second.any()
    A2A = None if linear else A[None, None] @ second[:, :, None] @ A[None, None]   # A V_ij A
    sxx = m.sxx.reshape(-1, p * p)
    P = (B.reshape(q, -1) @ sxx).reshape(q, p, p)
    Q = (BDA.reshape(q * q, -1) @ sxx).reshape(q, q, p, p)
    R = np.zeros((q, q, p, p)) if linear else (A2A.reshape(q * q, -1) @ sxx).reshape(q, q, p, p)
    sxr = m.sxy - m.sxx @ e.beta                                  # (K, T, T, p): sum x_s r_t
    u = B.reshape(q, -1) @ sxr.reshape(-1, p)                     # X'V^-1 V_i V^-1 r
    srr = e.srr.reshape(-1)
    CP = C[None] @ P                                              # (q, p, p)
    weighted = (AD * n[None, :, None, None]).reshape(q, -1)
    tr_vv = weighted @ AD.transpose(0, 1, 3, 2).reshape(q, -1).T
    tr_cq = Q.reshape(q, q, -1) @ C.reshape(-1)
    tr_cpcp = CP.reshape(q, -1) @ CP.transpose(0, 2, 1).reshape(q, -1).T
    expected = tr_vv - 2.0 * tr_cq + tr_cpcp
    gradient = (np.einsum("qkss->q", AD * n[None, :, None, None]) - np.einsum("qaa->q", CP)
                - B.reshape(q, -1) @ srr)
    n_a = (A * n[:, None, None]).sum(axis=0)                      # sum_k n_k A_k (T, T)
    tr_pvij = second.reshape(q, q, -1) @ n_a.T.reshape(-1) - R.reshape(q, q, -1) @ C.reshape(-1)
    r_vvv_r = BDA.reshape(q, q, -1) @ srr - u @ C @ u.T
    r_vij_r = 0.0 if linear else A2A.reshape(q, q, -1) @ srr
    hessian = -expected + tr_pvij + 2.0 * r_vvv_r - r_vij_r
    return Derivatives(gradient, (hessian + hessian.T) / 2.0, (expected + expected.T) / 2.0, P, Q, R)
