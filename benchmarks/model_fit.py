"""Time the model fits per outcome: the primary model (ours, statsmodels MixedLM, R lme4::lmer) and
the MMRM with Kenward-Roger (ours, R nlme::gls), same data, one run.

    python benchmarks/model_fit.py [DATA_ROOT] [--reps 20] [--statsmodels-reps 1] [--simulate SEED]

Reads ``analysis_dataset`` from ``DATA_ROOT/warehouse.duckdb`` (or simulates a trial of the SAP's
shape: 80 participants, 37 outcomes). Per outcome, the mean time of one fit from the outcome's
rows (model rows, design, REML fit):
- ours: ``fit_primary`` (profiled REML, mglt_pipeline/effects/reml.py); also the whole per-outcome
  analysis ``effect_table`` (primary + per-protocol fits, Satterthwaite df, means, g, ANCOVA);
- statsmodels: ``smf.mixedlm(...).fit(reml=True)`` with its defaults;
- lme4: ``lme4::lmer(..., REML = TRUE)`` timed inside R over ``--reps`` fits (R start-up excluded);
- MMRM: ours, ``fit_sap_mmrm`` (unstructured REML fit from the outcome's rows) and the week_3
  contrast with Kenward-Roger SE and df; ``nlme::gls`` with corSymm + varIdent by REML and gls's
  default control, timed inside R (scripts/gls_reference.R; gls gives no Kenward-Roger, which ours
  includes).
Our fits share the SAP design built once for the dataset, as the pipeline does (its time printed apart).
Prints the median over outcomes of each, the ratios ours / lme4 and ours / gls (goal <= 1), the total
of the 37 MMRMs with KR (goal < 1 s), and the largest differences between week_3 estimates. BLAS on
one thread, as in the pipeline. Not part of CI.
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
from compare_with_r import GLS_SCRIPT, analysis_dataset_from_args, gls_input, r_input, run_r  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from mglt_pipeline.arms import ArmLabels, arm_labels  # noqa: E402
from mglt_pipeline.effects.primary import fit_primary, model_rows, sap_design  # noqa: E402
from mglt_pipeline.effects.sensitivity import fit_sap_mmrm  # noqa: E402
from mglt_pipeline.effects.tables import effect_table  # noqa: E402
from mglt_pipeline.visits import FINAL_VISIT  # noqa: E402


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
    data = analysis_dataset_from_args(args).reset_index(drop=True)
    labels = arm_labels(data["arm"])
    with threadpool_limits(limits=1, user_api="blas"):
        table, design_s, mmrm_pass = time_ours(data, labels, args)
    print(f"SAP design of the whole dataset (formulaic, once per run): {design_s:.3f} s")
    if shutil.which("Rscript"):
        gls = run_r("bench", gls_input(data, labels), [str(max(args.reps // 4, 1))], GLS_SCRIPT)
        table = table.merge(gls.rename(columns={"seconds": "gls_s"}), on="outcome", how="left")
        gls_fit = run_r("fit", gls_input(data, labels), [], GLS_SCRIPT)
        gls_fit = gls_fit.loc[gls_fit["visit"] == FINAL_VISIT, ["outcome", "estimate"]]
        table = table.merge(gls_fit.rename(columns={"estimate": "gls_estimate"}), on="outcome", how="left")
        lme4 = run_r("bench", r_input(data, labels), [str(args.reps)])
        table = table.merge(lme4.rename(columns={"seconds": "lme4_s", "week_3_estimate": "lme4_estimate"}),
                            on="outcome", how="left")
    print(f"{len(table)} outcomes, {data['participant_id'].nunique()} participants; median seconds per fit:")
    for column, name in (("ours_s", "ours (fit_primary)"), ("ours_full_s", "ours, whole effect_table"),
                         ("statsmodels_s", "statsmodels MixedLM"), ("lme4_s", "lme4::lmer"),
                         ("mmrm_s", "ours MMRM + Kenward-Roger"), ("gls_s", "nlme::gls (UN)")):
        if column in table:
            print(f"  {name:<26} {table[column].median():.5f}")
    print(f"all {len(table)} MMRMs with Kenward-Roger: {table['mmrm_s'].sum():.3f} s as the sum of the means; "
          f"one pass {mmrm_pass[0]:.3f} s wall, {mmrm_pass[1]:.3f} s CPU of this process "
          f"(+ {design_s:.3f} s for the design, once)")
    if "gls_s" in table:
        print(f"ratio ours MMRM+KR / nlme::gls (median of per-outcome ratios): "
              f"{(table['mmrm_s'] / table['gls_s']).median():.3f}; totals {table['mmrm_s'].sum():.3f} s "
              f"vs {table['gls_s'].sum():.3f} s")
        print(f"largest |ours - gls| week_3 MMRM estimate: "
              f"{np.nanmax(np.abs(table['mmrm_estimate'] - table['gls_estimate'])):.2e}")
    sm_diff = np.nanmax(np.abs(table["ours_estimate"] - table["statsmodels_estimate"]))
    print(f"largest |ours - statsmodels| week_3 estimate: {sm_diff:.2e}")
    if "lme4_s" in table:
        print(f"ratio ours / lme4 (median of per-outcome ratios): {(table['ours_s'] / table['lme4_s']).median():.3f}")
        print(f"largest |ours - lme4| week_3 estimate: "
              f"{np.nanmax(np.abs(table['ours_estimate'] - table['lme4_estimate'])):.2e}")
    else:
        print("Rscript not found: lme4 not timed")
    return 0


def time_ours(data: pd.DataFrame, labels: ArmLabels, args: argparse.Namespace):
    """Our seconds per fit of each model per outcome (the SAP design built once and shared, as in the
    pipeline), the time of that design, and (wall, CPU) seconds of one pass of the 37 MMRMs with KR."""
    design_s, design = seconds_per_call(lambda: sap_design(data, labels), 1)
    rows = []
    for outcome, outcome_rows in data.groupby("outcome", sort=False):
        fit_s, model = seconds_per_call(lambda: fit_primary(outcome_rows, labels, design=design), args.reps)
        full_s, _ = seconds_per_call(lambda: effect_table(outcome_rows, outcome, labels, design),
                                     max(args.reps // 4, 1))
        sm_s, sm_estimate = seconds_per_call(lambda: statsmodels_fit(outcome_rows, labels), args.statsmodels_reps)
        mmrm_s, mmrm = seconds_per_call(lambda: mmrm_with_kr(outcome_rows, labels, design), args.reps)
        rows.append({"outcome": outcome, "ours_s": fit_s, "ours_full_s": full_s, "statsmodels_s": sm_s,
                     "ours_estimate": model.contrast("week_3").estimate, "statsmodels_estimate": sm_estimate,
                     "mmrm_s": mmrm_s, "mmrm_estimate": mmrm.estimate})
    wall, cpu = time.perf_counter(), time.process_time()
    for _, outcome_rows in data.groupby("outcome", sort=False):
        mmrm_with_kr(outcome_rows, labels, design)
    return pd.DataFrame(rows), design_s, (time.perf_counter() - wall, time.process_time() - cpu)


def mmrm_with_kr(rows: pd.DataFrame, labels: ArmLabels, design):
    """The SAP's MMRM from the outcome's rows and its week_3 contrast with Kenward-Roger SE and df."""
    return fit_sap_mmrm(rows, labels, design).contrast(FINAL_VISIT)[0]


if __name__ == "__main__":
    sys.exit(main())
