"""REML fit of a mixed model for repeated measures (MMRM), written for speed.

``y_i = X_i beta + e_i`` for participant i, with ``e_i ~ N(0, Sigma[S_i, S_i])`` and Sigma one of the
structures of ``covariance.py``; no random effect (SAP "Sensitivity analyses"; SAS PROC MIXED
``REPEATED visit / SUBJECT=id TYPE=UN``; R ``mmrm``). The likelihood, summed once per pattern of
observed visits, is in ``mmrm_likelihood.py``.

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

from mglt_pipeline.effects.covariance import STRUCTURES, Structure
from mglt_pipeline.effects.mmrm_likelihood import (  # noqa: F401  (pattern_moments: the fit's input)
    Derivatives, PatternMoments, derivatives, evaluate, pattern_moments,
)
from mglt_pipeline.effects.reml import FitError

TOLERANCE = 1e-12
"""Newton decrement g' H^-1 g (REML deviance units) at which the fit has converged."""
MAX_ITERATIONS = 200
MAX_HALVINGS = 40


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
