"""Contracts of the derived tables: scores, windows, the analysis dataset, trial tables, effects.

The score tables' columns follow the instrument specs (``scoring.instruments``) and the daily tables'
outcome columns follow the outcome registry, so a new scale or outcome extends its table's contract
by itself; every other column is stated here.
"""
from __future__ import annotations

from mglt_pipeline.effects.covariance import FALLBACK_ORDER
from mglt_pipeline.registry import FAMILIES, OUTCOMES, outcomes_from
from mglt_pipeline.scoring.instruments import INSTRUMENTS, Instrument
from mglt_pipeline.visits import POST_BASELINE_VISITS, VISITS
from mglt_pipeline.warehouse.clean_tables import PARTICIPANT
from mglt_pipeline.warehouse.contract import Column, TableContract, column

VISIT = column("visit", "text", "Analysis visit: " + ", ".join(VISITS) + ".", required=True, isin=VISITS)
VISIT_NUM = column("visit_num", "integer", "0 (baseline) .. 3 (week_3).", required=True, ge=0, le=3)
STUDY_DAY = column("study_day", "integer", "Days from first_dose_on, Day 1 the first dose, no Day 0.")
WINDOW_VISIT = column("visit", "text", "Analysis window of the study day; null outside every window.",
                      isin=VISITS)
WINDOW_VISIT_NUM = column("visit_num", "integer", "Number of the window; null outside every window.",
                          ge=0, le=3)
OUTCOME = column("outcome", "text", "Outcome id of the registry.", required=True, isin=[o.id for o in OUTCOMES])
POST_BASELINE = column("visit", "text", "Post-baseline visit.", required=True, isin=POST_BASELINE_VISITS)
FAMILY = column("family", "text", "Outcome family.", required=True, isin=FAMILIES)
ARM_NOTE = "MgT/placebo once unblinded, A/B while blinded"


def _score_columns(instrument: Instrument) -> list[Column]:
    out = []
    for scale in instrument.scales:
        out += [column(scale.score, "number", f"{scale.score} score, {scale.low:g}..{scale.high:g}; "
                                              "null below its minimum of answered items (INSTRUMENTS.md)."),
                column(scale.n_answered, "integer", f"Items of {scale.score} answered.", required=True, ge=0)]
    for bands in instrument.bands:
        out.append(column(bands.column, "text", f"Category of {bands.score}.", isin=bands.labels))
    for composite in instrument.composites:
        out += [column(composite.score, "number", f"{composite.score} = " + " + ".join(composite.plus)
                       + "".join(f" - {m}" for m in composite.minus) + "; null when any part is."),
                column(composite.n_available, "integer", f"Parts of {composite.score} available.",
                       required=True, ge=0)]
    return out


def score_contract(instrument: Instrument) -> TableContract:
    """One row per participant and REDCap event that has the form; scores are floats, not rounded."""
    return TableContract(
        instrument.asset_name, "scored",
        f"{instrument.name.upper()} scores, one row per participant and visit that has the form (an "
        "absent form gives no row; a form with every item blank gives missing scores). Each score is "
        "named by its SAP outcome id, with the number of answered items beside it.",
        (PARTICIPANT, VISIT, VISIT_NUM, *_score_columns(instrument)), key=("participant_id", "visit"))


def _outcome_columns(source: str) -> tuple[Column, ...]:
    return tuple(column(o.id, "number", f"{o.label} ({o.unit}): {o.derivation}.") for o in outcomes_from(source))


OURA_NIGHTLY = TableContract(
    "oura_nightly", "windows",
    "One row per participant and Oura day: study day, window and every Oura outcome of the registry "
    "(main sleep = the longest long_sleep period of the day; naps, rest and deleted periods never).",
    (PARTICIPANT, column("day", "date", "Oura day.", required=True), STUDY_DAY, WINDOW_VISIT, WINDOW_VISIT_NUM,
     *_outcome_columns("oura_nightly")),
    key=("participant_id", "day"))

DIARY_DAILY = TableContract(
    "diary_daily", "windows",
    "One row per participant and diary date: study day, window, every diary outcome of the registry, "
    "adherence and adverse-event text.",
    (PARTICIPANT, column("date", "date", "Diary date.", required=True), STUDY_DAY, WINDOW_VISIT,
     WINDOW_VISIT_NUM, *_outcome_columns("diary_daily"),
     column("took_supplement", "text", "yes, no, or null before Day 1.", isin=("yes", "no")),
     column("adverse_event", "text", "Adverse-event text of the day; null when none.")),
    key=("participant_id", "date"))

OUTCOME_WINDOWS = TableContract(
    "outcome_windows", "windows",
    "Every registry outcome per participant and visit: the window mean of the valid days of a daily "
    "outcome (missing below 3 valid days), or the score of the visit's questionnaire.",
    (PARTICIPANT, OUTCOME, VISIT, VISIT_NUM, column("value", "number", "Outcome value; null: missing."),
     column("n_valid_days", "integer", "Valid days in the window; null for questionnaires.", ge=0)),
    key=("participant_id", "outcome", "visit"))

ANALYSIS_DATASET = TableContract(
    "analysis_dataset", "analysis",
    "The SAP's analysis dataset: one row per randomized participant, registry outcome and "
    "post-baseline visit, exactly the SAP's columns.",
    (PARTICIPANT, column("arm", "text", f"Arm as randomized ({ARM_NOTE}).", required=True), OUTCOME,
     POST_BASELINE, column("visit_num", "integer", "1 .. 3.", required=True, ge=1, le=3),
     column("aval", "number", "Outcome value at the visit; null: missing."),
     column("base", "number", "Outcome value at baseline; null: missing."),
     column("chg", "number", "aval - base."),
     column("fas", "boolean", "In the full analysis set for this outcome (randomized, dosed, with base).",
            required=True),
     column("pp", "boolean", "In the per-protocol set (inside the FAS, adherent).", required=True)),
    key=("participant_id", "outcome", "visit"))

BASELINE_CHARACTERISTICS = TableContract(
    "baseline_characteristics", "analysis",
    "Table 1: randomized participants by arm as randomized, then overall: n, age, sex and the baseline "
    "ISI, RSQ-W and Oura sleep score.",
    (column("characteristic", "text", "participants, age, sex or an outcome id.", required=True),
     column("level", "text", "Level of a categorical characteristic (sex: F, M, X); else null."),
     column("arm", "text", f"An arm ({ARM_NOTE}) or overall.", required=True),
     column("n", "integer", "Participants in the arm.", required=True, ge=0),
     column("mean", "number", "Mean of a continuous characteristic."),
     column("sd", "number", "Standard deviation of a continuous characteristic."),
     column("count", "integer", "Participants counted (with a value, or in the level).", ge=0),
     column("percent", "number", "count / n x 100.", ge=0, le=100),
     column("display", "text", "The cell as the report prints it.")),
    key=("characteristic", "level", "arm"))

PARTICIPANT_FLOW = TableContract(
    "participant_flow", "analysis",
    "CONSORT counts: enrolled, randomized, dosed, completed, withdrawn, lost to follow-up and the FAS of "
    "key outcomes, by arm, with not randomized and total.",
    (column("stage", "text", "Stage of the flow.", required=True),
     column("arm", "text", f"An arm ({ARM_NOTE}), not randomized, or total.", required=True),
     column("n", "integer", "Participants.", required=True, ge=0)),
    key=("stage", "arm"))

ADVERSE_EVENTS = TableContract(
    "adverse_events", "analysis",
    "Safety set: every adverse event written in the diary by a dosed participant.",
    (PARTICIPANT, STUDY_DAY, column("date", "date", "Diary date of the event."),
     column("arm", "text", f"Arm as randomized ({ARM_NOTE}); null if not randomized."),
     column("text", "text", "The adverse-event text, identifiers redacted.", required=True)))

_ESTIMATE = (
    column("estimate", "number", "Active minus placebo (B minus A while blinded) in adjusted means."),
    column("se", "number", "Standard error of the estimate."),
    column("df", "number", "Degrees of freedom (Satterthwaite)."),
    column("df_method", "text", "How df were computed."),
    column("ci_low", "number", "95% CI, lower."), column("ci_high", "number", "95% CI, upper."),
    column("p_value", "number", "Two-sided p of the contrast.", ge=0, le=1))
_MODEL = (
    column("n_active", "integer", "Participants of the active arm (B while blinded) in the model.", ge=0),
    column("n_placebo", "integer", "Participants of the placebo arm (A while blinded) in the model.", ge=0))
_FIT = (
    column("converged", "boolean", "The model was fitted.", required=True),
    column("message", "text", "Why a model was not fitted, or notes on the fit."),
    column("blinded", "boolean", "Arms are A/B (no unblinding.csv).", required=True),
    column("model", "text", "The model formula."),
    column("interaction_p", "number", "Joint test of visit x arm.", ge=0, le=1),
    column("hedges_g", "number", "Hedges' g at week_3 (difference over the pooled baseline SD)."),
    column("hedges_g_ci_low", "number", "95% CI of g, lower."),
    column("hedges_g_ci_high", "number", "95% CI of g, upper."),
    column("ancova_estimate", "number", "ANCOVA (HC3) on completers, week_3."),
    column("ancova_se", "number", "SE of the ANCOVA estimate."),
    column("ancova_p", "number", "p of the ANCOVA estimate.", ge=0, le=1),
    column("pp_estimate", "number", "Primary model on the per-protocol set, week_3."),
    column("pp_se", "number", "SE of the per-protocol estimate."),
    column("pp_p", "number", "p of the per-protocol estimate.", ge=0, le=1))

_MMRM = (
    column("mmrm_estimate", "number", "MMRM (SAP sensitivity): the same contrast, Kenward-Roger adjusted."),
    column("mmrm_se", "number", "SE of the MMRM estimate (Kenward-Roger adjusted)."),
    column("mmrm_df", "number", "Kenward-Roger df of the MMRM estimate."),
    column("mmrm_df_method", "text", "kenward-roger; null when no MMRM was fitted."),
    column("mmrm_ci_low", "number", "95% CI of the MMRM estimate, lower."),
    column("mmrm_ci_high", "number", "95% CI of the MMRM estimate, upper."),
    column("mmrm_p_value", "number", "p of the MMRM estimate.", ge=0, le=1),
    column("mmrm_df_satterthwaite", "number", "Satterthwaite df of the MMRM estimate, for comparison."),
    column("mmrm_covariance", "text", "The first covariance structure of the SAP's order that converged; "
                                      "empty when none did.",
           isin=(*FALLBACK_ORDER, "")),
    column("mmrm_n_active", "integer", "Active participants in the MMRM.", ge=0),
    column("mmrm_n_placebo", "integer", "Placebo participants in the MMRM.", ge=0),
    column("ancova_n_active", "number", "Active completers in the ANCOVA."),
    column("ancova_n_placebo", "number", "Placebo completers in the ANCOVA."))

EFFECT_TABLE = TableContract(
    "effect_<outcome id>", "treatment_effects",
    "One outcome's treatment effects, one row per post-baseline visit, from the SAP's primary mixed "
    "model on the FAS; Hedges' g and the sensitivity analyses on the week_3 row (null on the others).",
    (OUTCOME, POST_BASELINE, column("visit_num", "integer", "1 .. 3.", required=True, ge=1, le=3),
     *_ESTIMATE,
     *(column(f"mean_{arm}{bound}", "number", f"Adjusted mean of the {arm} arm{text}.")
       for arm in ("placebo", "active") for bound, text in (("", ""), ("_ci_low", ", 95% CI lower"),
                                                           ("_ci_high", ", 95% CI upper"))),
     *_MODEL, column("n_obs", "integer", "Rows in the model.", ge=0), *_FIT,
     column("sigma_b", "number", "Between-participant SD."), column("sigma_e", "number", "Residual SD."),
     column("ancova_n", "number", "Completers in the ANCOVA."),
     column("pp_df", "number", "df of the per-protocol estimate."),
     column("pp_n_active", "number", "Active participants in the per-protocol model."),
     column("pp_n_placebo", "number", "Placebo participants in the per-protocol model."), *_MMRM),
    key=("visit",), tables=tuple(f"effect_{o.id}" for o in OUTCOMES))

TREATMENT_EFFECTS = TableContract(
    "treatment_effects", "treatment_effects",
    "The SAP's effects table: the week_3 effect of every registry outcome with raw and "
    "Benjamini-Hochberg p (within family) and the sensitivity analyses.",
    (OUTCOME, FAMILY,
     column("better", "text", "Which direction is better.", required=True, isin=("higher", "lower")),
     column("visit", "text", "week_3.", required=True), *_MODEL, *_ESTIMATE,
     column("p_adj", "number", "BH-adjusted p within the family.", ge=0, le=1),
     column("improved", "boolean", "p_adj < 0.05 in the better direction.", required=True), *_FIT, *_MMRM,
     column("pp_n_active", "number", "Active participants in the per-protocol model."),
     column("pp_n_placebo", "number", "Placebo participants in the per-protocol model.")),
    key=("outcome",))

CONTRACTS = (*(score_contract(i) for i in INSTRUMENTS), OURA_NIGHTLY, DIARY_DAILY, OUTCOME_WINDOWS,
             ANALYSIS_DATASET, BASELINE_CHARACTERISTICS, PARTICIPANT_FLOW, ADVERSE_EVENTS, EFFECT_TABLE,
             TREATMENT_EFFECTS)
