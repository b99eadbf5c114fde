"""Treatment effects room as Dagster assets: thin wrappers over ``mglt_pipeline.effects``.

Group ``treatment_effects``:
- ``effect_<outcome id>``, one per registry outcome (one subsettable multi-asset, ``effect_models``,
  over ``OUTCOMES``): the SAP's primary model and MMRM fitted once on ``analysis_dataset``, with the
  contrasts and adjusted means at every post-baseline visit, and Hedges' g and the other sensitivity
  analyses on the week_3 row; the metadata give the week_3 numbers rounded, the better direction and,
  when the outcome's whole family is materialized in the step, its BH-adjusted p;
- ``treatment_effects``: the SAP's effects table, one week_3 row per outcome, BH within family;
- ``forest_plot``: Hedges' g with 95% CI of every outcome, written to ``reports/figures/forest_plot.png``.

Each figure is drawn by the asset it belongs to and written under ``reports/figures/`` (the adjusted
means of each outcome by ``effect_models``), where the report reads it.
"""

import base64

import dagster as dg
from dagster import AssetExecutionContext
import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from mglt_pipeline.arms import arm_labels
from mglt_pipeline.effects.plots import adjusted_means_png, forest_plot_png
from mglt_pipeline.effects.primary import sap_design
from mglt_pipeline.paths import FOREST_PLOT_FILE, adjusted_means_file
from mglt_pipeline.effects.tables import effect_table, treatment_effects_table
from mglt_pipeline.registry import OUTCOMES, OUTCOMES_BY_ID, Outcome
from mglt_pipeline.resources import DataRoot
from mglt_pipeline.visits import FINAL_VISIT

GROUP = "treatment_effects"
ANALYSIS_DATASET = "analysis_dataset"
TREATMENT_EFFECTS = "treatment_effects"
FOREST_PLOT = "forest_plot"
EFFECT_MODELS = "effect_models"
WEEK_3_METADATA = {  # column -> significant digits shown in the UI
    "estimate": 4, "se": 3, "df": 4, "ci_low": 4, "ci_high": 4, "p_value": 3, "hedges_g": 3,
    "interaction_p": 3, "mmrm_estimate": 4, "mmrm_se": 3, "mmrm_df": 4, "mmrm_ci_low": 4,
    "mmrm_ci_high": 4, "mmrm_p_value": 3,
}
SUMMARY_COLUMNS = ("outcome", "family", "n_active", "n_placebo", "estimate", "ci_low", "ci_high",
                   "p_value", "p_adj", "hedges_g", "improved", "converged")


def effect_asset_name(outcome_id: str) -> str:
    """Asset key of one outcome's effect table."""
    return f"effect_{outcome_id}"


def png_markdown(png: bytes, alt: str) -> dg.MetadataValue:
    """A PNG shown inline in the Dagster UI (Markdown image with a data URI)."""
    return dg.MetadataValue.md(f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode()})")


def significant(value: float, digits: int) -> float:
    """``value`` rounded to ``digits`` significant digits (as a statistician reads it in the UI)."""
    if value == 0 or not np.isfinite(value):
        return float(value)
    return float(round(value, digits - 1 - int(np.floor(np.log10(abs(value))))))


def _number(value, digits: int = 4) -> dg.MetadataValue:
    value = float(value) if value is not None else float("nan")
    return dg.MetadataValue.float(significant(value, digits)) if np.isfinite(value) else dg.MetadataValue.null()


def effect_metadata(table: pd.DataFrame, outcome: Outcome, png: bytes,
                    p_adj: float | None = None) -> dict[str, dg.MetadataValue]:
    """Week_3 numbers (rounded), the better direction, the BH-adjusted p when known (``p_adj``: None
    when the outcome's family was not all fitted in this step), arm sizes, convergence and the
    adjusted-means plot (``png``) of one effect table."""
    final = table.loc[table["visit"] == FINAL_VISIT].iloc[0]
    return {
        **{f"week_3_{name}": _number(final[name], digits) for name, digits in WEEK_3_METADATA.items()},
        "week_3_p_adj": (_number(p_adj, 3) if p_adj is not None else dg.MetadataValue.text(
            "in treatment_effects (the outcome's family was not all materialized in this step)")),
        "better": dg.MetadataValue.text(outcome.better),
        "mmrm_covariance": dg.MetadataValue.text(str(final["mmrm_covariance"]) or "none converged"),
        "n_active": dg.MetadataValue.int(int(final["n_active"])),
        "n_placebo": dg.MetadataValue.int(int(final["n_placebo"])),
        "converged": dg.MetadataValue.bool(bool(final["converged"])),
        "blinded": dg.MetadataValue.bool(bool(final["blinded"])),
        "message": dg.MetadataValue.text(str(final["message"])),
        "by_visit": dg.MetadataValue.md(
            table[["visit", "estimate", "ci_low", "ci_high", "p_value", "mean_placebo", "mean_active"]]
            .round(3).to_markdown(index=False)),
        "adjusted_means": png_markdown(png, outcome.label),
    }


def effect_spec(outcome: Outcome) -> dg.AssetSpec:
    """The effect asset of one registry outcome, as the UI shows it (selectable on its own)."""
    return dg.AssetSpec(
        effect_asset_name(outcome.id), group_name=GROUP,
        description=f"{outcome.label}: active minus placebo by visit from the SAP's primary "
                    "mixed model (REML, Satterthwaite df), adjusted means, Hedges' g, "
                    "MMRM (Kenward-Roger df), ANCOVA on completers and per-protocol fit at week_3.")


@dg.multi_asset(name=EFFECT_MODELS, can_subset=True,
                outs={effect_asset_name(o.id): dg.AssetOut.from_spec(effect_spec(o), dagster_type=pd.DataFrame,
                                                                    is_required=False)
                      for o in OUTCOMES},
                ins={"analysis_dataset": dg.AssetIn(ANALYSIS_DATASET)})
def effect_assets(context: AssetExecutionContext, data_root: DataRoot, analysis_dataset: pd.DataFrame):
    """Every selected ``effect_<outcome id>``, in one step so that ``analysis_dataset`` (a row per
    participant, outcome and visit: the largest table of the warehouse) is read once, not once per
    outcome; each outcome is still its own asset, selectable and materialized on its own. Its
    adjusted-means figure goes to ``reports/figures/adjusted_means/<outcome id>.png``."""
    labels = arm_labels(analysis_dataset["arm"].unique())
    selected = [o for o in OUTCOMES if dg.AssetKey(effect_asset_name(o.id)) in context.selected_asset_keys]
    tables = fit_effect_tables(analysis_dataset, selected, labels)
    p_adj = family_adjusted_p(tables)
    for outcome in selected:
        table = tables[outcome.id]
        png = adjusted_means_png(table, outcome.label)
        data_root.write_report_file(adjusted_means_file(outcome.id), png)
        yield dg.Output(table, output_name=effect_asset_name(outcome.id), metadata={
            **effect_metadata(table, outcome, png, p_adj.get(outcome.id)),
            "figure": dg.MetadataValue.path(str(data_root.reports / adjusted_means_file(outcome.id)))})


def fit_effect_tables(analysis_dataset: pd.DataFrame, outcomes: list[Outcome], labels) -> dict[str, pd.DataFrame]:
    """The effect table of each outcome; the SAP design is built once for the whole dataset, and BLAS
    runs on one thread (the models' matrices are small: threads cost more than they save)."""
    design = sap_design(analysis_dataset, labels)
    rows_by_outcome = dict(tuple(analysis_dataset.groupby("outcome", sort=False)))
    no_rows = analysis_dataset.iloc[:0]
    with threadpool_limits(limits=1, user_api="blas"):
        return {o.id: effect_table(rows_by_outcome.get(o.id, no_rows), o.id, labels, design) for o in outcomes}


def family_adjusted_p(tables: dict[str, pd.DataFrame]) -> dict[str, float]:
    """BH-adjusted p of the outcomes whose whole family is among ``tables`` (as treatment_effects
    computes it); the others are left out (their family's adjustment needs the missing outcomes)."""
    complete = {f for f in {o.family for o in OUTCOMES}
                if all(o.id in tables for o in OUTCOMES if o.family == f)}
    chosen = [t for outcome_id, t in tables.items() if OUTCOMES_BY_ID[outcome_id].family in complete]
    if not chosen:
        return {}
    table = treatment_effects_table(chosen)
    return dict(zip(table["outcome"], table["p_adj"]))


EFFECT_ASSETS = [effect_assets]


@dg.asset(name=TREATMENT_EFFECTS, group_name=GROUP,
          ins={effect_asset_name(o.id): dg.AssetIn(effect_asset_name(o.id)) for o in OUTCOMES})
def treatment_effects_asset(**effect_tables: pd.DataFrame) -> dg.Output:
    """SAP effects table: week_3 effect of every outcome, raw and BH-adjusted p, Hedges' g."""
    table = treatment_effects_table(effect_tables[effect_asset_name(o.id)] for o in OUTCOMES)
    return dg.Output(table, metadata={
        "row_count": dg.MetadataValue.int(len(table)),
        "converged": dg.MetadataValue.int(int(table["converged"].sum())),
        "improved": dg.MetadataValue.int(int(table["improved"].sum())),
        "blinded": dg.MetadataValue.bool(bool(table["blinded"].any())),
        "table": dg.MetadataValue.md(table[list(SUMMARY_COLUMNS)].round(4).to_markdown(index=False)),
    })


@dg.asset(name=FOREST_PLOT, group_name=GROUP, ins={"treatment_effects": dg.AssetIn(TREATMENT_EFFECTS)})
def forest_plot_asset(treatment_effects: pd.DataFrame, data_root: DataRoot) -> dg.MaterializeResult:
    """Forest plot of Hedges' g at week_3 by family, written to ``reports/figures/forest_plot.png``."""
    png = forest_plot_png(treatment_effects)
    data_root.write_report_file(FOREST_PLOT_FILE, png)
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(data_root.reports / FOREST_PLOT_FILE)),
                                          "forest_plot": png_markdown(png, "forest plot")})


@dg.asset_check(asset=TREATMENT_EFFECTS, name="one_consistent_row_per_outcome", blocking=True)
def treatment_effects_check(treatment_effects: pd.DataFrame) -> dg.AssetCheckResult:
    """One row per registry outcome; fitted rows have SE > 0, df > 0, p <= p_adj <= 1 and a CI
    around the estimate; unfitted rows have no estimate and say why; the same for the MMRM columns
    (fitted when ``mmrm_covariance`` names a structure). Blocking: when it fails, the forest plot and
    the report are not made from the table (and the run is not committed)."""
    t = treatment_effects
    fitted, unfitted = t.loc[t["converged"]], t.loc[~t["converged"]]
    bad_fitted = ~((fitted["se"] > 0) & (fitted["df"].isna() | (fitted["df"] > 0))
                   & (fitted["ci_low"] <= fitted["estimate"]) & (fitted["estimate"] <= fitted["ci_high"])
                   & (fitted["p_value"] <= fitted["p_adj"] + 1e-12) & (fitted["p_adj"] <= 1))
    bad_unfitted = unfitted["estimate"].notna() | (unfitted["message"].fillna("") == "")
    has_mmrm = t["mmrm_covariance"].fillna("") != ""
    mmrm, no_mmrm = t.loc[has_mmrm], t.loc[~has_mmrm]
    bad_mmrm = ~((mmrm["mmrm_se"] > 0) & (mmrm["mmrm_df"] > 0) & (mmrm["mmrm_p_value"] <= 1)
                 & (mmrm["mmrm_ci_low"] <= mmrm["mmrm_estimate"]) & (mmrm["mmrm_estimate"] <= mmrm["mmrm_ci_high"]))
    bad_no_mmrm = no_mmrm["mmrm_estimate"].notna() | ~no_mmrm["message"].fillna("").str.contains("MMRM")
    missing = sorted({o.id for o in OUTCOMES} - set(t["outcome"]))
    duplicated = int(t["outcome"].duplicated().sum())
    problems = sorted(set(fitted.loc[bad_fitted, "outcome"]) | set(unfitted.loc[bad_unfitted, "outcome"])
                      | set(mmrm.loc[bad_mmrm, "outcome"]) | set(no_mmrm.loc[bad_no_mmrm, "outcome"]))
    return dg.AssetCheckResult(
        passed=not (missing or duplicated or problems),
        metadata={"missing_outcomes": ", ".join(missing), "duplicated_rows": duplicated,
                  "inconsistent_outcomes": ", ".join(problems), "not_converged": int(len(unfitted)),
                  "mmrm_not_fitted": int(len(no_mmrm)),
                  "mmrm_other_covariance": int((mmrm["mmrm_covariance"] != "unstructured").sum())})


ASSETS = [*EFFECT_ASSETS, treatment_effects_asset, forest_plot_asset]
CHECKS = [treatment_effects_check]
