"""REML fit of a mixed model for repeated measures (MMRM), written for speed.

``y_i = X_i beta + e_i`` for participant i, with ``e_i ~ N(0, Sigma[S_i, S_i])``: one visits x visits
covariance matrix Sigma (a structure of ``covariance.py``), of which each participant contributes
the rows and columns of the visits S_i it has a value at. No random effect (SAP "Sensitivity
analyses"; SAS PROC MIXED ``REPEATED visit / SUBJECT=id TYPE=UN``; R ``mmrm``).

Why it can be fast: participants with the same pattern of observed visits share their covariance
block, so every quantity of the REML likelihood is a sum over patterns (at most 2^T - 1, not
participants) of small weight matrices contracted with the pattern's cross-products of X and y,
computed once. One evaluation costs O(patterns x T^2 x p^2) whatever the number of participants.

The search is Newton's method in unconstrained parameters (``covariance.py``) with the analytic
gradient and the observed Hessian of the REML deviance (Fisher scoring while the Hessian is not
positive definite), and step halving. Convergence is judged, not assumed: the Newton decrement
must fall below ``TOLERANCE`` and the Hessian at the optimum must be positive definite. The
derivative matrices Kenward-Roger needs (P, Q, R of Kenward & Roger 1997) are kept from the last
evaluation, in SAS's parameters.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mglt_pipeline.effects.covariance import STRUCTURES, Structure
from mglt_pipeline.effects.reml import FitError

TOLERANCE = 1e-12
"""Newton decrement g' H^-1 g (REML deviance units) at which the fit has converged."""
MAX_ITERATIONS = 200
MAX_HALVINGS = 40
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


@dataclass(frozen=True)
class MmrmFit:
    """A REML fit of one covariance structure: estimates, the information for inference, and how
    the search ended (``converged`` and ``message``)."""

    structure: Structure
    n_visits: int
    phi: np.ndarray
    sigma: np.ndarray
    beta: np.ndarray
    cov_beta: np.ndarray
    deviance: float
    derivatives: Derivatives
    iterations: int
    converged: bool
    message: str
    n_obs: int
    n_subjects: int


def _at(m: PatternMoments, structure: Structure, theta: np.ndarray, T: int):
    phi, jacobian = structure.to_phi(theta, T)
    s = structure.sigma(phi, T)
    return phi, jacobian, s, evaluate(m, s.sigma)


def starting_covariance(m: PatternMoments) -> np.ndarray:
    """Visit covariance of the OLS residuals (pairwise over the participants seen at both visits)."""
    xtx = np.einsum("kssab->ab", m.sxx)
    xty = np.einsum("kssa->a", m.sxy)
    beta = np.linalg.lstsq(xtx, xty, rcond=None)[0]
    xy_b = m.sxy @ beta
    srr = (m.syy - xy_b - xy_b.transpose(0, 2, 1) + np.einsum("kstab,a,b->kst", m.sxx, beta, beta)).sum(0)
    both = (m.counts[:, None, None] * (m.masks[:, :, None] & m.masks[:, None, :])).sum(0)
    cov = srr / np.maximum(both, 1.0)
    variance = np.maximum(np.diag(cov), 1e-8 * max(np.diag(cov).max(), 1e-300))
    sd = np.sqrt(variance)
    corr = np.clip(np.where(both > 1, cov / np.outer(sd, sd), 0.0), -0.9, 0.9)
    np.fill_diagonal(corr, 1.0)
    return corr * np.outer(sd, sd)


def fit_mmrm(m: PatternMoments, structure_name: str, n_subjects: int) -> MmrmFit:
    """REML fit of one structure; raises ``FitError`` when no valid start exists. A search that
    ends in numbers that are not finite (a variance running to 0 or a correlation to 1) is reported
    as not converged."""
    with np.errstate(all="ignore"):
        return _fit(m, STRUCTURES[structure_name], n_subjects)


def _fit(m: PatternMoments, structure: Structure, n_subjects: int) -> MmrmFit:
    T = m.masks.shape[1]
    theta = structure.start(starting_covariance(m))
    phi, jacobian, s, e = _at(m, structure, theta, T)
    if e is None:
        raise FitError("no valid starting covariance (a visit without variance)")
    converged, message, iteration = False, "", 0
    d = derivatives(m, e, s.first, s.second)
    for iteration in range(1, MAX_ITERATIONS + 1):
        gradient = jacobian.T @ d.gradient
        try:
            step, decrement = _newton_step(jacobian, d, gradient)
        except np.linalg.LinAlgError:
            message = ("the information matrix is singular: a covariance parameter is not identified by "
                       "the data (for example two visits never observed in the same participant)")
            break
        if not np.isfinite(decrement):
            message = "the derivatives are not finite (a variance at 0 or a correlation at 1)"
            break
        if decrement < TOLERANCE:
            converged = True
            break
        theta, phi, jacobian, s, e, ok = _line_search(m, structure, theta, step, e.deviance, T)
        d = derivatives(m, e, s.first, s.second)
        if not ok:
            message = "no step lowers the REML deviance (flat or ill-conditioned likelihood)"
            break
    else:
        message = f"no convergence in {MAX_ITERATIONS} iterations"
    finite = all(np.all(np.isfinite(a)) for a in (d.hessian, e.beta, e.cov_beta, phi))
    if converged and not finite:
        converged, message = False, "the estimates are not finite (a variance at 0 or a correlation at 1)"
    elif converged and np.any(np.linalg.eigvalsh(d.hessian) <= 0):
        converged, message = False, "the Hessian at the end is not positive definite (not a maximum)"
    return MmrmFit(structure, T, phi, s.sigma, e.beta, e.cov_beta, e.deviance, d, iteration,
                   converged, message or "converged", m.n_obs, n_subjects)


def mmrm_at(m: PatternMoments, structure_name: str, phi: np.ndarray, n_subjects: int) -> MmrmFit:
    """The model at given covariance parameters ``phi`` (SAS's ``PARMS ... / NOITER``): GLS
    estimates and the derivatives for inference there, without a search (``converged`` False)."""
    structure = STRUCTURES[structure_name]
    T = m.masks.shape[1]
    s = structure.sigma(np.asarray(phi, dtype=float), T)
    e = evaluate(m, s.sigma)
    if e is None:
        raise FitError("the given covariance parameters are not positive definite for every pattern")
    return MmrmFit(structure, T, np.asarray(phi, dtype=float), s.sigma, e.beta, e.cov_beta, e.deviance,
                   derivatives(m, e, s.first, s.second), 0, False, "evaluated at given parameters",
                   m.n_obs, n_subjects)


def _newton_step(jacobian: np.ndarray, d: Derivatives, gradient: np.ndarray) -> tuple[np.ndarray, float]:
    """Newton step in theta with the observed Hessian, or Fisher scoring where it is not PD."""
    if not (np.all(np.isfinite(d.hessian)) and np.all(np.isfinite(d.expected)) and np.all(np.isfinite(gradient))):
        return gradient, float("nan")
    for information in (d.hessian, d.expected):
        M = jacobian.T @ information @ jacobian
        try:
            np.linalg.cholesky(M)
        except np.linalg.LinAlgError:
            continue
        step = np.linalg.solve(M, gradient)
        return step, float(gradient @ step)
    step = np.linalg.lstsq(jacobian.T @ d.expected @ jacobian, gradient, rcond=None)[0]
    return step, float(abs(gradient @ step))


def _line_search(m, structure, theta, step, deviance, T):
    """Halve the step until the deviance does not rise (and Sigma stays valid)."""
    t = 1.0
    for _ in range(MAX_HALVINGS):
        candidate = theta - t * step
        phi, jacobian, s, e = _at(m, structure, candidate, T)
        if e is not None and np.isfinite(e.deviance) and e.deviance <= deviance + 1e-10 * abs(deviance):
            return candidate, phi, jacobian, s, e, True
        t /= 2.0
    phi, jacobian, s, e = _at(m, structure, theta, T)
    return theta, phi, jacobian, s, e, False
