"""Covariance structures of the MMRM's within-participant residuals (SAP "Sensitivity analyses").

Each structure is described twice:
- in SAS PROC MIXED's own parameters ``phi`` (``REPEATED / TYPE=UN, TOEPH, ARH(1), CS, TOEP, AR(1)``;
  the variances are variances, the correlations are correlations), with the first and second
  derivatives of the visits x visits matrix Sigma in them. Inference is made in these parameters:
  Satterthwaite df do not depend on the parameterisation, but Kenward-Roger's adjusted covariance
  does (its second-derivative term), and SAS's ``DDFM=KR`` numbers are the reference;
- in unconstrained parameters ``theta`` (log standard deviations, log-Cholesky factors, correlations
  through ``rho = t / sqrt(1 + t^2)``), in which the REML fit searches, so that every step is a
  valid covariance matrix. ``to_phi(theta)`` gives ``phi`` and the Jacobian d phi / d theta.

SAP names (``unstructured``, ``toeplitz_heterogeneous``, ``ar1_heterogeneous``,
``compound_symmetry``) are the keys of ``STRUCTURES``; ``toeplitz`` and ``ar1`` (homogeneous) are
there too because SAS's reference results use them.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

UNSTRUCTURED = "unstructured"
TOEPLITZ_HETEROGENEOUS = "toeplitz_heterogeneous"
AR1_HETEROGENEOUS = "ar1_heterogeneous"
COMPOUND_SYMMETRY = "compound_symmetry"
TOEPLITZ = "toeplitz"
AR1 = "ar1"
FALLBACK_ORDER = (UNSTRUCTURED, TOEPLITZ_HETEROGENEOUS, AR1_HETEROGENEOUS, COMPOUND_SYMMETRY)
"""SAP: unstructured first; if it does not converge, the first of these that does."""


@dataclass(frozen=True)
class SigmaDerivatives:
    """Sigma (T x T) and its derivatives in ``phi``: ``first`` (q, T, T), ``second`` (q, q, T, T)."""

    sigma: np.ndarray
    first: np.ndarray
    second: np.ndarray


@dataclass(frozen=True)
class Structure:
    """One covariance structure: its names, size, start, theta -> phi map and Sigma(phi)."""

    name: str
    sas_name: str
    n_parameters: Callable[[int], int]
    start: Callable[[np.ndarray], np.ndarray]          # visit covariance guess -> theta
    to_phi: Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]]
    sigma: Callable[[np.ndarray, int], SigmaDerivatives]
    linear: bool                                          # second derivatives in phi are all zero


def _rho(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A correlation in (-1, 1) from an unconstrained number, and its derivative."""
    root = np.sqrt(1.0 + t**2)
    return t / root, 1.0 / root**3


def _rho_inverse(rho: np.ndarray) -> np.ndarray:
    rho = np.clip(rho, -0.95, 0.95)
    return rho / np.sqrt(1.0 - rho**2)


def _lag(T: int) -> np.ndarray:
    return np.abs(np.subtract.outer(np.arange(T), np.arange(T)))


def _symmetric_unit(T: int, s: int, t: int) -> np.ndarray:
    unit = np.zeros((T, T))
    unit[s, t] = unit[t, s] = 1.0
    return unit


# --- unstructured: phi = the lower triangle of Sigma by rows (SAS UN(1,1), UN(2,1), UN(2,2), ...)

def _lower(T: int) -> tuple[np.ndarray, np.ndarray]:
    return np.tril_indices(T)


def _un_start(cov: np.ndarray) -> np.ndarray:
    T = len(cov)
    try:
        chol = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        chol = np.diag(np.sqrt(np.diag(cov)))
    rows, cols = _lower(T)
    theta = chol[rows, cols].copy()
    diagonal = rows == cols
    theta[diagonal] = np.log(theta[diagonal])
    return theta


def _un_to_phi(theta: np.ndarray, T: int) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = _lower(T)
    diagonal = rows == cols
    chol = np.zeros((T, T))
    chol[rows, cols] = np.where(diagonal, np.exp(theta), theta)
    # d L / d theta_a is one entry: exp(theta) on the diagonal, 1 below it
    d_chol = np.zeros((len(theta), T, T))
    d_chol[np.arange(len(theta)), rows, cols] = np.where(diagonal, chol[rows, cols], 1.0)
    d_sigma = d_chol @ chol.T + chol @ d_chol.transpose(0, 2, 1)
    return (chol @ chol.T)[rows, cols], d_sigma[:, rows, cols].T


def _un_sigma(phi: np.ndarray, T: int) -> SigmaDerivatives:
    rows, cols = _lower(T)
    sigma = np.zeros((T, T))
    sigma[rows, cols] = phi
    sigma[cols, rows] = phi
    first = np.stack([_symmetric_unit(T, s, t) for s, t in zip(rows, cols)])
    return SigmaDerivatives(sigma, first, np.zeros((len(phi), len(phi), T, T)))


# --- heterogeneous structures: phi = (variance of each visit, correlation parameters)

def _heterogeneous(correlation: Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray, np.ndarray]],
                   n_rho: Callable[[int], int]):
    """Sigma = D R(rho) D with D = diag(sqrt(v)): the three functions of a heterogeneous structure."""

    def start(cov: np.ndarray) -> np.ndarray:
        return np.concatenate([0.5 * np.log(np.diag(cov)), np.zeros(n_rho(len(cov)))])

    def to_phi(theta: np.ndarray, T: int) -> tuple[np.ndarray, np.ndarray]:
        variance = np.exp(2.0 * theta[:T])
        rho, d_rho = _rho(theta[T:])
        return np.concatenate([variance, rho]), np.diag(np.concatenate([2.0 * variance, d_rho]))

    def sigma(phi: np.ndarray, T: int) -> SigmaDerivatives:
        v, rho = phi[:T], phi[T:]
        R, dR, d2R = correlation(rho, T)
        sd = np.sqrt(v)
        S = R * np.outer(sd, sd)
        eye = np.eye(T)
        touch = (eye[:, :, None] + eye[:, None, :]) / (2.0 * v[:, None, None])   # (a, s, t)
        d_var = S[None] * touch
        d_rho = dR * np.outer(sd, sd)[None]
        q = T + len(rho)
        second = np.zeros((q, q, T, T))
        second[:T, :T] = S[None, None] * (touch[:, None] * touch[None, :]
                                          - eye[:, :, None, None] * touch[:, None] / v[:, None, None, None])
        cross = d_rho[None] * touch[:, None]                                       # (a, k, s, t)
        second[:T, T:], second[T:, :T] = cross, cross.transpose(1, 0, 2, 3)
        second[T:, T:] = d2R * np.outer(sd, sd)[None, None]
        return SigmaDerivatives(S, np.concatenate([d_var, d_rho]), second)

    return start, to_phi, sigma


def _toeplitz_correlation(rho: np.ndarray, T: int):
    lag = _lag(T)
    R = np.concatenate([[1.0], rho])[lag]
    dR = np.stack([(lag == k).astype(float) for k in range(1, T)])
    return R, dR, np.zeros((T - 1, T - 1, T, T))


def _ar1_correlation(rho: np.ndarray, T: int):
    lag = _lag(T)
    r = float(rho[0])
    R = r**lag
    dR = np.where(lag >= 1, lag * r ** np.maximum(lag - 1, 0), 0.0)
    d2R = np.where(lag >= 2, lag * (lag - 1) * r ** np.maximum(lag - 2, 0), 0.0)
    return R, dR[None], d2R[None, None]


# --- homogeneous structures: one variance; SAS parameters as PROC MIXED lists them

def _toep_start(cov: np.ndarray) -> np.ndarray:
    return np.concatenate([[0.5 * np.log(np.mean(np.diag(cov)))], np.zeros(len(cov) - 1)])


def _toep_to_phi(theta: np.ndarray, T: int) -> tuple[np.ndarray, np.ndarray]:
    """SAS TOEP: phi_k = the covariance at lag k (phi_0 the variance), from (log sd, rho_1..)."""
    variance = np.exp(2.0 * theta[0])
    rho, d_rho = _rho(theta[1:])
    phi = variance * np.concatenate([[1.0], rho])
    jacobian = np.zeros((T, T))
    jacobian[:, 0] = 2.0 * phi
    jacobian[np.arange(1, T), np.arange(1, T)] = variance * d_rho
    return phi, jacobian


def _toep_sigma(phi: np.ndarray, T: int) -> SigmaDerivatives:
    lag = _lag(T)
    first = np.stack([(lag == k).astype(float) for k in range(T)])
    return SigmaDerivatives(phi[lag], first, np.zeros((T, T, T, T)))


def _ar1_start(cov: np.ndarray) -> np.ndarray:
    return np.array([0.5 * np.log(np.mean(np.diag(cov))), 0.0])


def _ar1_to_phi(theta: np.ndarray, T: int) -> tuple[np.ndarray, np.ndarray]:
    """SAS AR(1): (variance, rho)."""
    variance = np.exp(2.0 * theta[0])
    rho, d_rho = _rho(theta[1:])
    return np.array([variance, rho[0]]), np.diag([2.0 * variance, d_rho[0]])


def _ar1_sigma(phi: np.ndarray, T: int) -> SigmaDerivatives:
    variance, rho = phi
    R, dR, d2R = _ar1_correlation(np.array([rho]), T)
    second = np.zeros((2, 2, T, T))
    second[0, 1] = second[1, 0] = dR[0]
    second[1, 1] = variance * d2R[0, 0]
    return SigmaDerivatives(variance * R, np.stack([R, variance * dR[0]]), second)


def _cs_start(cov: np.ndarray) -> np.ndarray:
    T = len(cov)
    return np.array([0.5 * np.log(np.mean(np.diag(cov))), np.log(1.0 / (T - 1))])


def _cs_to_phi(theta: np.ndarray, T: int) -> tuple[np.ndarray, np.ndarray]:
    """SAS CS: (common covariance, residual variance); the correlation is kept in (-1/(T-1), 1)."""
    variance = np.exp(2.0 * theta[0])
    share = 1.0 / (1.0 + np.exp(-theta[1]))
    rho = -1.0 / (T - 1) + share * T / (T - 1)
    d_rho = share * (1.0 - share) * T / (T - 1)
    phi = np.array([variance * rho, variance * (1.0 - rho)])
    jacobian = np.array([[2.0 * phi[0], variance * d_rho], [2.0 * phi[1], -variance * d_rho]])
    return phi, jacobian


def _cs_sigma(phi: np.ndarray, T: int) -> SigmaDerivatives:
    ones, eye = np.ones((T, T)), np.eye(T)
    return SigmaDerivatives(phi[0] * ones + phi[1] * eye, np.stack([ones, eye]), np.zeros((2, 2, T, T)))


_TOEPH = _heterogeneous(_toeplitz_correlation, lambda T: T - 1)
_ARH = _heterogeneous(_ar1_correlation, lambda T: 1)

STRUCTURES: dict[str, Structure] = {s.name: s for s in (
    Structure(UNSTRUCTURED, "UN", lambda T: T * (T + 1) // 2, _un_start, _un_to_phi, _un_sigma, True),
    Structure(TOEPLITZ_HETEROGENEOUS, "TOEPH", lambda T: 2 * T - 1, *_TOEPH, False),
    Structure(AR1_HETEROGENEOUS, "ARH(1)", lambda T: T + 1, *_ARH, False),
    Structure(COMPOUND_SYMMETRY, "CS", lambda T: 2, _cs_start, _cs_to_phi, _cs_sigma, True),
    Structure(TOEPLITZ, "TOEP", lambda T: T, _toep_start, _toep_to_phi, _toep_sigma, True),
    Structure(AR1, "AR(1)", lambda T: 2, _ar1_start, _ar1_to_phi, _ar1_sigma, False),
)}
