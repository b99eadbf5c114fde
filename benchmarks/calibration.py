"""Calibration of the week_3 contrast of the primary model and of the MMRM (SAP "Checks on the
statistics themselves").

    python benchmarks/calibration.py --trials 400 --seed 1 [--effect 3.0]

Simulates trials of the SAP's shape (80 participants, 1:1, three post-baseline visits, a random
intercept, a baseline covariate, 10% of values missing at random; mglt_pipeline/effects/simulate.py)
and fits the primary model (Satterthwaite df) and the MMRM (unstructured, Kenward-Roger) to each.
Reports, for each, the coverage of the 95% CI of the week_3 difference under a planted effect, and
the type I error (p < 0.05) under no effect, each with its Monte Carlo SE sqrt(p (1 - p) / trials).
Goal: coverage 93-97%, type I error 3-7%. Not part of CI.
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits

from mglt_pipeline.arms import arm_labels
from mglt_pipeline.effects.primary import fit_primary, sap_design
from mglt_pipeline.effects.sensitivity import fit_sap_mmrm
from mglt_pipeline.effects.simulate import simulate_analysis_dataset
from mglt_pipeline.visits import FINAL_VISIT

FIELDS = ("ci_low", "ci_high", "p_value", "df", "boundary", "mmrm_ci_low", "mmrm_ci_high", "mmrm_p_value",
          "mmrm_df", "mmrm_unstructured")


def week_3_results(effect: float, trials: int, seed: int) -> dict[str, np.ndarray]:
    """CI bounds, p-value and df of the week_3 contrast of both models in each simulated trial, the
    primary fit's boundary flag and whether the MMRM kept the unstructured covariance."""
    out = {k: np.full(trials, np.nan) for k in FIELDS}
    for t in range(trials):
        rows = simulate_analysis_dataset(effect_by_visit=(effect / 3, 2 * effect / 3, effect),
                                         seed=seed * 1_000_003 + t)
        labels = arm_labels(rows["arm"])
        design = sap_design(rows, labels)
        model = fit_primary(rows, labels, design=design)
        if model.converged:
            contrast = model.contrast(FINAL_VISIT)
            out["ci_low"][t], out["ci_high"][t] = contrast.ci_low, contrast.ci_high
            out["p_value"][t], out["df"][t] = contrast.p_value, contrast.df
            out["boundary"][t] = model.fit.boundary
        mmrm = fit_sap_mmrm(rows, labels, design)
        if mmrm.fit is not None:
            contrast, _ = mmrm.contrast(FINAL_VISIT)
            out["mmrm_ci_low"][t], out["mmrm_ci_high"][t] = contrast.ci_low, contrast.ci_high
            out["mmrm_p_value"][t], out["mmrm_df"][t] = contrast.p_value, contrast.df
            out["mmrm_unstructured"][t] = mmrm.covariance == "unstructured"
    return out


def rate(hits: np.ndarray) -> tuple[float, float]:
    """Proportion and its Monte Carlo SE."""
    p = float(np.mean(hits))
    return p, float(np.sqrt(p * (1 - p) / len(hits)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=400)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--effect", type=float, default=3.0, help="planted week_3 difference")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    with threadpool_limits(limits=1, user_api="blas"):
        planted = week_3_results(args.effect, args.trials, args.seed)
        null = week_3_results(0.0, args.trials, args.seed + 1)
    for name, res in (("planted", planted), ("null", null)):
        failed = int(np.isnan(res["p_value"]).sum())
        print(f"{name}: {args.trials} trials, not fitted {failed}, boundary fits {int(np.nansum(res['boundary']))}, "
              f"median Satterthwaite df {np.nanmedian(res['df']):.1f}; MMRM not fitted "
              f"{int(np.isnan(res['mmrm_p_value']).sum())}, unstructured {int(np.nansum(res['mmrm_unstructured']))}, "
              f"median Kenward-Roger df {np.nanmedian(res['mmrm_df']):.1f}")
    for title, prefix in (("primary model (Satterthwaite)", ""), ("MMRM (unstructured, Kenward-Roger)", "mmrm_")):
        covered = (planted[f"{prefix}ci_low"] < args.effect) & (args.effect < planted[f"{prefix}ci_high"])
        coverage, coverage_se = rate(covered)
        type_1, type_1_se = rate(null[f"{prefix}p_value"] < 0.05)
        power, power_se = rate(planted[f"{prefix}p_value"] < 0.05)
        print(f"{title}:")
        print(f"  coverage of the 95% CI (effect {args.effect:g}): {100 * coverage:.1f}% (MC SE {100 * coverage_se:.1f}%)")
        print(f"  type I error at 0.05 (no effect):        {100 * type_1:.1f}% (MC SE {100 * type_1_se:.1f}%)")
        print(f"  power at 0.05 (effect {args.effect:g}):                 {100 * power:.1f}% (MC SE {100 * power_se:.1f}%)")
    print(f"{2 * args.trials} trials, two models each, in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
