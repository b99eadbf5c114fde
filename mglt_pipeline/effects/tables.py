"""The per-outcome effect table and the SAP's ``treatment_effects`` table.

``effect_table`` fits each model of one outcome once (primary on FAS, MMRM on FAS, primary on PP,
ANCOVA on completers) and derives every number from those fits: one row per post-baseline visit
with the contrast active minus placebo, the adjusted means by arm (at the mean baseline of the model
rows), the MMRM's contrast (Kenward-Roger), the joint visit:arm test, and on the week_3 row Hedges'
g and the other sensitivity estimates with their n per arm.
``treatment_effects`` keeps the week_3 rows, one per outcome, and adds the family-wise BH
adjustment (SAP "The effects table", "Multiplicity"). Blinded, "placebo" means arm A and "active" B.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from mglt_pipeline.arms import ArmLabels
from mglt_pipeline.effects.design import Design
from mglt_pipeline.effects.effect_size import hedges_g
from mglt_pipeline.effects.multiplicity import adjust_within_families, improved
from mglt_pipeline.effects.primary import MODEL, PrimaryModel, fit_primary, sap_design
from mglt_pipeline.effects.sensitivity import MmrmAnalysis, ancova_completers, fit_sap_mmrm
from mglt_pipeline.registry import OUTCOMES, OUTCOMES_BY_ID
from mglt_pipeline.visits import FINAL_VISIT

ESTIMATE_FIELDS = ("estimate", "se", "df", "df_method", "ci_low", "ci_high", "p_value")
EFFECT_COLUMNS = (
    "outcome", "visit", "visit_num", *ESTIMATE_FIELDS,
    "mean_placebo", "mean_placebo_ci_low", "mean_placebo_ci_high",
    "mean_active", "mean_active_ci_low", "mean_active_ci_high",
    "n_active", "n_placebo", "n_obs", "converged", "message", "blinded", "model",
    "interaction_p", "sigma_b", "sigma_e",
    "hedges_g", "hedges_g_ci_low", "hedges_g_ci_high",
    "ancova_estimate", "ancova_se", "ancova_p", "ancova_n",
    "pp_estimate", "pp_se", "pp_df", "pp_p", "pp_n_active", "pp_n_placebo",
    *(f"mmrm_{name}" for name in ESTIMATE_FIELDS), "mmrm_df_satterthwaite", "mmrm_covariance",
    "mmrm_n_active", "mmrm_n_placebo", "ancova_n_active", "ancova_n_placebo",
)
MMRM_COLUMNS = ("mmrm_estimate", "mmrm_se", "mmrm_df", "mmrm_ci_low", "mmrm_ci_high", "mmrm_p_value",
                "mmrm_covariance", "mmrm_df_method")
"""SAP "The effects table": the MMRM sensitivity columns, as the SAP names them."""
TREATMENT_EFFECTS_COLUMNS = (
    "outcome", "family", "better", "visit", "n_active", "n_placebo", "estimate", "se", "df",
    "df_method", "ci_low", "ci_high", "p_value", "p_adj", "hedges_g", "interaction_p", "improved",
    "converged", "model", "blinded",
    "ancova_estimate", "ancova_se", "ancova_p", "pp_estimate", "pp_se", "pp_p",
    "hedges_g_ci_low", "hedges_g_ci_high", "message",
    *MMRM_COLUMNS, "mmrm_df_satterthwaite", "mmrm_n_active", "mmrm_n_placebo",
    "pp_n_active", "pp_n_placebo", "ancova_n_active", "ancova_n_placebo",
)


def effect_table(rows: pd.DataFrame, outcome_id: str, labels: ArmLabels,
                 design: Design | None = None) -> pd.DataFrame:
    """One outcome's treatment effects by visit (``EFFECT_COLUMNS``), from ``analysis_dataset`` rows
    (``design``: the SAP design of the table these rows come from; built here when not given)."""
    rows = rows.loc[rows["outcome"] == outcome_id]
    design = sap_design(rows, labels) if design is None else design
    primary = fit_primary(rows, labels, "fas", design)
    mmrm = fit_sap_mmrm(rows, labels, design)
    per_protocol = fit_primary(rows, labels, "pp", design)
    ancova = ancova_completers(rows, labels)
    common = {
        "outcome": outcome_id, "n_active": primary.n_active, "n_placebo": primary.n_control,
        "n_obs": primary.n_obs, "converged": primary.converged,
        "message": _message(primary, mmrm, per_protocol, ancova.message),
        "blinded": labels.blinded, "model": MODEL, "interaction_p": primary.interaction_p(),
        "sigma_b": np.sqrt(primary.fit.sigma2_b) if primary.fit else np.nan,
        "sigma_e": np.sqrt(primary.fit.sigma2_e) if primary.fit else np.nan,
        "mmrm_covariance": mmrm.covariance, "mmrm_n_active": mmrm.n_active,
        "mmrm_n_placebo": mmrm.n_control,
    }
    visits = list(design.levels["visit"])
    records = [{**common, **_visit_record(primary, mmrm, visit, k + 1)} for k, visit in enumerate(visits)]
    final = records[visits.index(FINAL_VISIT)]
    g = hedges_g(final["estimate"], final["ci_low"], final["ci_high"], rows, labels)
    pp = per_protocol.contrast(FINAL_VISIT)
    final.update({
        "hedges_g": g.g, "hedges_g_ci_low": g.ci_low, "hedges_g_ci_high": g.ci_high,
        "ancova_estimate": ancova.estimate, "ancova_se": ancova.se, "ancova_p": ancova.p_value,
        "ancova_n": ancova.n, "pp_estimate": pp.estimate, "pp_se": pp.se, "pp_df": pp.df,
        "pp_p": pp.p_value, "pp_n_active": per_protocol.n_active, "pp_n_placebo": per_protocol.n_control,
        "ancova_n_active": ancova.n_active, "ancova_n_placebo": ancova.n_control,
    })
    return pd.DataFrame.from_records(records, columns=list(EFFECT_COLUMNS))


def _visit_record(primary: PrimaryModel, mmrm: MmrmAnalysis, visit: str, visit_num: int) -> dict:
    contrast = primary.contrast(visit)
    mmrm_contrast, mmrm_satterthwaite = mmrm.contrast(visit)
    record = {"visit": visit, "visit_num": visit_num, "mmrm_df_satterthwaite": mmrm_satterthwaite}
    record.update({name: getattr(contrast, name) for name in ESTIMATE_FIELDS})
    record.update({f"mmrm_{name}": getattr(mmrm_contrast, name) for name in ESTIMATE_FIELDS})
    for arm, active in (("placebo", False), ("active", True)):
        mean = primary.adjusted_mean(visit, active)
        record.update({f"mean_{arm}": mean.estimate, f"mean_{arm}_ci_low": mean.ci_low,
                       f"mean_{arm}_ci_high": mean.ci_high})
    return record


def _message(primary: PrimaryModel, mmrm: MmrmAnalysis, per_protocol: PrimaryModel,
             ancova_message: str) -> str:
    parts = [primary.message]
    if mmrm.message != "converged":
        parts.append(mmrm.message if mmrm.fit is None else f"MMRM: {mmrm.message}")
    if not per_protocol.converged:
        parts.append(f"per-protocol model {per_protocol.message}")
    if ancova_message:
        parts.append(ancova_message)
    return "; ".join(parts)


def treatment_effects_table(effect_tables: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """The SAP's effects table: the week_3 row of every outcome, BH within family, ``improved``."""
    final = pd.concat([t.loc[t["visit"] == FINAL_VISIT] for t in effect_tables], ignore_index=True)
    registry = pd.DataFrame({"outcome": [o.id for o in OUTCOMES], "family": [o.family for o in OUTCOMES],
                             "better": [o.better for o in OUTCOMES],
                             "direction": [o.direction for o in OUTCOMES]})
    unknown = set(final["outcome"]) - set(OUTCOMES_BY_ID)
    if unknown:
        raise KeyError(f"outcomes not in the registry: {sorted(unknown)}")
    table = registry.merge(final, on="outcome", how="inner")
    table["p_adj"] = adjust_within_families(table)
    table["improved"] = improved(table["p_adj"], table["estimate"], table["direction"]).astype(bool)
    return table[list(TREATMENT_EFFECTS_COLUMNS)].reset_index(drop=True)
