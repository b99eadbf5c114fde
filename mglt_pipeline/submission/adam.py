"""The ADaM datasets from the warehouse tables: ADSL (one record per participant) and one BDS
dataset per outcome family (one record per participant, parameter and analysis visit).

Conventions of SAS transport files, kept in the frames so that what is written is what is stored:
character variables hold ``""`` when missing (SAS has no null character value), flags are
``Y``/``N`` at subject level and ``Y``/``""`` at record level (ADaMIG), dates are ``datetime.date``
written as SAS dates (DATE9.), every number is a float (XPT stores doubles). The derivation of every
variable is stated in ``metadata`` and printed in define.xml.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from mglt_pipeline.analysis.dataset import derive_arm_labels, is_blinded
from mglt_pipeline.arms import BLINDED_ARMS, UNBLINDED_ARMS
from mglt_pipeline.registry import FAMILY_TITLES
from mglt_pipeline.submission.metadata import ADSL, AVISITS, BDS, STUDY_ID, DatasetSpec, family_outcomes
from mglt_pipeline.visits import TREATMENT_DAYS, VISIT_NUM, VISIT_WINDOWS

NOT_ASSIGNED = ("NOTASSGN", "Not Assigned")
NOT_TREATED = ("NOTTRT", "Not Treated")
END_OF_STUDY = {"completed": ("COMPLETED", ""), "withdrawn": ("DISCONTINUED", "WITHDRAWAL BY SUBJECT"),
                "lost_to_follow_up": ("DISCONTINUED", "LOST TO FOLLOW-UP")}


def _yn(flag: pd.Series) -> pd.Series:
    """``Y``/``N`` (a missing flag is N)."""
    return flag.eq(True).map({True: "Y", False: "N"})


def _y(flag: pd.Series) -> pd.Series:
    """``Y``/``""``: a record-level flag is set or blank (ADaMIG)."""
    return flag.eq(True).map({True: "Y", False: ""})


def _text(values: pd.Series) -> pd.Series:
    return values.astype(object).where(values.notna(), "").astype(str)


def _dates(values: pd.Series) -> pd.Series:
    stamps = pd.to_datetime(values)
    return pd.Series([d.date() if pd.notna(d) else None for d in stamps], index=values.index, dtype=object)


def usubjid(participant_id: pd.Series) -> pd.Series:
    """``STUDYID-participant_id``: participant ids are unique in the trial, so this is too."""
    return STUDY_ID + "-" + participant_id.astype(str)


def treatment_numbers(blinded: bool) -> dict[str, float]:
    """TRT01PN of each arm label: 1 for the model's reference arm, 2 for the other (``BLINDED_ARMS``
    while blinded, ``UNBLINDED_ARMS`` once unblinded: the order of the treatment-effect contrast)."""
    control, active = BLINDED_ARMS if blinded else UNBLINDED_ARMS
    return {control: 1.0, active: 2.0}


def last_dose_dates(diary_daily: pd.DataFrame) -> pd.Series:
    """Per participant, the last diary date of Days 1..21 with ``took_supplement = yes``."""
    first, last = TREATMENT_DAYS
    taken = diary_daily.loc[diary_daily["study_day"].between(first, last).fillna(False).astype(bool)
                            & (diary_daily["took_supplement"] == "yes")]
    return taken.groupby("participant_id")["date"].max()


def derive_adsl(participants: pd.DataFrame, randomization: pd.DataFrame, analysis_dataset: pd.DataFrame,
                participant_adherence: pd.DataFrame, diary_daily: pd.DataFrame) -> pd.DataFrame:
    """ADSL: every enrolled participant, the variables of ``metadata.ADSL`` in its order."""
    people = participants.drop_duplicates("participant_id").reset_index(drop=True)
    blinded = is_blinded(randomization)
    arms = derive_arm_labels(randomization).set_index("participant_id")
    randomized_on = randomization.drop_duplicates("participant_id").set_index("participant_id")["randomized_on"]
    pid = people["participant_id"]
    randomized = pid.isin(arms.index)
    dosed = people["first_dose_on"].notna()
    arm = pid.map(arms["arm"])
    adherence = participant_adherence.set_index("participant_id")
    flags = analysis_dataset.groupby("participant_id")[["fas", "pp"]].any()
    out = pd.DataFrame({"STUDYID": STUDY_ID, "USUBJID": usubjid(pid), "SUBJID": pid.astype(str),
                        "SITEID": _text(people["site"]), "AGE": people["age"].astype(float),
                        "AGEU": np.where(people["age"].notna(), "YEARS", ""), "SEX": _text(people["sex"])})
    out["ARMCD"] = np.where(randomized, _text(pid.map(arms["arm_code"])), NOT_ASSIGNED[0])
    out["ARM"] = np.where(randomized, _text(arm), NOT_ASSIGNED[1])
    out["ACTARMCD"] = np.where(~randomized, NOT_ASSIGNED[0], np.where(dosed, out["ARMCD"], NOT_TREATED[0]))
    out["ACTARM"] = np.where(~randomized, NOT_ASSIGNED[1], np.where(dosed, out["ARM"], NOT_TREATED[1]))
    number = arm.map(treatment_numbers(blinded)).astype(float)
    out["TRT01P"], out["TRT01PN"] = _text(arm), number
    out["TRT01A"] = np.where(dosed & randomized, out["TRT01P"], "")
    out["TRT01AN"] = number.where(dosed & randomized)
    out["RANDDT"] = _dates(pid.map(randomized_on))
    out["TRTSDT"] = _dates(people["first_dose_on"])
    out["TRTEDT"] = _dates(pid.map(last_dose_dates(diary_daily)))
    duration = (pd.to_datetime(out["TRTEDT"]) - pd.to_datetime(out["TRTSDT"])).dt.days + 1
    out["TRTDURD"] = duration.astype(float)
    out["RANDFL"], out["ITTFL"], out["SAFFL"] = _yn(randomized), _yn(randomized), _yn(dosed)
    out["FASFL"] = _yn(pid.map(flags["fas"]))
    out["PPROTFL"] = _yn(pid.map(flags["pp"]))
    out["COMPLFL"] = _yn(people["status"] == "completed")
    end = people["status"].map(END_OF_STUDY)
    out["EOSSTT"] = [e[0] if isinstance(e, tuple) else "" for e in end]
    out["DCSREAS"] = [e[1] if isinstance(e, tuple) else "" for e in end]
    out["EOSDT"] = _dates(people["withdrawn_on"].where(people["status"] != "completed"))
    out["WEARPCT"] = pid.map(adherence["oura_wear_pct"]).astype(float)
    out["DIARYPCT"] = pid.map(adherence["diary_completion_pct"]).astype(float)
    out["SUPPPCT"] = pid.map(adherence["supplement_pct"]).astype(float)
    return _ordered(out.sort_values("USUBJID").reset_index(drop=True), ADSL)


def _ordered(frame: pd.DataFrame, spec: DatasetSpec) -> pd.DataFrame:
    return frame[[v.name for v in spec.variables]]


def _window_days(visit_num: pd.Series, daily: pd.Series) -> tuple[pd.Series, pd.Series]:
    lows = {w.visit_num: float(w.first_day) for w in VISIT_WINDOWS}
    highs = {w.visit_num: float(w.last_day) for w in VISIT_WINDOWS}
    return visit_num.map(lows).where(daily), visit_num.map(highs).where(daily)


def derive_bds(analysis_dataset: pd.DataFrame, adsl: pd.DataFrame, family: str) -> pd.DataFrame:
    """The BDS dataset of one family: per randomized participant and parameter, a baseline record
    (AVAL = the baseline value, ABLFL = Y when present) and one record per post-baseline visit."""
    outcomes = {o.id: o for o in family_outcomes(family)}
    rows = analysis_dataset.loc[analysis_dataset["outcome"].isin(list(outcomes))]
    per_param = rows.groupby(["participant_id", "outcome"], sort=False).agg(
        base=("base", "first"), fas=("fas", "any"), pp=("pp", "any")).reset_index()
    baseline = per_param.assign(visit_num=VISIT_NUM["baseline"], aval=per_param["base"], chg=np.nan)
    post = rows[["participant_id", "outcome", "visit_num", "aval", "base", "chg", "fas", "pp"]]
    records = pd.concat([baseline[post.columns], post], ignore_index=True)
    subject = adsl.set_index("SUBJID")
    pid = records["participant_id"]
    out = pd.DataFrame({"STUDYID": STUDY_ID, "USUBJID": usubjid(pid)})
    for name in ("SITEID", "TRT01P", "TRT01PN", "TRT01A", "TRT01AN"):
        out[name] = pid.map(subject[name]).to_numpy()
    out["TRTP"], out["TRTPN"], out["TRTA"], out["TRTAN"] = out["TRT01P"], out["TRT01PN"], out["TRT01A"], out["TRT01AN"]
    for name in ("ITTFL", "SAFFL", "FASFL", "PPROTFL"):
        out[name] = pid.map(subject[name]).to_numpy()
    out["PARAMCD"] = records["outcome"].map({i: o.paramcd for i, o in outcomes.items()})
    out["PARAM"] = records["outcome"].map({i: o.param for i, o in outcomes.items()})
    out["PARCAT1"] = FAMILY_TITLES[family]
    out["AVISIT"] = records["visit_num"].map(AVISITS)
    out["AVISITN"] = records["visit_num"].astype(float)
    daily = records["outcome"].map({i: o.schedule == "daily" for i, o in outcomes.items()}).astype(bool)
    out["AWLO"], out["AWHI"] = _window_days(records["visit_num"], daily)
    out["AVAL"], out["BASE"], out["CHG"] = records["aval"].astype(float), records["base"].astype(float), records["chg"]
    is_base = records["visit_num"] == VISIT_NUM["baseline"]
    out["CHG"] = out["CHG"].astype(float).where(~is_base)
    out["ABLFL"] = _y(is_base & records["aval"].notna())
    out["FASPFL"], out["PPROTPFL"] = _y(records["fas"]), _y(records["pp"])
    out["ANL01FL"] = _y(~is_base & records["fas"] & records["aval"].notna())
    out["ANL02FL"] = _y(~is_base & records["pp"] & records["aval"].notna())
    out = out.assign(_order=records["outcome"].map({i: k for k, i in enumerate(outcomes)}))
    out = out.sort_values(["USUBJID", "_order", "AVISITN"], kind="stable").drop(columns="_order")
    return _ordered(out.reset_index(drop=True), BDS[family])
