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
from mglt_pipeline.effects.primary import DF_NORMAL, DF_SATTERTHWAITE
from mglt_pipeline.registry import OUTCOMES, OUTCOMES_BY_ID
from mglt_pipeline.report.formatting import MISSING, fmt_ci, fmt_count, fmt_flag, fmt_number, fmt_p, is_missing

FAMILY_TITLES = {"oura_sleep": "Oura sleep", "oura_day": "Oura activity and readiness",
                 "sleep_questionnaires": "Sleep questionnaires", "mood": "Mood (POMS)", "diary": "Daily diary"}
STAGE_LABELS = {"enrolled": "Enrolled", "randomized": "Randomized", "dosed": "Dosed (Study Day 1 recorded)",
                "completed": "Completed the study", "withdrawn": "Withdrawn",
                "lost_to_follow_up": "Lost to follow-up",
                "randomization_conflict": "Randomized twice (conflict: not analysed)"}
FAS_STAGE_PREFIX = "fas_"
SEX_LABELS = {"F": "female", "M": "male", "X": "X"}
DF_METHODS = {DF_SATTERTHWAITE: "Satterthwaite", DF_NORMAL: "normal approximation"}
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


def sensitivity_notes(active: str, placebo: str) -> list[str]:
    """The sensitivity table's footnote (SAP "Sensitivity analyses")."""
    return [f"Difference {active} minus {placebo} at week 3 (standard error). Per-protocol: the primary model "
            "on the per-protocol set. ANCOVA, completers: week-3 value on baseline and arm, OLS with HC3 "
            "standard errors."]


def _estimate_se(estimate: object, se: object) -> str:
    return MISSING if is_missing(estimate) else f"{fmt_number(estimate)} ({fmt_number(se)})"


def sensitivity_display(treatment_effects: pd.DataFrame) -> pd.DataFrame:
    """Primary, per-protocol and ANCOVA-on-completers week-3 estimates (SE) and p, side by side."""
    rows = []
    for r in _registry_order(treatment_effects).itertuples(index=False):
        rows.append({
            GROUP: FAMILY_TITLES.get(r.family, r.family), "Outcome": outcome_label(r.outcome), "id": r.outcome,
            f"Primary (FAS){SPANNER}Estimate (SE)": _estimate_se(r.estimate, r.se) if _converged(r) else NOT_CONVERGED,
            f"Primary (FAS){SPANNER}p": fmt_p(r.p_value),
            f"Per-protocol{SPANNER}Estimate (SE)": _estimate_se(r.pp_estimate, r.pp_se),
            f"Per-protocol{SPANNER}p": fmt_p(r.pp_p),
            f"ANCOVA, completers{SPANNER}Estimate (SE)": _estimate_se(r.ancova_estimate, r.ancova_se),
            f"ANCOVA, completers{SPANNER}p": fmt_p(r.ancova_p),
        })
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
