"""Contracts of the tables made for people outside the pipeline: adherence, ADaM, API pull status.

The ADaM tables' contracts are generated from the one declaration of the datasets
(``submission.metadata``: names, ADaMIG labels, data types, derivations), so a variable added there
is in the contract and in ``docs/TABLES.md`` by itself. The adherence reasons and measures come from
the adherence room, the pull statuses from the pull room.
"""
from __future__ import annotations

from mglt_pipeline.analysis.adherence import MISSING_REASONS, REASONS
from mglt_pipeline.analysis.adherence_summary import MEASURES
from mglt_pipeline.pull.state import STATUSES
from mglt_pipeline.submission.metadata import DATASETS, DatasetSpec
from mglt_pipeline.visits import VISITS
from mglt_pipeline.warehouse.clean_tables import PARTICIPANT
from mglt_pipeline.warehouse.contract import TableContract, column
from mglt_pipeline.warehouse.derived_tables import FAMILY, OUTCOME, POST_BASELINE

ARM = column("arm", "text", "Arm as randomized (MgT/placebo once unblinded, A/B while blinded); "
                            "`not randomized` for a dosed participant never randomized.", required=True)
PERCENT = {"ge": 0, "le": 100}

ADHERENCE = TableContract(
    "adherence", "adherence",
    "One row per dosed participant and study night (Day -7..-1, 1..21): did the Oura ring record a main "
    "sleep, and if not, why (SAP, Adherence and missing data).",
    (PARTICIPANT, ARM, column("study_day", "integer", "Study day of the night (no Day 0).", required=True),
     column("night", "date", "Date of the night (the Oura day).", required=True),
     column("visit", "text", "Analysis window of the night.", isin=VISITS),
     column("visit_num", "integer", "Number of the window.", ge=0, le=3),
     column("main_sleep", "boolean", "A long_sleep period that night.", required=True),
     column("in_study", "boolean", "On or before withdrawn_on.", required=True),
     column("reason", "text", "Null for a night with a main sleep inside the study, else the first reason "
                              "that applies.", isin=REASONS)),
    key=("participant_id", "study_day"))

PARTICIPANT_ADHERENCE = TableContract(
    "participant_adherence", "adherence",
    "One row per dosed participant: Oura wear overall and by window, nights without a main sleep by "
    "reason, diary completion and supplement adherence. Percentages are 0..100.",
    (PARTICIPANT, ARM,
     column("nights_in_study", "integer", "Study nights on or before withdrawal.", required=True, ge=0),
     column("nights_main_sleep", "integer", "Of them, nights with a main sleep.", required=True, ge=0),
     column("oura_wear_pct", "number", "nights_main_sleep / nights_in_study x 100.", **PERCENT),
     *(column(f"oura_wear_{v}_pct", "number", f"Oura wear in the {v} window; null when it has no study night.",
              **PERCENT) for v in VISITS),
     *(column(f"nights_{r}", "integer", f"Study nights without a main sleep for the reason {r}.", required=True,
              ge=0) for r in MISSING_REASONS),
     column("nights_after_withdrawal", "integer", "Planned nights after withdrawal.", required=True, ge=0),
     column("diary_days", "integer", "Study days with a diary entry.", required=True, ge=0),
     column("diary_completion_pct", "number", "diary_days over the study days in the study x 100.", **PERCENT),
     column("supplement_days_taken", "integer", "Days the diary says the supplement was taken.", required=True,
            ge=0),
     column("supplement_days_planned", "integer", "Dosing days planned (21).", required=True, ge=0),
     column("supplement_pct", "number", "supplement_days_taken / supplement_days_planned x 100.", **PERCENT)),
    key=("participant_id",))

ADHERENCE_SUMMARY = TableContract(
    "adherence_summary", "adherence",
    "Adherence by arm (then total), measure and period: days over possible days pooled, and the "
    "distribution of the participants' own shares.",
    (column("arm", "text", "An arm, or total.", required=True),
     column("measure", "text", "oura_wear, night_<reason>, diary_completion or supplement.", required=True,
            isin=MEASURES),
     column("period", "text", "An analysis window, or all.", required=True, isin=(*VISITS, "all")),
     column("participants", "integer", "Participants counted.", required=True, ge=0),
     column("days", "integer", "Days (nights) meeting the measure.", required=True, ge=0),
     column("of_days", "integer", "Days (nights) possible.", required=True, ge=0),
     *(column(f"{s}_pct", "number", text, **PERCENT) for s, text in (
         ("pooled", "days / of_days x 100."), ("mean", "Mean of the participants' shares."),
         ("median", "Median of the participants' shares."), ("min", "Smallest share."),
         ("max", "Largest share."))),
     column("sd_pct", "number", "SD of the participants' shares.", ge=0)),
    key=("arm", "measure", "period"))

OUTCOME_MISSINGNESS = TableContract(
    "outcome_missingness", "adherence",
    "Each outcome's missing values by post-baseline visit and arm, among the participants of its full "
    "analysis set.",
    (OUTCOME, FAMILY, POST_BASELINE,
     column("visit_num", "integer", "1 .. 3.", required=True, ge=1, le=3),
     ARM,
     column("n_fas", "integer", "Participants of the outcome's FAS in the arm.", required=True, ge=0),
     column("n_with_value", "integer", "Of them, with a value at the visit.", required=True, ge=0),
     column("n_missing", "integer", "Of them, without.", required=True, ge=0),
     column("pct_with_value", "number", "n_with_value / n_fas x 100.", **PERCENT)),
    key=("outcome", "visit", "arm"))

ADAM_TYPES = {"text": "text", "integer": "number", "float": "number", "date": "sas_date"}
"""Define-XML data type -> contract type (SAS keeps every number as a double)."""


def adam_contract(spec: DatasetSpec) -> TableContract:
    """The warehouse table of one ADaM dataset, as ``submission.metadata`` declares it. Character
    values are "" when missing (SAS has no null text)."""
    return TableContract(
        spec.file_stem, "submission",
        f"{spec.name}: {spec.label} ({spec.structure.lower()}), also written as submission/{spec.file_stem}.xpt "
        f"and .json and described by define.xml.",
        tuple(column(v.name, ADAM_TYPES[v.data_type], f"{v.label}. {v.method}", required=v.data_type == "text")
              for v in spec.variables),
        key=spec.keys)


OURA_PULL_STATUS = TableContract(
    "oura_pull_status", "pull",
    "One row per participant the Oura pull has tried (a participant no longer in the token file keeps the "
    "row of their last pull); also kept between pulls as <data root>/pull/oura_pull_status.csv.",
    (PARTICIPANT, column("status", "text", "Status of the participant's pull.", required=True, isin=STATUSES),
     column("since", "date", "First day of the current status."),
     column("last_pulled_day", "date", "The last day through which every analysed collection was asked "
                                       "successfully."),
     column("last_day_with_data", "date", "The last Oura day with a record on disk."),
     column("reason", "text", "The API's words or the rule; empty when ok; never a token."),
     column("http_status", "integer", "HTTP status of the failure; null without one."),
     column("checked_at", "timestamp", "The last pull (UTC).")),
    key=("participant_id",))

CONTRACTS = (ADHERENCE, PARTICIPANT_ADHERENCE, ADHERENCE_SUMMARY, OUTCOME_MISSINGNESS,
             *(adam_contract(spec) for spec in DATASETS), OURA_PULL_STATUS)
