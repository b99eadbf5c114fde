"""The trial's printed tables as DataFrames of display text: CONSORT flow, Table 1, effects, sensitivity.

The flow and Table 1 reuse the analysis room's printed layouts (``flow_wide``, ``baseline_wide``) and
only put them in words: stage and characteristic labels, one column per arm (then overall) headed
with its N. The effects tables follow SAP "The effects table" and "Sensitivity analyses": one row per
outcome in registry order, grouped by family; a model that did not converge shows no estimate
(SAP "Primary model") and its message is printed under the table.
"""
from __future__ import annotations

import pandas as pd

from mglt_pipeline.analysis.tables import NOT_RANDOMIZED, OVERALL, TOTAL, baseline_wide, flow_wide
from mglt_pipeline.effects.covariance import (
    AR1_HETEROGENEOUS, COMPOUND_SYMMETRY, TOEPLITZ_HETEROGENEOUS, UNSTRUCTURED,
)
from mglt_pipeline.effects.estimates import DF_KENWARD_ROGER, DF_NORMAL, DF_SATTERTHWAITE
from mglt_pipeline.registry import FAMILY_TITLES, OUTCOMES, OUTCOMES_BY_ID
from mglt_pipeline.report.formatting import MISSING, fmt_ci, fmt_count, fmt_flag, fmt_number, fmt_p, is_missing

STAGE_LABELS = {"enrolled": "Enrolled", "randomized": "Randomized", "dosed": "Dosed (Study Day 1 recorded)",
                "completed": "Completed the study", "withdrawn": "Withdrawn",
                "lost_to_follow_up": "Lost to follow-up",
                "randomization_conflict": "Randomized twice (conflict: not analysed)"}
FAS_STAGE_PREFIX = "fas_"
SEX_LABELS = {"F": "female", "M": "male", "X": "X"}
DF_METHODS = {DF_SATTERTHWAITE: "Satterthwaite", DF_KENWARD_ROGER: "Kenward-Roger", DF_NORMAL: "normal approximation"}
COVARIANCE_NAMES = {UNSTRUCTURED: "unstructured", TOEPLITZ_HETEROGENEOUS: "heterogeneous Toeplitz",
                    AR1_HETEROGENEOUS: "heterogeneous AR(1)", COMPOUND_SYMMETRY: "compound symmetry"}
NOT_CONVERGED = "not converged"
PLAIN_CONVERGENCE = "converged"
GROUP = "Family"
SPANNER = "|"
"""Column names ``spanner|label`` are printed as a spanner over its columns (great-tables delim)."""


def outcome_label(outcome_id: str) -> str:
    """The registry's label of an outcome (the id itself for an outcome the registry lacks)."""
    entry = OUTCOMES_BY_ID.get(outcome_id)
    return entry.label if entry else outcome_id


def stage_label(stage: str) -> str:
    """A flow stage in words; ``fas_<outcome>`` is the full analysis set of that outcome."""
    if stage in STAGE_LABELS:
        return STAGE_LABELS[stage]
    if stage.startswith(FAS_STAGE_PREFIX):
        return f"Full analysis set: {outcome_label(stage[len(FAS_STAGE_PREFIX):])}"
    return stage.replace("_", " ").capitalize()


def flow_display(participant_flow: pd.DataFrame) -> pd.DataFrame:
    """The CONSORT counts: stages down, each arm, not randomized and total across."""
    wide = flow_wide(participant_flow)
    counts = [c for c in wide.columns if c != "stage"]
    shown = pd.DataFrame({"Stage": wide["stage"].map(stage_label)})
    names = {NOT_RANDOMIZED: "Not randomized", TOTAL: "Total"}
    for column in counts:
        shown[names.get(column, column)] = wide[column].map(fmt_count)
    return shown


def characteristic_label(row: str) -> str:
    """A Table 1 row of ``baseline_wide`` (``age``, ``sex: F``, an outcome id) in words, with its statistic."""
    name, _, level = row.partition(": ")
    if name == "participants":
        return "Participants, n"
    if name == "age":
        return "Age (years), mean (SD)"
    if name == "sex":
        return f"Sex: {SEX_LABELS.get(level, level)}, n (%)"
    entry = OUTCOMES_BY_ID.get(name)
    return f"{entry.label} at baseline ({entry.unit}), mean (SD)" if entry else row


def baseline_display(baseline_characteristics: pd.DataFrame) -> pd.DataFrame:
    """Table 1: characteristics down, one column per arm then overall, each headed ``arm (N = n)``."""
    wide = baseline_wide(baseline_characteristics)
    groups = [c for c in wide.columns if c != "characteristic"]
    sizes = baseline_characteristics.loc[baseline_characteristics["characteristic"] == "participants"]
    size = dict(zip(sizes["arm"], sizes["count"]))
    if size:
        wide = wide.loc[wide["characteristic"] != "participants"]
    shown = pd.DataFrame({"Characteristic": wide["characteristic"].map(characteristic_label)})
    for group in groups:
        title = "Overall" if group == OVERALL else group
        header = f"{title} (N = {fmt_count(size[group])})" if group in size else title
        shown[header] = wide[group].map(lambda v: MISSING if is_missing(v) else str(v))
    return shown.reset_index(drop=True)


def baseline_missing_note(baseline_characteristics: pd.DataFrame) -> str | None:
    """Which summarised characteristics lack a value for some participants, per arm (Table 1 footnote)."""
    table = baseline_characteristics
    size = table.loc[table["characteristic"] == "participants"].set_index("arm")["count"]
    measured = table.loc[~table["characteristic"].isin(["participants", "sex"]) & table["arm"].isin(size.index)]
    gaps = [f"{'Age' if r.characteristic == 'age' else outcome_label(r.characteristic)} "
            f"{int(size[r.arm]) - int(r.n)} ({r.arm})"
            for r in measured.itertuples(index=False) if r.arm != OVERALL and r.n < size[r.arm]]
    if not gaps:
        return None
    return "Mean (SD) over the participants with a value; missing: " + "; ".join(gaps) + "."


def _registry_order(frame: pd.DataFrame) -> pd.DataFrame:
    order = {o.id: i for i, o in enumerate(OUTCOMES)}
    return frame.assign(_order=frame["outcome"].map(order).fillna(len(order))).sort_values("_order", kind="stable")


def _converged(row) -> bool:
    return not is_missing(row.converged) and bool(row.converged)


def main_df_method(treatment_effects: pd.DataFrame) -> str | None:
    """The degrees-of-freedom method of most converged outcomes (named once, in the footnote)."""
    methods = treatment_effects.loc[treatment_effects["converged"].fillna(False).astype(bool), "df_method"].dropna()
    return str(methods.mode().iloc[0]) if len(methods) else None


def df_method_name(method: object) -> str:
    """A degrees-of-freedom method as the footnote names it."""
    return MISSING if is_missing(method) else DF_METHODS.get(str(method), str(method))


def effects_display(treatment_effects: pd.DataFrame, active: str, placebo: str) -> pd.DataFrame:
    """The week-3 effects table: per outcome n by arm, estimate, 95% CI, df, p, p (BH), g, interaction p.

    ``df`` is a number; a method other than the table's main one (``main_df_method``, named in the
    footnote) is given beside it.
    """
    main_method = main_df_method(treatment_effects)
    rows = []
    for r in _registry_order(treatment_effects).itertuples(index=False):
        converged = _converged(r)
        df = fmt_number(r.df, 1)
        if converged and not is_missing(r.df_method) and r.df_method != main_method:
            df = f"{df} ({r.df_method})"
        rows.append({
            GROUP: FAMILY_TITLES.get(r.family, r.family), "Outcome": outcome_label(r.outcome), "id": r.outcome,
            "Better": r.better, f"n{SPANNER}{active}": fmt_count(r.n_active),
            f"n{SPANNER}{placebo}": fmt_count(r.n_placebo),
            "Estimate": fmt_number(r.estimate) if converged else NOT_CONVERGED,
            "95% CI": fmt_ci(r.ci_low, r.ci_high), "df": df, "p": fmt_p(r.p_value), "p (BH)": fmt_p(r.p_adj),
            "Hedges' g": fmt_number(r.hedges_g), "Interaction p": fmt_p(r.interaction_p),
            "Improved": fmt_flag(r.improved),
        })
    return pd.DataFrame(rows)


def effects_notes(treatment_effects: pd.DataFrame, active: str, placebo: str) -> list[str]:
    """The effects table's footnotes: the estimand and model, then what each column means."""
    method = df_method_name(main_df_method(treatment_effects))
    return [
        f"Estimate: difference {active} minus {placebo} in adjusted means at week 3, linear mixed model "
        "(REML, random intercept per participant) on the full analysis set; n: participants in the model.",
        f"df: degrees of freedom of the week-3 contrast, {method} unless stated beside the number. "
        "p (BH): Benjamini-Hochberg adjusted within family. Hedges' g: estimate over the pooled baseline "
        "SD, small-sample corrected. Interaction p: joint Wald test of visit by arm. Improved: p (BH) < 0.05 "
        "in the better direction.",
    ]


def sensitivity_notes(treatment_effects: pd.DataFrame, active: str, placebo: str) -> list[str]:
    """The sensitivity table's footnotes (SAP "Sensitivity analyses"), naming every outcome whose
    MMRM used a fallback covariance structure or could not be fitted."""
    notes = [f"Difference {active} minus {placebo} at week 3 (standard error); n: participants in the model, "
             f"{active} / {placebo}. MMRM: the primary model's fixed effects on the full analysis set with "
             "the visits of a participant correlated through an unstructured covariance matrix (REML), "
             "Kenward-Roger standard error and p. Per-protocol: the primary model on the per-protocol set. "
             "ANCOVA, completers: week-3 value on baseline and arm, OLS with HC3 standard errors."]
    if "mmrm_covariance" in treatment_effects:
        other = [f"{outcome_label(r.outcome)}: {COVARIANCE_NAMES.get(r.mmrm_covariance, r.mmrm_covariance)}"
                 for r in _registry_order(treatment_effects).itertuples(index=False)
                 if not is_missing(r.mmrm_covariance) and r.mmrm_covariance not in ("", UNSTRUCTURED)]
        if other:
            notes.append("MMRM with another covariance structure (unstructured did not converge): "
                         + "; ".join(other) + ".")
    return notes


def _estimate_se(estimate: object, se: object) -> str:
    return MISSING if is_missing(estimate) else f"{fmt_number(estimate)} ({fmt_number(se)})"


def _arm_sizes(n_active: object, n_placebo: object) -> str:
    return MISSING if is_missing(n_active) or is_missing(n_placebo) else f"{fmt_count(n_active)} / {fmt_count(n_placebo)}"


def sensitivity_display(treatment_effects: pd.DataFrame) -> pd.DataFrame:
    """Primary, MMRM, per-protocol and ANCOVA-on-completers week-3 estimates (SE), p and n per arm."""
    rows = []
    for r in _registry_order(treatment_effects).itertuples(index=False):
        get = r._asdict().get
        row = {GROUP: FAMILY_TITLES.get(r.family, r.family), "Outcome": outcome_label(r.outcome), "id": r.outcome}
        for title, prefix, estimate, p, n_active, n_placebo in (
                ("Primary (FAS)", "", r.estimate if _converged(r) else None, r.p_value, r.n_active, r.n_placebo),
                ("MMRM (FAS)", "mmrm_", get("mmrm_estimate"), get("mmrm_p_value"), get("mmrm_n_active"),
                 get("mmrm_n_placebo")),
                ("Per-protocol", "pp_", r.pp_estimate, r.pp_p, get("pp_n_active"), get("pp_n_placebo")),
                ("ANCOVA, completers", "ancova_", r.ancova_estimate, r.ancova_p, get("ancova_n_active"),
                 get("ancova_n_placebo"))):
            se = r.se if not prefix else get(f"{prefix}se")
            shown = NOT_CONVERGED if not prefix and not _converged(r) else _estimate_se(estimate, se)
            row.update({f"{title}{SPANNER}n": _arm_sizes(n_active, n_placebo),
                        f"{title}{SPANNER}Estimate (SE)": shown, f"{title}{SPANNER}p": fmt_p(p)})
        rows.append(row)
    return pd.DataFrame(rows)


def model_notes(treatment_effects: pd.DataFrame) -> list[str]:
    """``label (id): message`` for every outcome whose fit says more than ``converged``."""
    notes = []
    for r in _registry_order(treatment_effects).itertuples(index=False):
        message = "" if is_missing(r.message) else str(r.message).strip()
        if not _converged(r) and not message:
            message = "the model did not converge"
        if message and message != PLAIN_CONVERGENCE:
            notes.append(f"{outcome_label(r.outcome)} ({r.outcome}): {message}")
    return notes
