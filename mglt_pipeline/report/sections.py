"""The report's tables as DataFrames of display text, built from the warehouse tables.

Each function takes the clean or derived tables (docs/TABLES.md, SAP.md "The effects table") and
returns what a statistician reads: labels from the registry, numbers written by ``formatting``.
"""
from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from mglt_pipeline.arms import BLINDED_ARMS, UNBLINDED_ARMS
from mglt_pipeline.effects.plots import HARM, verdict
from mglt_pipeline.registry import OUTCOMES
from mglt_pipeline.report.formatting import fmt_ci, fmt_count, fmt_number, fmt_p, is_missing
from mglt_pipeline.report.tables import PLAIN_CONVERGENCE, outcome_label


def is_blinded(treatment_effects: pd.DataFrame) -> bool:
    """True when any effect was estimated with coded arms (SAP "Blinded mode")."""
    return bool(treatment_effects["blinded"].fillna(True).astype(bool).any()) if len(treatment_effects) else True


def arm_names(blinded: bool) -> tuple[str, str]:
    """(active, placebo) as the report names them: ``B``/``A`` while blinded (the model's labels)."""
    control, active = BLINDED_ARMS if blinded else UNBLINDED_ARMS
    return active, control


def study_summary(participants: pd.DataFrame, randomization: pd.DataFrame,
                  treatment_effects: pd.DataFrame, safety_set: int) -> pd.DataFrame:
    """Key figures of the trial: enrolment, randomization by arm, safety set, status, outcomes improved.

    ``safety_set`` is the size of the SAP's safety set (dosed participants), as the safety table counts it.
    """
    blinded = is_blinded(treatment_effects)
    arm = randomization["arm_code"] if blinded else randomization["arm"].fillna(randomization["arm_code"])
    rows = [("Participants enrolled", fmt_count(len(participants))),
            ("Sites", fmt_count(participants["site"].nunique())),
            ("Randomized", fmt_count(len(randomization)))]
    rows += [(f"Randomized to {name}", fmt_count(n)) for name, n in arm.value_counts().sort_index().items()]
    rows.append(("Dosed (Study Day 1 recorded)", fmt_count(participants["first_dose_on"].notna().sum())))
    rows.append(("Safety set (dosed participants)", fmt_count(safety_set)))
    rows += [(f"Status: {status.replace('_', ' ')}", fmt_count(n))
             for status, n in participants["status"].value_counts().sort_index().items()]
    improved = treatment_effects.loc[treatment_effects["improved"].fillna(False).astype(bool), "outcome"]
    worse = [r["outcome"] for _, r in treatment_effects.iterrows() if "p_adj" in r and verdict(r) == HARM]
    active = arm_names(blinded)[0]
    rows += [("Outcomes analysed", fmt_count(len(treatment_effects))),
             ("Models converged", fmt_count(treatment_effects["converged"].fillna(False).astype(bool).sum())),
             ("Outcomes improved (BH-adjusted p < 0.05, better direction)",
              ", ".join(outcome_label(o) for o in improved) or "none"),
             (f"Outcomes worse on {active} (BH-adjusted p < 0.05, the other direction)",
              ", ".join(outcome_label(o) for o in worse) or "none"),
             ("Arms", "coded A and B: blinded, no treatment is named" if blinded
              else "named: magnesium L-threonate (MgT) and placebo (unblinded)")]
    return pd.DataFrame(rows, columns=["Item", "Value"])


def quarantine_summary(quarantine: pd.DataFrame) -> pd.DataFrame:
    """Quarantine entries per source and rule, with the distinct rows and files they touch."""
    columns = ["source", "rule", "entries", "rows", "files"]
    if quarantine.empty:
        return pd.DataFrame(columns=columns)
    frame = quarantine.assign(row_key=quarantine["file"].astype(str) + "#" + quarantine["row"].fillna("").astype(str))
    summary = frame.groupby(["source", "rule"], dropna=False).agg(
        entries=("rule", "size"), rows=("row_key", "nunique"), files=("file", "nunique")).reset_index()
    summary = summary.sort_values(["source", "entries"], ascending=[True, False])
    return summary[columns].astype({"entries": int, "rows": int, "files": int}).reset_index(drop=True)


def visit_display(effect_table: pd.DataFrame, blinded: bool) -> pd.DataFrame:
    """One outcome's adjusted means by arm and the difference at every post-baseline visit."""
    active, placebo = arm_names(blinded)
    rows = []
    for r in effect_table.sort_values("visit_num").itertuples(index=False):
        rows.append({
            "Visit": str(r.visit).replace("_", " ").capitalize(),
            f"Mean {placebo}": fmt_number(r.mean_placebo),
            f"95% CI {placebo}": fmt_ci(r.mean_placebo_ci_low, r.mean_placebo_ci_high),
            f"Mean {active}": fmt_number(r.mean_active),
            f"95% CI {active}": fmt_ci(r.mean_active_ci_low, r.mean_active_ci_high),
            "Difference": fmt_number(r.estimate), "95% CI": fmt_ci(r.ci_low, r.ci_high),
            "p": fmt_p(r.p_value),
        })
    return pd.DataFrame(rows)


def model_message(effect_table: pd.DataFrame) -> str | None:
    """What the outcome's fit said beyond ``converged`` (e.g. why it was not fitted), else None."""
    messages = [str(m).strip() for m in effect_table.get("message", pd.Series(dtype=object)) if not is_missing(m)]
    said = [m for m in dict.fromkeys(messages) if m and m != PLAIN_CONVERGENCE]
    return "; ".join(said) or None


def outcome_sections(effect_tables: Mapping[str, pd.DataFrame], figures: Mapping[str, bytes],
                     blinded: bool) -> list[dict]:
    """Per outcome, in registry order: label, family, unit, better, visit table, model message, figure."""
    return [{"id": o.id, "label": o.label, "family": o.family, "unit": o.unit, "better": o.better,
             "derivation": o.derivation, "visits": visit_display(effect_tables[o.id], blinded),
             "message": model_message(effect_tables[o.id]), "figure": figures.get(o.id)}
            for o in OUTCOMES if o.id in effect_tables]


def failing_checks_display(failing_checks: pd.DataFrame) -> pd.DataFrame:
    """Failing asset checks as the report lists them (asset, check, severity, description, run)."""
    columns = ["asset", "check", "severity", "description", "run_id", "evaluated_at"]
    return failing_checks.reindex(columns=columns).fillna("")
