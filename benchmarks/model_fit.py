"""Time the primary-model fit per outcome: ours, statsmodels MixedLM and R lme4::lmer, same data.

    python benchmarks/model_fit.py [DATA_ROOT] [--reps 20] [--statsmodels-reps 1] [--simulate SEED]

Reads ``analysis_dataset`` from ``DATA_ROOT/warehouse.duckdb`` (or simulates a trial of the SAP's
shape: 80 participants, 37 outcomes). Per outcome, the mean time of one fit from the outcome's
rows (model rows, design, REML fit):
- ours: ``fit_primary`` (profiled REML, mglt_pipeline/effects/reml.py); also the whole per-outcome
  analysis ``effect_table`` (primary + per-protocol fits, Satterthwaite df, means, g, ANCOVA);
- statsmodels: ``smf.mixedlm(...).fit(reml=True)`` with its defaults;
- lme4: ``lme4::lmer(..., REML = TRUE)`` timed inside R over ``--reps`` fits (R start-up excluded).
Prints the median over outcomes of each, the ratio ours / lme4 (goal <= 1) and the largest absolute
difference between the week_3 estimates. Not part of CI.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from compare_with_r import analysis_dataset_from_args, r_input, run_r  # noqa: E402

from mglt_pipeline.effects.primary import ArmLabels, arm_labels, fit_primary, model_rows  # noqa: E402
from mglt_pipeline.effects.tables import effect_table  # noqa: E402


def seconds_per_call(function, reps: int) -> tuple[float, object]:
    """Mean wall time of ``reps`` calls after one warm-up call, and the last result."""
    result = function()
    start = time.perf_counter()
    for _ in range(reps):
        result = function()
    return (time.perf_counter() - start) / reps, result


def statsmodels_fit(rows: pd.DataFrame, labels: ArmLabels) -> float:
    """statsmodels MixedLM by REML on the same model rows; the week_3 contrast."""
    data = model_rows(rows, labels)
    data = data.assign(base_c=data["base"] - data["base"].mean())
    formula = (f"aval ~ base_c + C(visit, Treatment('week_1')) * C(arm, Treatment('{labels.control}'))")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = smf.mixedlm(formula, data, groups=data["participant_id"]).fit(reml=True)
    names = [n for n in fit.fe_params.index if "C(arm" in n and ("week_3" in n or ":" not in n)]
    return float(fit.fe_params[names].sum())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_root", nargs="?", type=Path)
    parser.add_argument("--simulate", type=int, default=1, help="seed of the simulated trial (no DATA_ROOT)")
    parser.add_argument("--reps", type=int, default=20, help="fits per outcome for ours and lme4")
    parser.add_argument("--statsmodels-reps", type=int, default=1)
    args = parser.parse_args(argv)
    data = analysis_dataset_from_args(args)
    labels = arm_labels(data["arm"])
    rows = []
    for outcome, outcome_rows in data.groupby("outcome", sort=False):
        fit_s, model = seconds_per_call(lambda: fit_primary(outcome_rows, labels), args.reps)
        full_s, _ = seconds_per_call(lambda: effect_table(outcome_rows, outcome, labels), max(args.reps // 4, 1))
        sm_s, sm_estimate = seconds_per_call(lambda: statsmodels_fit(outcome_rows, labels), args.statsmodels_reps)
        rows.append({"outcome": outcome, "ours_s": fit_s, "ours_full_s": full_s, "statsmodels_s": sm_s,
                     "ours_estimate": model.contrast("week_3").estimate, "statsmodels_estimate": sm_estimate})
    table = pd.DataFrame(rows)
    if shutil.which("Rscript"):
        lme4 = run_r("bench", r_input(data, labels), [str(args.reps)])
        table = table.merge(lme4.rename(columns={"seconds": "lme4_s", "week_3_estimate": "lme4_estimate"}),
                            on="outcome", how="left")
    print(f"{len(table)} outcomes, {data['participant_id'].nunique()} participants; median seconds per fit:")
    for column, name in (("ours_s", "ours (fit_primary)"), ("ours_full_s", "ours, whole effect_table"),
                         ("statsmodels_s", "statsmodels MixedLM"), ("lme4_s", "lme4::lmer")):
        if column in table:
            print(f"  {name:<26} {table[column].median():.5f}")
    sm_diff = np.nanmax(np.abs(table["ours_estimate"] - table["statsmodels_estimate"]))
    print(f"largest |ours - statsmodels| week_3 estimate: {sm_diff:.2e}")
    if "lme4_s" in table:
        print(f"ratio ours / lme4 (median of per-outcome ratios): {(table['ours_s'] / table['lme4_s']).median():.3f}")
        print(f"largest |ours - lme4| week_3 estimate: "
              f"{np.nanmax(np.abs(table['ours_estimate'] - table['lme4_estimate'])):.2e}")
    else:
        print("Rscript not found: lme4 not timed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
