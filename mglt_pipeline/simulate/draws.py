"""Random draws whose expectation is known exactly, so that planted effects survive rounding.

- ``bounded_normal``: a normal distribution truncated symmetrically at +-2.5 SD and rescaled to the
  requested SD. Symmetric truncation keeps the mean exactly 0 and bounds the support, so that a value
  built from it never needs clipping at an instrument's limits (clipping would bias a planted effect).
- ``stochastic_round``: rounds x to a grid of ``step`` by floor(x / step + U), U ~ Uniform(0, 1);
  its expectation is exactly x, unlike round-to-nearest, and it never leaves [floor, ceil] of x.
- ``placebo_shift``: the planted effect pattern "MgT kept its level, placebo declined" (STUDY.md),
  ramping in over the treatment weeks: at week k the placebo arm is shifted by -effect x k / 3,
  so that active minus placebo is effect x k / 3 in expectation.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

TRUNCATION = 2.5
_PHI = math.exp(-TRUNCATION**2 / 2) / math.sqrt(2 * math.pi)
_MASS = math.erf(TRUNCATION / math.sqrt(2))
_TRUNCATED_SD = math.sqrt(1 - 2 * TRUNCATION * _PHI / _MASS)
HALF_WIDTH = TRUNCATION / _TRUNCATED_SD
"""Largest absolute value of ``bounded_normal(sd=1)``: the support is +-HALF_WIDTH x sd."""

WEEKS = 3


def bounded_normal(rng: np.random.Generator, size, sd: float) -> np.ndarray:
    """Draws with mean 0, standard deviation ``sd`` and support +-HALF_WIDTH x sd."""
    z = rng.standard_normal(size)
    outside = np.abs(z) > TRUNCATION
    while outside.any():
        z[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(z) > TRUNCATION
    return z * (sd / _TRUNCATED_SD)


def stochastic_round(rng: np.random.Generator, x: np.ndarray, step: float = 1.0) -> np.ndarray:
    """Multiples of ``step`` with expectation exactly ``x`` (returned as integer counts of ``step``)."""
    return np.floor(np.asarray(x) / step + rng.random(np.shape(x))).astype(np.int64)


def week_fraction(week: np.ndarray) -> np.ndarray:
    """Share of the full (week_3) effect present at week 0 (baseline) .. 3: k / 3."""
    return np.asarray(week, dtype=float) / WEEKS


def placebo_shift(effect: float, is_placebo: np.ndarray, week: np.ndarray) -> np.ndarray:
    """Participants x periods shift: -effect x k / 3 for placebo at week k, 0 for active."""
    return -effect * np.outer(np.asarray(is_placebo, dtype=float), week_fraction(week))


def check_support(name: str, centre: np.ndarray, half_width: float, shift: np.ndarray,
                  low: float, high: float) -> None:
    """Refuse a planted effect that would push values beyond the instrument's limits.

    A clipped value would bias the planted difference, so the truth would no longer be exact.
    ``centre`` are the item or value means, ``half_width`` the largest random deviation.
    """
    lowest = float(np.min(centre)) - half_width + min(0.0, float(np.min(shift)))
    highest = float(np.max(centre)) + half_width + max(0.0, float(np.max(shift)))
    if lowest < low - 1e-9 or highest > high + 1e-9:
        raise ValueError(
            f"the effect planted on {name} would need values in [{lowest:.2f}, {highest:.2f}], "
            f"beyond the limits [{low}, {high}]: choose a smaller effect"
        )


@dataclass(frozen=True)
class DailySpec:
    """A daily (nightly) value: participant random intercept + day-to-day noise, on a grid of ``step``.

    The weekly mean of such values follows the SAP model ``aval ~ base_c + visit + arm + visit:arm
    + (1 | participant)``: the intercept is shared over all weeks, the daily noise averages out.
    """

    mean: float
    sd_between: float
    sd_within: float
    low: float
    high: float
    step: float = 1.0

    def baseline_sd(self, days: int = 7) -> float:
        """SD between participants of a week's mean (the Hedges' g denominator of the SAP)."""
        return math.sqrt(self.sd_between**2 + self.sd_within**2 / days)


def daily_values(rng: np.random.Generator, name: str, spec: DailySpec, effect: float,
                 is_placebo: np.ndarray, week: np.ndarray) -> np.ndarray:
    """Participants x days values whose expected arm difference at week k is effect x k / 3.

    Values are multiples of ``spec.step``; with an effect planted the support must lie within the
    limits (checked), without one the arms are identically distributed and values are clipped.
    """
    n, days = len(is_placebo), len(week)
    shift = placebo_shift(effect, is_placebo, week)
    if effect != 0:
        check_support(name, np.array([spec.mean]),
                      HALF_WIDTH * (spec.sd_between + spec.sd_within), shift, spec.low, spec.high)
    latent = (spec.mean + bounded_normal(rng, (n, 1), spec.sd_between)
              + bounded_normal(rng, (n, days), spec.sd_within) + shift)
    return np.clip(stochastic_round(rng, latent, spec.step) * spec.step, spec.low, spec.high)
