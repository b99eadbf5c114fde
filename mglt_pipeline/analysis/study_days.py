"""Study days and analysis visits (SAP "Study days and visits").

Study Day 1 is ``first_dose_on``; the day before is Day -1 and there is no Day 0 (the CDISC
``--DY`` convention, as admiral's ``derive_vars_dy``). Nightly and daily data fall into the SAP's
analysis windows by their study day (``mglt_pipeline.visits``); questionnaire events are mapped onto
the same visits at ingest.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from mglt_pipeline.visits import VISIT_NUM, VISIT_WINDOWS




def derive_study_day(date, first_dose_on):
    """Study day of ``date`` for a first dose on ``first_dose_on``: Day 1 is the dose day, no Day 0.

    Works on scalars (returns an int, or None when either date is missing) and on aligned Series
    (returns a nullable ``Int64`` Series).
    """
    if isinstance(date, pd.Series) or isinstance(first_dose_on, pd.Series):
        date = pd.to_datetime(pd.Series(date)).dt.normalize()
        first = pd.to_datetime(pd.Series(first_dose_on, index=date.index)).dt.normalize()
        offset = (date - first).dt.days.astype("Int64")
        return offset.where(offset < 0, offset + 1)
    if date is None or first_dose_on is None or pd.isna(date) or pd.isna(first_dose_on):
        return None
    offset = (pd.Timestamp(date).normalize() - pd.Timestamp(first_dose_on).normalize()).days
    return offset + 1 if offset >= 0 else offset


def derive_visit(study_day):
    """The analysis visit whose window holds ``study_day`` (None outside every window).

    Scalars give a str or None; a Series gives an object Series with None outside the windows.
    """
    if isinstance(study_day, pd.Series):
        days = study_day.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        conditions = [(days >= w.first_day) & (days <= w.last_day) for w in VISIT_WINDOWS]
        visits = np.select(conditions, [w.visit for w in VISIT_WINDOWS], default="")
        return pd.Series(visits, index=study_day.index, dtype=object).replace("", None)
    if study_day is None or pd.isna(study_day):
        return None
    for window in VISIT_WINDOWS:
        if window.first_day <= study_day <= window.last_day:
            return window.visit
    return None


def add_study_day_and_visit(frame: pd.DataFrame, date_column: str, participants: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ``study_day``, ``visit`` and ``visit_num`` from each participant's first dose.

    Participants never dosed (or unknown) get null study day and visit: they have no windows.
    """
    doses = participants[["participant_id", "first_dose_on"]].drop_duplicates("participant_id")
    out = frame.merge(doses, on="participant_id", how="left")
    out["study_day"] = derive_study_day(out[date_column], out["first_dose_on"])
    out["visit"] = derive_visit(out["study_day"])
    out["visit_num"] = out["visit"].map(VISIT_NUM).astype("Int64")
    return out.drop(columns="first_dose_on")
