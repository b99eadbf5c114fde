"""The analysis dataset (SAP "Analysis dataset", "Analysis sets"), in the spirit of an ADaM BDS table.

One row per randomized participant, registry outcome and post-baseline visit: ``participant_id``,
``arm``, ``outcome``, ``visit``, ``visit_num``, ``aval``, ``base``, ``chg``, ``fas``, ``pp``.
Rows with missing ``aval`` are kept so missingness stays visible.
- ``arm``: ``MgT``/``placebo`` once unblinded, else the arm code ``A``/``B`` (SAP "Blinded mode").
- ``fas``: randomized, dosed, with a baseline value and at least one post-baseline value of the
  outcome at hand.
- ``pp``: in the FAS, took the supplement on at least 80% of Days 1..21 by the diary (a missing
  entry counts as not taken), and completed the study.
"""
from __future__ import annotations

import pandas as pd

from mglt_pipeline.visits import BASELINE, POST_BASELINE_VISITS, VISIT_NUM
from mglt_pipeline.registry import OUTCOMES

COLUMNS = ["participant_id", "arm", "outcome", "visit", "visit_num", "aval", "base", "chg", "fas", "pp"]
PP_ADHERENCE_PCT = 80
COMPLETED = "completed"


def is_blinded(randomization: pd.DataFrame) -> bool:
    """True while the arms are known only by their codes (no ``unblinding.csv``).

    Partial unblinding (some arms still null) names no treatment at all, so it counts as blinded.
    """
    return randomization.empty or "arm" not in randomization or bool(randomization["arm"].isna().any())


def derive_arm_labels(randomization: pd.DataFrame) -> pd.DataFrame:
    """``participant_id``, ``arm_code`` and ``arm`` as analysed: unblinded names, else the codes."""
    unique = randomization.drop_duplicates("participant_id").reset_index(drop=True)
    labels = unique["arm_code"] if is_blinded(unique) else unique["arm"]
    return pd.DataFrame({"participant_id": unique["participant_id"], "arm_code": unique["arm_code"],
                         "arm": labels.astype(object)})


def derive_fas(rows: pd.DataFrame, dosed_ids: set[str]) -> pd.Series:
    """FAS flag per row: dosed, baseline present and any post-baseline ``aval`` of that outcome."""
    any_post = rows["aval"].notna().groupby([rows["participant_id"], rows["outcome"]]).transform("any")
    return rows["participant_id"].isin(dosed_ids) & rows["base"].notna() & any_post


def per_protocol_ids(adherence: pd.DataFrame, participants: pd.DataFrame) -> set[str]:
    """Participants adherent on >= 80% of the planned days who completed the study."""
    adherent = adherence["days_taken"] * 100 >= PP_ADHERENCE_PCT * adherence["days_planned"]
    completed = set(participants.loc[participants["status"] == COMPLETED, "participant_id"])
    return set(adherence.loc[adherent, "participant_id"]) & completed


def derive_analysis_dataset(outcome_windows: pd.DataFrame, randomization: pd.DataFrame,
                            participants: pd.DataFrame, adherence: pd.DataFrame) -> pd.DataFrame:
    """The analysis dataset of every randomized participant, registry outcome and post-baseline visit.

    ``adherence`` is ``diary.supplement_adherence`` over Days 1..21.
    """
    arms = derive_arm_labels(randomization)[["participant_id", "arm"]]
    grid = arms.merge(pd.DataFrame({"outcome": [o.id for o in OUTCOMES]}), how="cross")
    grid = grid.merge(pd.DataFrame({"visit": list(POST_BASELINE_VISITS)}), how="cross")
    values = outcome_windows[["participant_id", "outcome", "visit", "value"]]
    post = values[values["visit"].isin(POST_BASELINE_VISITS)].rename(columns={"value": "aval"})
    base = values[values["visit"] == BASELINE].drop(columns="visit").rename(columns={"value": "base"})
    rows = grid.merge(post, on=["participant_id", "outcome", "visit"], how="left")
    rows = rows.merge(base, on=["participant_id", "outcome"], how="left")
    rows["visit_num"] = rows["visit"].map(VISIT_NUM).astype(int)
    rows["aval"] = rows["aval"].astype(float)
    rows["base"] = rows["base"].astype(float)
    rows["chg"] = rows["aval"] - rows["base"]
    dosed = set(participants.loc[participants["first_dose_on"].notna(), "participant_id"])
    rows["fas"] = derive_fas(rows, dosed).astype(bool)
    rows["pp"] = (rows["fas"] & rows["participant_id"].isin(per_protocol_ids(adherence, participants))).astype(bool)
    order = {o.id: i for i, o in enumerate(OUTCOMES)}
    rows = rows.assign(_order=rows["outcome"].map(order)).sort_values(["participant_id", "_order", "visit_num"])
    return rows[COLUMNS].reset_index(drop=True)
