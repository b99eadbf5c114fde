"""Fit every outcome with our code and with R; compare. Primary model: lme4 + lmerTest + emmeans;
MMRM: nlme::gls (corSymm + varIdent by visit, REML: the unstructured covariance).

    python scripts/compare_with_r.py DATA_ROOT [--lme4-defaults]
    python scripts/compare_with_r.py --simulate SEED

Reads ``analysis_dataset`` from ``DATA_ROOT/warehouse.duckdb`` (or simulates a trial of the SAP's
shape), fits the SAP's primary model per outcome both ways, and prints per outcome the largest
difference over the three visits of each compared quantity, then the maxima and a verdict.

How a difference is measured (a plain relative difference is meaningless for a quantity near 0,
e.g. a week_1 contrast of 1e-15 or a boundary sigma_b):
- contrast estimate and adjusted means: |ours - R| / max(|R|, SE_R), SE_R being R's SE of that
  same quantity (so an estimate near 0 is judged on the scale of its uncertainty);
- sigma_b: |ours - R| / max(sigma_b_R, sigma_e_R);
- SE, Satterthwaite df, p, interaction p, sigma_e: relative, |ours - R| / |R|.

Acceptance (SAP "Checks on the statistics themselves"; the project's acceptance line): at every
visit of every outcome we fit, estimate <= 1e-3 and SE <= 1e-3 (as above) and p <= 1e-3 relative
(stricter than an absolute 1e-3). The exit status is 1 when an outcome breaks them, or when R gives
no estimate for an outcome we fit. Outcomes we do not fit are listed with R's result for them; an
outcome that R fits and we call unfittable is named as such (reported, not counted as a breach: our
rules for "not fittable" are stricter than lme4's, e.g. at least 2 participants per arm).
By default R's optimizer runs with tight tolerances (see scripts/lmer_reference.R) so that the
comparison tests the mathematics; ``--lme4-defaults`` shows the agreement with lme4's default
stopping rule.

MMRM (SAP "Checks on the statistics themselves"): the contrast active minus placebo at every visit
from our unstructured MMRM against ``nlme::gls`` on the same rows (scripts/gls_reference.R):
estimate |ours - R| / max(|R|, SE_R) <= 1e-6 and model-based SE (before the Kenward-Roger
adjustment; gls has none) relative <= 1e-5. An outcome whose MMRM fell back to another structure is
listed, not compared. When R's ``mmrm`` package loads (it is not on Debian's or this machine's
package lists: build it from its repository), the Kenward-Roger SE and df are compared with its
``Kenward-Roger-Linear`` (SAS's KR for TYPE=UN) and printed, for information: mmrm's default optimizer
stops short of the REML optimum by a few 1e-6 in the deviance, which bounds the agreement.
Not part of CI (needs Rscript).
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from mglt_pipeline.arms import ArmLabels, arm_labels
from mglt_pipeline.effects.covariance import UNSTRUCTURED
from mglt_pipeline.effects.primary import contrast_weights, sap_design
from mglt_pipeline.effects.sensitivity import fit_sap_mmrm
from mglt_pipeline.effects.simulate import simulate_trial
from mglt_pipeline.effects.tables import effect_table
from mglt_pipeline.registry import OUTCOMES
from mglt_pipeline.resources import WAREHOUSE_FILE
from mglt_pipeline.visits import FINAL_VISIT, POST_BASELINE_VISITS

R_SCRIPT = Path(__file__).resolve().parent / "lmer_reference.R"
GLS_SCRIPT = Path(__file__).resolve().parent / "gls_reference.R"
MMRM_SCRIPT = Path(__file__).resolve().parent / "mmrm_kr_reference.R"
MMRM_TOLERANCES = {"estimate": 1e-6, "se": 1e-5}
# quantity -> how its difference is scaled: ("se", R's SE column after the merge), ("sigma", None)
# or ("relative", None)
COMPARED = {
    "estimate": ("se", "se_r"),
    "se": ("relative", None),
    "df": ("relative", None),
    "p_value": ("relative", None),
    "mean_placebo": ("se", "mean_placebo_se"),
    "mean_active": ("se", "mean_active_se"),
    "interaction_p": ("relative", None),
    "sigma_b": ("sigma", None),
    "sigma_e": ("relative", None),
}
TOLERANCES = {"estimate": 1e-3, "se": 1e-3, "p_value": 1e-3}
R_NAMES = {"mean_control": "mean_placebo", "mean_control_se": "mean_placebo_se"}


def load_analysis_dataset(data_root: Path) -> pd.DataFrame:
    """``analysis_dataset`` of a data root's warehouse, read-only."""
    with duckdb.connect(str(data_root / WAREHOUSE_FILE), read_only=True) as con:
        return con.sql("select * from main.analysis_dataset").df()


def analysis_dataset_from_args(args: argparse.Namespace) -> pd.DataFrame:
    """The warehouse's analysis dataset, or a simulated trial of all registry outcomes."""
    if args.data_root is not None:
        return load_analysis_dataset(args.data_root)
    effects = {o.id: (0.0, 0.0, 2.0 if k % 4 == 0 else 0.0) for k, o in enumerate(OUTCOMES)}
    return simulate_trial(effects, seed=args.simulate)


def r_input(analysis_dataset: pd.DataFrame, labels: ArmLabels) -> pd.DataFrame:
    """The columns the R reference scripts read (fas as 0/1, the arm labels and the visits spelled out)."""
    frame = analysis_dataset[["outcome", "participant_id", "arm", "visit", "aval", "base"]].copy()
    return frame.assign(fas=analysis_dataset["fas"].astype(int), control=labels.control, active=labels.active,
                        visits="|".join(POST_BASELINE_VISITS))


def run_r(mode: str, frame: pd.DataFrame, extra: list[str], script: Path = R_SCRIPT) -> pd.DataFrame:
    """Run an R reference script (lmer_reference.R by default) in ``mode`` on ``frame``; its CSV output."""
    if shutil.which("Rscript") is None:
        raise SystemExit("Rscript not found: R with lme4, lmerTest, emmeans and nlme is needed")
    with tempfile.TemporaryDirectory() as tmp:
        source, result = Path(tmp) / "analysis.csv", Path(tmp) / "result.csv"
        frame.to_csv(source, index=False)
        subprocess.run(["Rscript", str(script), mode, str(source), str(result), *extra], check=True,
                       stderr=subprocess.DEVNULL)
        return pd.read_csv(result)


def gls_input(analysis_dataset: pd.DataFrame, labels: ArmLabels) -> pd.DataFrame:
    """The input of gls_reference.R and mmrm_kr_reference.R: the same as lmer_reference.R's."""
    return r_input(analysis_dataset, labels)


def ours_mmrm(analysis_dataset: pd.DataFrame, labels: ArmLabels) -> pd.DataFrame:
    """Our MMRM's contrast at every visit of every outcome: estimate, model-based SE, structure."""
    data = analysis_dataset.reset_index(drop=True)
    design = sap_design(data, labels)
    records = []
    for outcome_id, rows in data.groupby("outcome", sort=False):
        mmrm = fit_sap_mmrm(rows, labels, design)
        for visit in design.levels["visit"]:
            record = {"outcome": outcome_id, "visit": visit, "covariance": mmrm.covariance}
            if mmrm.fit is not None:
                c = mmrm.inference.contrast(contrast_weights(design, labels, visit))
                record.update(estimate=c.estimate, se=c.se_model, se_kr=c.se, df_kr=c.df)
            records.append(record)
    return pd.DataFrame(records)


def mmrm_differences(our: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """Per outcome, the largest difference over the visits: estimate |ours - R| / max(|R|, SE_R),
    SE relative; unstructured fits only."""
    both = our.loc[our["covariance"] == UNSTRUCTURED].merge(reference, on=["outcome", "visit"],
                                                            suffixes=("", "_r"))
    scale = np.maximum(np.abs(both["estimate_r"]), both["se_r"])
    diffs = pd.DataFrame({"outcome": both["outcome"],
                          "estimate": np.abs(both["estimate"] - both["estimate_r"]) / scale,
                          "se": np.abs(both["se"] - both["se_r"]) / both["se_r"]})
    return diffs.groupby("outcome", sort=False).max()


def compare_mmrm(data: pd.DataFrame, labels: ArmLabels) -> list[str]:
    """Print the MMRM-versus-gls comparison; the breaches of ``MMRM_TOLERANCES``."""
    our = ours_mmrm(data, labels)
    reference = run_r("fit", gls_input(data, labels), [], GLS_SCRIPT)
    diffs = mmrm_differences(our, reference)
    structures = our.drop_duplicates("outcome").set_index("outcome")["covariance"]
    other = structures.loc[structures != UNSTRUCTURED]
    print(f"\nMMRM: {len(diffs)} outcomes with an unstructured fit compared with nlme::gls "
          "(corSymm + varIdent, REML); estimate |ours - R| / max(|R|, SE_R), model-based SE relative")
    for outcome_id, structure in other.items():
        print(f"  {outcome_id}: ours {structure or 'not fitted'}; not compared")
    print(diffs.map(lambda v: f"{v:.1e}").to_string())
    print("max:", "  ".join(f"{k}={v:.1e}" for k, v in diffs.max().items()))
    failed = [f"{o}: MMRM {name} differs by {row[name]:.1e} > {tol:g}"
              for o, row in diffs.iterrows() for name, tol in MMRM_TOLERANCES.items()
              if not row[name] <= tol]
    failed += [f"{o}: gls gives no estimate" for o in structures.index
               if structures[o] == UNSTRUCTURED and o not in diffs.index]
    compare_kenward_roger(our, data, labels)
    return failed


def compare_kenward_roger(our: pd.DataFrame, data: pd.DataFrame, labels: ArmLabels) -> None:
    """Print how our Kenward-Roger SE and df differ from R mmrm's, when the package is installed."""
    has_mmrm = subprocess.run(["Rscript", "-e", "quit(status = !requireNamespace('mmrm', quietly = TRUE))"],
                              capture_output=True).returncode == 0
    if not has_mmrm:
        print("R package mmrm not installed: Kenward-Roger not compared with R")
        return
    reference = run_r("fit", gls_input(data, labels), [], MMRM_SCRIPT).rename(
        columns={"estimate": "estimate_r", "se": "se_r", "df": "df_r"})
    both = our.loc[our["covariance"] == UNSTRUCTURED].merge(reference, on=["outcome", "visit"])
    estimate = (np.abs(both["estimate"] - both["estimate_r"])
                / np.maximum(np.abs(both["estimate_r"]), both["se_r"]))
    se, df = (np.abs(both[a] - both[b]) / both[b] for a, b in (("se_kr", "se_r"), ("df_kr", "df_r")))
    print(f"Kenward-Roger against R mmrm ({len(both)} contrasts, for information): estimate max {estimate.max():.1e}, "
          f"KR SE max {se.max():.1e} (median {se.median():.1e}), KR df max {df.max():.1e} (median {df.median():.1e})")


def ours(analysis_dataset: pd.DataFrame, labels: ArmLabels) -> pd.DataFrame:
    """Our effect tables of every outcome in the dataset, stacked."""
    ids = [o.id for o in OUTCOMES if o.id in set(analysis_dataset["outcome"])]
    return pd.concat([effect_table(analysis_dataset, o, labels) for o in ids], ignore_index=True)


def scaled_differences(our: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """Per outcome, the largest difference over the visits of each ``COMPARED`` quantity (see the
    module docstring for the scale of each); rows we fitted only. NaN where R has no value."""
    reference = reference.rename(columns=R_NAMES)
    both = our.loc[our["converged"]].merge(reference, on=["outcome", "visit"], suffixes=("", "_r"))
    diffs = pd.DataFrame({"outcome": both["outcome"]})
    for name, (kind, se_column) in COMPARED.items():
        r = both[f"{name}_r"].to_numpy(float)
        if kind == "se":
            scale = np.maximum(np.abs(r), both[se_column].to_numpy(float))
        elif kind == "sigma":
            scale = np.maximum(np.abs(r), both["sigma_e_r"].to_numpy(float))
        else:
            scale = np.abs(r)
        diff = np.abs(both[name].to_numpy(float) - r)
        diffs[name] = np.where(scale > 0, diff / np.where(scale > 0, scale, 1.0), diff)
    return diffs.groupby("outcome", sort=False).max()


def r_final_result(reference: pd.DataFrame, outcome_id: str) -> str:
    """R's week_3 contrast of one outcome as text (or its error), for the not-fitted line."""
    rows = reference.loc[reference["outcome"] == outcome_id]
    final = rows.loc[rows["visit"] == FINAL_VISIT]
    if not final.empty and np.isfinite(final["estimate"].iloc[0]) and np.isfinite(final["se"].iloc[0]):
        dropped = int(final["dropped_columns"].iloc[0]) if "dropped_columns" in final else 0
        caveat = f" after dropping {dropped} rank-deficient fixed-effect column(s)" if dropped else ""
        return f"R FITS IT{caveat}: week_3 {final['estimate'].iloc[0]:.4g} (SE {final['se'].iloc[0]:.3g})"
    if "error" in rows and rows["error"].notna().any():
        return f"R fails too: {rows['error'].dropna().iloc[0].strip()}"
    return "R gives no week_3 estimate (not estimable)"


def breaches(diffs: pd.DataFrame) -> list[str]:
    """Outcomes over an acceptance tolerance, or without an R value for a quantity judged."""
    found = []
    for outcome_id, row in diffs.iterrows():
        for name, tolerance in TOLERANCES.items():
            if not np.isfinite(row[name]):
                found.append(f"{outcome_id}: R gives no {name}")
            elif row[name] > tolerance:
                found.append(f"{outcome_id}: {name} differs by {row[name]:.1e} > {tolerance:g}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_root", nargs="?", type=Path)
    parser.add_argument("--simulate", type=int, default=1, help="seed of the simulated trial (no DATA_ROOT)")
    parser.add_argument("--lme4-defaults", action="store_true", help="lme4's default optimizer settings")
    args = parser.parse_args(argv)
    data = analysis_dataset_from_args(args)
    labels = arm_labels(data["arm"])
    our = ours(data, labels)
    reference = run_r("fit", r_input(data, labels), ["default" if args.lme4_defaults else "tight"])
    diffs = scaled_differences(our, reference)
    not_fitted = [o for o in dict.fromkeys(our["outcome"]) if not our.loc[our["outcome"] == o, "converged"].any()]
    pd.set_option("display.width", 200)
    print(f"{len(diffs)} outcomes fitted by us and compared with R "
          f"({'lme4 default optimizer' if args.lme4_defaults else 'R optimizer with tight tolerances'})")
    print(f"not fitted by us ({len(not_fitted)}):", "none" if not not_fitted else "")
    for outcome_id in not_fitted:
        ours_message = our.loc[our["outcome"] == outcome_id, "message"].iloc[0].split("; ")[0]
        print(f"  {outcome_id}: ours {ours_message}; "
              f"{r_final_result(reference, outcome_id)}")
    r_only = [o for o in not_fitted if r_final_result(reference, o).startswith("R FITS")]
    if r_only:
        print(f"R fits {len(r_only)} outcome(s) we call unfittable: {r_only}")
    print("difference, max over the visits: estimate and means |ours - R| / max(|R|, SE_R); "
          "sigma_b |ours - R| / max(sigma_b_R, sigma_e_R); se, df, p, interaction_p, sigma_e relative |ours - R| / |R|")
    print(diffs.map(lambda v: f"{v:.1e}").to_string())
    print("max:", "  ".join(f"{k}={v:.1e}" for k, v in diffs.max().items()))
    fitted = dict.fromkeys(our.loc[our["converged"], "outcome"])
    failed = breaches(diffs) + [f"{o}: {r_final_result(reference, o)}" for o in fitted if o not in diffs.index]
    mmrm_failed = compare_mmrm(data, labels)
    if mmrm_failed:
        print(f"FAIL: {len(mmrm_failed)} MMRM breach(es) (estimate 1e-6 of max(|R|, SE_R), SE 1e-5 relative):")
        print("\n".join(f"  {line}" for line in mmrm_failed))
    else:
        print("OK: every unstructured MMRM equals nlme::gls within estimate 1e-6 and SE 1e-5 at every visit")
    if failed:
        print(f"FAIL: {len(failed)} breach(es) of the acceptance tolerances "
              "(estimate 1e-3 of max(|R|, SE_R), SE 1e-3 relative, p 1e-3 relative):")
        print("\n".join(f"  {line}" for line in failed))
        return 1
    print("OK: every fitted outcome within estimate 1e-3 (of max(|R|, SE_R)), SE 1e-3 and p 1e-3 (relative) "
          "at every visit")
    return 1 if mmrm_failed else 0


if __name__ == "__main__":
    sys.exit(main())
