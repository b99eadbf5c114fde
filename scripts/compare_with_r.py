"""Fit every outcome with our REML/Satterthwaite code and with R (lme4 + lmerTest + emmeans); compare.

    python scripts/compare_with_r.py DATA_ROOT [--lme4-defaults]
    python scripts/compare_with_r.py --simulate SEED

Reads ``analysis_dataset`` from ``DATA_ROOT/warehouse.duckdb`` (or simulates a trial of the SAP's
shape), fits the SAP's primary model per outcome both ways, and prints per outcome the largest
relative difference over the three visits of the contrast estimate, SE, Satterthwaite df and p, of
the adjusted means, the interaction p and sigma_b, sigma_e; then the maxima. SAP "Checks on the
statistics themselves": the same estimate and SE to 4 significant digits. By default R's optimizer
runs with tight tolerances (see scripts/lmer_reference.R) so that the comparison tests the
mathematics; ``--lme4-defaults`` shows the agreement with lme4's default stopping rule.
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

from mglt_pipeline.effects.primary import ArmLabels, arm_labels
from mglt_pipeline.effects.simulate import simulate_trial
from mglt_pipeline.effects.tables import effect_table
from mglt_pipeline.registry import OUTCOMES
from mglt_pipeline.resources import WAREHOUSE_FILE

R_SCRIPT = Path(__file__).resolve().parent / "lmer_reference.R"
COMPARED = ("estimate", "se", "df", "p_value", "mean_placebo", "mean_active", "interaction_p",
            "sigma_b", "sigma_e")
R_NAMES = {"mean_placebo": "mean_control", "mean_active": "mean_active"}


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
    """The columns lmer_reference.R reads (fas as 0/1, the arm labels spelled out)."""
    frame = analysis_dataset[["outcome", "participant_id", "arm", "visit", "aval", "base"]].copy()
    return frame.assign(fas=analysis_dataset["fas"].astype(int), control=labels.control, active=labels.active)


def run_r(mode: str, frame: pd.DataFrame, extra: list[str]) -> pd.DataFrame:
    """Run lmer_reference.R in ``mode`` on ``frame``; its CSV output as a DataFrame."""
    if shutil.which("Rscript") is None:
        raise SystemExit("Rscript not found: R with lme4, lmerTest and emmeans is needed")
    with tempfile.TemporaryDirectory() as tmp:
        source, result = Path(tmp) / "analysis.csv", Path(tmp) / "result.csv"
        frame.to_csv(source, index=False)
        subprocess.run(["Rscript", str(R_SCRIPT), mode, str(source), str(result), *extra], check=True,
                       stderr=subprocess.DEVNULL)
        return pd.read_csv(result)


def ours(analysis_dataset: pd.DataFrame, labels: ArmLabels) -> pd.DataFrame:
    """Our effect tables of every outcome in the dataset, stacked."""
    ids = [o.id for o in OUTCOMES if o.id in set(analysis_dataset["outcome"])]
    return pd.concat([effect_table(analysis_dataset, o, labels) for o in ids], ignore_index=True)


def relative_differences(our: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """|ours - R| / |R| per outcome (max over visits) for each compared quantity; converged rows only."""
    reference = reference.rename(columns={v: k for k, v in R_NAMES.items()})
    both = our.loc[our["converged"]].merge(reference, on=["outcome", "visit"], suffixes=("", "_r"))
    diffs = pd.DataFrame({"outcome": both["outcome"]})
    for name in COMPARED:
        r = both[f"{name}_r"].to_numpy(float)
        diffs[name] = np.abs(both[name].to_numpy(float) - r) / np.where(r == 0, 1.0, np.abs(r))
    return diffs.groupby("outcome", sort=False).max()


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
    diffs = relative_differences(our, reference)
    pd.set_option("display.width", 200)
    print(f"{len(diffs)} outcomes compared; not fitted by us: "
          f"{sorted(set(our.loc[~our['converged'], 'outcome'])) or 'none'}")
    print("relative difference |ours - R| / |R|, max over the visits:")
    print(diffs.map(lambda v: f"{v:.1e}").to_string())
    print("max:", "  ".join(f"{k}={v:.1e}" for k, v in diffs.max().items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
