"""Treatment effects room as Dagster assets: thin wrappers over ``mglt_pipeline.effects``.

Group ``treatment_effects``:
- ``effect_<outcome id>``, one per registry outcome (one subsettable multi-asset, ``effect_models``,
  over ``OUTCOMES``): the SAP's primary model fitted once on ``analysis_dataset``, with the contrast
  and adjusted means at every post-baseline visit, and Hedges' g and the sensitivity analyses on the week_3 row;
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

from mglt_pipeline.effects.plots import adjusted_means_png, forest_plot_png
from mglt_pipeline.paths import FOREST_PLOT_FILE, adjusted_means_file
from mglt_pipeline.effects.primary import arm_labels
from mglt_pipeline.visits import FINAL_VISIT
from mglt_pipeline.effects.tables import effect_table, treatment_effects_table
from mglt_pipeline.registry import OUTCOMES, Outcome
from mglt_pipeline.resources import DataRoot

GROUP = "treatment_effects"
ANALYSIS_DATASET = "analysis_dataset"
TREATMENT_EFFECTS = "treatment_effects"
FOREST_PLOT = "forest_plot"
EFFECT_MODELS = "effect_models"
WEEK_3_METADATA = ("estimate", "se", "df", "ci_low", "ci_high", "p_value", "hedges_g", "interaction_p")
SUMMARY_COLUMNS = ("outcome", "family", "n_active", "n_placebo", "estimate", "ci_low", "ci_high",
                   "p_value", "p_adj", "hedges_g", "improved", "converged")


def effect_asset_name(outcome_id: str) -> str:
    """Asset key of one outcome's effect table."""
    return f"effect_{outcome_id}"


def png_markdown(png: bytes, alt: str) -> dg.MetadataValue:
    """A PNG shown inline in the Dagster UI (Markdown image with a data URI)."""
    return dg.MetadataValue.md(f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode()})")


def _number(value) -> dg.MetadataValue:
    return dg.MetadataValue.float(float(value)) if np.isfinite(value) else dg.MetadataValue.null()


def effect_metadata(table: pd.DataFrame, outcome: Outcome, png: bytes) -> dict[str, dg.MetadataValue]:
    """Week_3 numbers, arm sizes, convergence and the adjusted-means plot (``png``) of one effect table."""
    final = table.loc[table["visit"] == FINAL_VISIT].iloc[0]
    return {
        **{f"week_3_{name}": _number(final[name]) for name in WEEK_3_METADATA},
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
                    "ANCOVA on completers and per-protocol fit at week_3.")


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
    rows_by_outcome = dict(tuple(analysis_dataset.groupby("outcome", sort=False)))
    no_rows = analysis_dataset.iloc[:0]
    for outcome in OUTCOMES:
        name = effect_asset_name(outcome.id)
        if dg.AssetKey(name) not in context.selected_asset_keys:
            continue
        table = effect_table(rows_by_outcome.get(outcome.id, no_rows), outcome.id, labels)
        png = adjusted_means_png(table, outcome.label)
        data_root.write_report_file(adjusted_means_file(outcome.id), png)
        yield dg.Output(table, output_name=name, metadata={
            **effect_metadata(table, outcome, png),
            "figure": dg.MetadataValue.path(str(data_root.reports / adjusted_means_file(outcome.id)))})


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
    around the estimate; unfitted rows have no estimate and say why. Blocking: when it fails, the
    forest plot and the report are not made from the table (and the run is not committed)."""
    t = treatment_effects
    fitted, unfitted = t.loc[t["converged"]], t.loc[~t["converged"]]
    bad_fitted = ~((fitted["se"] > 0) & (fitted["df"].isna() | (fitted["df"] > 0))
                   & (fitted["ci_low"] <= fitted["estimate"]) & (fitted["estimate"] <= fitted["ci_high"])
                   & (fitted["p_value"] <= fitted["p_adj"] + 1e-12) & (fitted["p_adj"] <= 1))
    bad_unfitted = unfitted["estimate"].notna() | (unfitted["message"].fillna("") == "")
    missing = sorted({o.id for o in OUTCOMES} - set(t["outcome"]))
    duplicated = int(t["outcome"].duplicated().sum())
    problems = sorted(set(fitted.loc[bad_fitted, "outcome"]) | set(unfitted.loc[bad_unfitted, "outcome"]))
    return dg.AssetCheckResult(
        passed=not (missing or duplicated or problems),
        metadata={"missing_outcomes": ", ".join(missing), "duplicated_rows": duplicated,
                  "inconsistent_outcomes": ", ".join(problems), "not_converged": int(len(unfitted))})


ASSETS = [*EFFECT_ASSETS, treatment_effects_asset, forest_plot_asset]
CHECKS = [treatment_effects_check]
