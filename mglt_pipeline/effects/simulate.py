"""Simulated analysis datasets with known treatment effects, for tests, calibration and benchmarks.

The data-generating model is the SAP's primary model itself: a random intercept per participant,
a baseline covariate, visit effects and an arm-by-visit effect, with values missing completely at
random. Knowing the true week_3 difference lets the tests check that the 95% CI covers it and the
calibration study check coverage and type I error (SAP "Checks on the statistics themselves").
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from mglt_pipeline.arms import ACTIVE, ARM_CODES, PLACEBO
from mglt_pipeline.visits import POST_BASELINE_VISITS

VISITS = POST_BASELINE_VISITS


def simulate_analysis_dataset(
    outcome: str = "simulated_outcome",
    n_participants: int = 80,
    effect_by_visit: Sequence[float] = (0.0, 0.0, 0.0),
    seed: int = 0,
    stream: int = 0,
    blinded: bool = False,
    baseline_mean: float = 50.0,
    baseline_sd: float = 10.0,
    baseline_slope: float = 0.6,
    visit_shift: Sequence[float] = (1.0, 1.5, 2.0),
    sd_between: float = 5.0,
    sd_within: float = 4.0,
    missing_rate: float = 0.1,
    pp_rate: float = 0.85,
) -> pd.DataFrame:
    """One outcome's rows of ``analysis_dataset``; the true week_3 difference is ``effect_by_visit[2]``.

    ``seed`` fixes the participants, their arms and adherence; ``stream`` the outcome's values, so
    outcomes of one trial share participants but not noise.

    ``aval = baseline_mean + visit_shift[v] + baseline_slope (base - baseline_mean)
    + active * effect_by_visit[v] + b_i + e_iv``, half of the participants active.
    """
    design = np.random.default_rng(seed)
    ids = np.array([f"SIM{i:03d}" for i in range(1, n_participants + 1)])
    active = design.permutation(np.arange(n_participants) < n_participants // 2)
    adherent = design.random(n_participants) < pp_rate
    rng = np.random.default_rng([seed, stream])
    base = rng.normal(baseline_mean, baseline_sd, n_participants)
    intercept = rng.normal(0.0, sd_between, n_participants)
    n_visits = len(VISITS)
    mean = (baseline_mean + np.asarray(visit_shift, float)[None, :]
            + baseline_slope * (base - baseline_mean)[:, None]
            + active[:, None] * np.asarray(effect_by_visit, float)[None, :])
    aval = mean + intercept[:, None] + rng.normal(0.0, sd_within, (n_participants, n_visits))
    aval[rng.random(aval.shape) < missing_rate] = np.nan
    fas = ~np.isnan(aval).all(axis=1)
    pp = fas & adherent
    labels = np.where(active, ARM_CODES[1], ARM_CODES[0]) if blinded else np.where(active, ACTIVE, PLACEBO)
    return pd.DataFrame({
        "participant_id": np.repeat(ids, n_visits),
        "arm": np.repeat(labels, n_visits),
        "outcome": outcome,
        "visit": np.tile(VISITS, n_participants),
        "visit_num": np.tile(np.arange(1, n_visits + 1), n_participants),
        "aval": aval.ravel(),
        "base": np.repeat(base, n_visits),
        "chg": aval.ravel() - np.repeat(base, n_visits),
        "fas": np.repeat(fas, n_visits),
        "pp": np.repeat(pp, n_visits),
    })


def simulate_trial(effects: dict[str, Sequence[float]], seed: int = 0, **kwargs) -> pd.DataFrame:
    """Several outcomes of one simulated trial: the same participants and arms, noise of their own."""
    frames = [simulate_analysis_dataset(outcome=o, effect_by_visit=e, seed=seed, stream=k, **kwargs)
              for k, (o, e) in enumerate(effects.items(), start=1)]
    return pd.concat(frames, ignore_index=True)
