"""What the ADaM datasets hold, declared once: datasets, variables with their ADaMIG labels, codelists.

Everything the submission writes reads from here: the derivations (``adsl``, ``bds``) order their
columns by it, the XPT and Dataset-JSON writers take labels and types from it, and define.xml
describes it. One BDS dataset per outcome family of the registry; its parameters are the registry's
outcomes (``PARAMCD``/``PARAM`` from ``Outcome.paramcd``/``param``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from mglt_pipeline.registry import FAMILIES, OUTCOMES, Outcome

STUDY_ID = "MGLT01"
STUDY_NAME = "MGLT01 sleep trial"
STUDY_DESCRIPTION = ("Randomized, double-blind, placebo-controlled parallel-arm trial, 21 days of treatment, "
                     "in adults with self-reported sleep problems")
TREATMENTS = "Treatments: magnesium L-threonate (MgT) 1 g/day or placebo"
"""Named in define.xml only once unblinded, as the report names no treatment while blinded."""
ADAMIG = ("ADaMIG", "1.3")
DataType = Literal["text", "integer", "float", "date"]


@dataclass(frozen=True)
class Variable:
    """One ADaM variable: SAS name, label (at most 40 characters), Define-XML data type, origin
    (``Derived``, ``Predecessor`` or ``Assigned``), how it is obtained, and its codelist if any."""

    name: str
    label: str
    data_type: DataType
    origin: str
    method: str
    codelist: str | None = None


@dataclass(frozen=True)
class DatasetSpec:
    """One ADaM dataset: name (at most 8 characters), label, class, structure, keys and variables."""

    name: str
    label: str
    adam_class: str
    structure: str
    keys: tuple[str, ...]
    variables: tuple[Variable, ...]

    @property
    def file_stem(self) -> str:
        return self.name.lower()

    def variable(self, name: str) -> Variable:
        return next(v for v in self.variables if v.name == name)


def _v(name, label, data_type, origin, method, codelist=None) -> Variable:
    return Variable(name, label, data_type, origin, method, codelist)


SUBJECT_ID = [
    _v("STUDYID", "Study Identifier", "text", "Assigned", f"The study's identifier, {STUDY_ID}."),
    _v("USUBJID", "Unique Subject Identifier", "text", "Derived", "STUDYID, a hyphen and SUBJID."),
]
TREATMENT = [
    _v("TRT01P", "Planned Treatment for Period 01", "text", "Derived",
       "The arm randomized to (randomization.csv arm_code, named by unblinding.csv; the code A/B while "
       "blinded).", "TRT"),
    _v("TRT01PN", "Planned Treatment for Period 01 (N)", "integer", "Derived",
       "1 for the reference arm, 2 for the other, as the effects are estimated (other minus reference): "
       "the placebo arm once unblinded; A and B while blinded (the codes say nothing of the treatment).",
       "TRTN"),
    _v("TRT01A", "Actual Treatment for Period 01", "text", "Derived",
       "TRT01P for a dosed participant (first_dose_on present), else empty.", "TRT"),
    _v("TRT01AN", "Actual Treatment for Period 01 (N)", "integer", "Derived", "TRT01PN when TRT01A is set.",
       "TRTN"),
]
FLAG_METHODS = {
    "RANDFL": "Y when the participant is in randomization.csv, else N.",
    "ITTFL": "Y when randomized (analysed as randomized), else N.",
    "SAFFL": "Y when dosed (first_dose_on present), else N (SAP: safety set).",
    "FASFL": "Y when in the full analysis set of at least one outcome: randomized, dosed, with a baseline "
             "and a post-baseline value (SAP). The set of each parameter is FASPFL in the BDS datasets.",
    "PPROTFL": "Y when in the per-protocol set of at least one outcome: FAS, supplement taken on at least 80% "
               "of Days 1..21 by the diary, study completed (SAP). Per parameter: PPROTPFL.",
    "COMPLFL": "Y when participants.csv status is completed, else N.",
}
FLAG_LABELS = {"RANDFL": "Randomized Population Flag", "ITTFL": "Intent-To-Treat Population Flag",
               "SAFFL": "Safety Population Flag", "FASFL": "Full Analysis Set Population Flag",
               "PPROTFL": "Per-Protocol Population Flag", "COMPLFL": "Completers Population Flag"}
SUBJECT_FLAGS = [_v(name, FLAG_LABELS[name], "text", "Derived", method, "NY") for name, method in FLAG_METHODS.items()]

ADSL = DatasetSpec(
    name="ADSL", label="Subject-Level Analysis Dataset", adam_class="SUBJECT LEVEL ANALYSIS DATASET",
    structure="One record per subject", keys=("STUDYID", "USUBJID"),
    variables=(
        *SUBJECT_ID,
        _v("SUBJID", "Subject Identifier for the Study", "text", "Predecessor", "participants.csv participant_id."),
        _v("SITEID", "Study Site Identifier", "text", "Predecessor", "participants.csv site."),
        _v("AGE", "Age", "integer", "Predecessor", "participants.csv age, years at enrolment."),
        _v("AGEU", "Age Units", "text", "Assigned", "YEARS.", "AGEU"),
        _v("SEX", "Sex", "text", "Predecessor", "participants.csv sex.", "SEX"),
        _v("ARMCD", "Planned Arm Code", "text", "Predecessor",
           "randomization.csv arm_code; NOTASSGN when not randomized.", "ARMCD"),
        _v("ARM", "Description of Planned Arm", "text", "Derived",
           "The arm's name from unblinding.csv (the code A/B while blinded); Not Assigned when not randomized.",
           "ARM"),
        _v("ACTARMCD", "Actual Arm Code", "text", "Derived", "ARMCD when dosed; NOTTRT when randomized and "
           "never dosed; NOTASSGN when not randomized.", "ARMCD"),
        _v("ACTARM", "Description of Actual Arm", "text", "Derived", "ARM when dosed; Not Treated when "
           "randomized and never dosed; Not Assigned when not randomized.", "ARM"),
        *TREATMENT,
        _v("RANDDT", "Date of Randomization", "date", "Predecessor", "randomization.csv randomized_on."),
        _v("TRTSDT", "Date of First Exposure to Treatment", "date", "Predecessor",
           "participants.csv first_dose_on (Study Day 1)."),
        _v("TRTEDT", "Date of Last Exposure to Treatment", "date", "Derived",
           "The last diary date of Days 1..21 with took_supplement = yes."),
        _v("TRTDURD", "Total Treatment Duration (Days)", "integer", "Derived", "TRTEDT - TRTSDT + 1."),
        *SUBJECT_FLAGS,
        _v("EOSSTT", "End of Study Status", "text", "Derived",
           "COMPLETED when status is completed; DISCONTINUED when withdrawn or lost to follow-up.", "EOSSTT"),
        _v("DCSREAS", "Reason for Discontinuation from Study", "text", "Derived",
           "WITHDRAWAL BY SUBJECT (status withdrawn) or LOST TO FOLLOW-UP; empty for completers.", "DCSREAS"),
        _v("EOSDT", "End of Study Date", "date", "Predecessor", "participants.csv withdrawn_on (discontinued "
           "participants; empty for completers, whose last visit date is not recorded)."),
        _v("WEARPCT", "Nights with Oura Main Sleep (%)", "float", "Derived",
           "Share of study nights Day -7..21 up to EOSDT with a main sleep (SAP adherence)."),
        _v("DIARYPCT", "Study Days with Diary Entry (%)", "float", "Derived",
           "Share of study days Day -7..21 up to EOSDT with a diary entry."),
        _v("SUPPPCT", "Days 1-21 Supplement Taken (%)", "float", "Derived",
           "Share of Days 1..21 with took_supplement = yes; a missing entry counts as not taken."),
    ))

AVISITS = {0: "Baseline", 1: "Week 1", 2: "Week 2", 3: "Week 3"}
BDS_VARIABLES = (
    *SUBJECT_ID,
    _v("SITEID", "Study Site Identifier", "text", "Predecessor", "ADSL.SITEID."),
    *[_v(v.name, v.label, v.data_type, "Predecessor", f"ADSL.{v.name}.", v.codelist) for v in TREATMENT],
    _v("TRTP", "Planned Treatment", "text", "Derived", "TRT01P.", "TRT"),
    _v("TRTPN", "Planned Treatment (N)", "integer", "Derived", "TRT01PN.", "TRTN"),
    _v("TRTA", "Actual Treatment", "text", "Derived", "TRT01A.", "TRT"),
    _v("TRTAN", "Actual Treatment (N)", "integer", "Derived", "TRT01AN.", "TRTN"),
    *[_v(name, FLAG_LABELS[name], "text", "Predecessor", f"ADSL.{name}.", "NY")
      for name in ("ITTFL", "SAFFL", "FASFL", "PPROTFL")],
    _v("PARAMCD", "Parameter Code", "text", "Assigned", "The outcome's code in the outcome registry.", "PARAMCD"),
    _v("PARAM", "Parameter", "text", "Assigned", "The outcome's label and unit in the outcome registry.", "PARAM"),
    _v("PARCAT1", "Parameter Category 1", "text", "Assigned", "The outcome's family (multiplicity family).",
       "PARCAT1"),
    _v("AVISIT", "Analysis Visit", "text", "Derived", "The SAP's analysis visit.", "AVISIT"),
    _v("AVISITN", "Analysis Visit (N)", "integer", "Derived", "0 baseline, 1..3 weeks 1..3.", "AVISITN"),
    _v("AWLO", "Analysis Window Beginning Timepoint", "integer", "Assigned",
       "First study day of the visit window (nightly and daily parameters only)."),
    _v("AWHI", "Analysis Window Ending Timepoint", "integer", "Assigned",
       "Last study day of the visit window (nightly and daily parameters only)."),
    _v("AVAL", "Analysis Value", "float", "Derived", "See the parameter's derivation (value level metadata)."),
    _v("BASE", "Baseline Value", "float", "Derived", "AVAL of the parameter's baseline record (AVISITN 0)."),
    _v("CHG", "Change from Baseline", "float", "Derived", "AVAL - BASE on post-baseline records."),
    _v("ABLFL", "Baseline Record Flag", "text", "Derived", "Y on the baseline record when it has a value.", "NY"),
    _v("FASPFL", "Full Analysis Set Parameter Flag", "text", "Derived",
       "Y when in the parameter's full analysis set: randomized, dosed, baseline and a post-baseline AVAL.",
       "NY"),
    _v("PPROTPFL", "Per-Protocol Parameter Flag", "text", "Derived",
       "Y when FASPFL = Y and in the per-protocol set (ADSL.PPROTFL rule).", "NY"),
    _v("ANL01FL", "Analysis Flag 01: Primary Model", "text", "Derived",
       "Y on post-baseline records in the primary model: FASPFL = Y and AVAL present.", "NY"),
    _v("ANL02FL", "Analysis Flag 02: Per-Protocol Model", "text", "Derived",
       "Y on post-baseline records in the per-protocol model: PPROTPFL = Y and AVAL present.", "NY"),
)
BDS_NAMES = {"oura_sleep": ("ADSLEEP", "Oura Sleep Analysis Dataset"),
             "oura_day": ("ADACTIV", "Oura Activity and Readiness Analysis"),
             "sleep_questionnaires": ("ADQSSLP", "Sleep Questionnaires Analysis Dataset"),
             "mood": ("ADQSPOMS", "POMS Analysis Dataset"),
             "diary": ("ADDIARY", "Daily Diary Analysis Dataset")}
BDS: dict[str, DatasetSpec] = {
    family: DatasetSpec(name=BDS_NAMES[family][0], label=BDS_NAMES[family][1], adam_class="BASIC DATA STRUCTURE",
                        structure="One record per subject per parameter per analysis visit",
                        keys=("STUDYID", "USUBJID", "PARAMCD", "AVISITN"), variables=BDS_VARIABLES)
    for family in FAMILIES}
DATASETS: tuple[DatasetSpec, ...] = (ADSL, *BDS.values())


def family_outcomes(family: str) -> tuple[Outcome, ...]:
    """The parameters of one BDS dataset: the registry's outcomes of that family."""
    return tuple(o for o in OUTCOMES if o.family == family)


def parameter_derivation(outcome: Outcome) -> str:
    """AVAL of one parameter in words, from the registry's derivation (SAP "Study days and visits")."""
    if outcome.schedule == "daily":
        return (f"{outcome.param}: {outcome.derivation}, one value per study day (Oura day or diary date); "
                "AVAL is the mean of the valid days of the visit window AWLO..AWHI, missing with fewer than "
                "3 valid days.")
    return (f"{outcome.param}: {outcome.derivation}, scored as INSTRUMENTS.md states, from the REDCap event "
            "of the visit (baseline_arm_1, day_7_arm_1, day_14_arm_1, day_21_arm_1).")
