"""Participants, randomization and the study calendar of a simulated trial (STUDY.md, SAP.md).

Design as in the reference study: adults aged 35-55, 1:1 randomization to MgT or placebo in permuted
blocks of four (which of the codes A/B is MgT is itself random), one baseline week (Days -7..-1)
before the first dose on Day 1 (no Day 0), three treatment weeks (Days 1..21). Enrolment is the day
before Day -7. First doses are spread over March 2025 by default, so that participants' data cross
the US (9 March) or the EU (30 March) change to daylight-saving time. A few participants withdraw or
are lost to follow-up (their data stop at ``withdrawn_on``) and one is randomized but never dosed.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from mglt_pipeline.arms import ACTIVE, ARM_CODES, PLACEBO

SITES: dict[str, str] = {
    "NYC": "America/New_York",
    "CHI": "America/Chicago",
    "LAX": "America/Los_Angeles",
    "AMS": "Europe/Amsterdam",
    "LON": "Europe/London",
}
"""Study site code and the IANA time zone of its participants."""

DEFAULT_FIRST_DOSE_FROM = dt.date(2025, 3, 3)
ENROLMENT_SPAN_DAYS = 26
BASELINE_DAYS = 7
TREATMENT_DAYS = 21
N_DAYS = BASELINE_DAYS + TREATMENT_DAYS
WITHDRAWN_SHARE = 0.06
LOST_SHARE = 0.04

OFFSETS = np.arange(N_DAYS)
"""Calendar offset of each collection day from Day -7 (0..27)."""
STUDY_DAYS = np.where(OFFSETS < BASELINE_DAYS, OFFSETS - BASELINE_DAYS, OFFSETS - BASELINE_DAYS + 1)
"""Study day of each offset: -7..-1, then 1..21 (SAP: no Day 0)."""
DAY_WEEK = np.where(STUDY_DAYS < 0, 0, (STUDY_DAYS - 1) // 7 + 1)
"""Analysis window of each offset: 0 baseline, 1..3 week_1..week_3 (SAP windows)."""
VISIT_OFFSETS = np.array([BASELINE_DAYS - 1, 13, 20, 27])
"""Questionnaire days (Day -1, 7, 14, 21) as offsets; index = visit_num 0..3."""


def participant_ids(n: int) -> list[str]:
    """Pseudonymous ids P001, P002, ... (wider when n > 999)."""
    width = max(3, len(str(n)))
    return [f"P{i:0{width}d}" for i in range(1, n + 1)]


def randomize(rng: np.random.Generator, n: int) -> tuple[np.ndarray, str]:
    """Arm codes in permuted blocks of four (1:1), and the code that means MgT."""
    blocks = [rng.permutation([*ARM_CODES, *ARM_CODES]) for _ in range((n + 3) // 4)]
    codes = np.concatenate(blocks)[:n] if blocks else np.array([], dtype=str)
    return codes, str(rng.choice(list(ARM_CODES)))


def _statuses(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, int | None]:
    """Status and treatment day of leaving (0 if completed); one never-dosed participant."""
    status = np.array(["completed"] * n, dtype=object)
    leave_day = np.zeros(n, dtype=int)
    order = rng.permutation(n)
    n_withdrawn = int(round(WITHDRAWN_SHARE * n)) if n >= 10 else min(1, n // 4)
    n_lost = int(round(LOST_SHARE * n)) if n >= 10 else min(1, n // 6)
    withdrawn, lost = order[:n_withdrawn], order[n_withdrawn:n_withdrawn + n_lost]
    status[withdrawn] = "withdrawn"
    status[lost] = "lost_to_follow_up"
    leave_day[withdrawn] = rng.integers(3, 18, size=len(withdrawn))
    leave_day[lost] = rng.integers(8, 20, size=len(lost))
    never_dosed = int(order[n_withdrawn + n_lost]) if n >= 10 else None
    if never_dosed is not None:
        status[never_dosed] = "withdrawn"
    return status, leave_day, never_dosed


def simulate_design(rng: np.random.Generator, n: int,
                    first_dose_from: dt.date = DEFAULT_FIRST_DOSE_FROM) -> pd.DataFrame:
    """One row per participant: the participants.csv columns plus arm and data-collection limits.

    ``day_minus_7`` is the date of Day -7, ``last_offset`` the last collection offset (0..27) before
    leaving (27 when completed), ``is_active`` whether the participant's arm is MgT.
    """
    sites = np.array(list(SITES))[rng.integers(0, len(SITES), size=n)]
    first_dose = pd.Timestamp(first_dose_from) + pd.to_timedelta(
        np.sort(rng.integers(0, ENROLMENT_SPAN_DAYS, size=n)), unit="D")
    day_minus_7 = first_dose - pd.Timedelta(days=BASELINE_DAYS)
    status, leave_day, never_dosed = _statuses(rng, n)
    last_offset = np.where(leave_day > 0, leave_day + BASELINE_DAYS - 1, N_DAYS - 1)
    codes, active_code = randomize(rng, n)
    design = pd.DataFrame({
        "participant_id": participant_ids(n),
        "site": sites,
        "age": rng.integers(35, 56, size=n),
        "sex": rng.choice(["F", "M", "X"], size=n, p=[0.55, 0.43, 0.02]),
        "enrolled_on": day_minus_7 - pd.Timedelta(days=1),
        "first_dose_on": first_dose,
        "status": status,
        "timezone": [SITES[s] for s in sites],
        "arm_code": codes,
        "is_active": codes == active_code,
        "day_minus_7": day_minus_7,
        "last_offset": last_offset,
    })
    if never_dosed is not None:
        design.loc[never_dosed, "first_dose_on"] = pd.NaT
        design.loc[never_dosed, "last_offset"] = BASELINE_DAYS - 1
    leaving = design["status"] != "completed"
    design["withdrawn_on"] = (design["day_minus_7"]
                              + pd.to_timedelta(design["last_offset"], unit="D")).where(leaving)
    design.attrs["active_arm_code"] = active_code
    return design


def collected(design: pd.DataFrame) -> np.ndarray:
    """Participants x 28 days: True where the day falls before the participant left."""
    return OFFSETS[None, :] <= design["last_offset"].to_numpy()[:, None]


def dates(design: pd.DataFrame) -> np.ndarray:
    """Participants x 28 calendar dates (datetime64[D]) of Day -7 .. Day 21."""
    start = design["day_minus_7"].to_numpy().astype("datetime64[D]")
    return start[:, None] + OFFSETS[None, :].astype("timedelta64[D]")


def participants_table(design: pd.DataFrame) -> pd.DataFrame:
    """participants.csv (DATA_CONTRACT.md column order)."""
    cols = ["participant_id", "site", "age", "sex", "enrolled_on", "first_dose_on", "status",
            "withdrawn_on", "timezone"]
    return design[cols]


def randomization_table(design: pd.DataFrame) -> pd.DataFrame:
    """randomization.csv: randomized on the day of enrolment."""
    return design[["participant_id", "arm_code", "enrolled_on"]].rename(
        columns={"enrolled_on": "randomized_on"})


def unblinding_table(active_code: str) -> pd.DataFrame:
    """unblinding.csv: which arm code is MgT."""
    return pd.DataFrame({"arm_code": list(ARM_CODES),
                         "arm": [ACTIVE if c == active_code else PLACEBO for c in ARM_CODES]})
