"""Row rules of the CSV sources (DATA_CONTRACT.md), one pandera model per table.

Each field's ``description`` is the rule as a data manager reads it in the quarantine, prefixed with
the column name. Cells arrive as text; ``coerce`` gives them the table's type, and a cell that cannot
take it (``abc`` for a number, ``2025-02-30`` for a date) fails the same rule.
"""
from __future__ import annotations

from zoneinfo import available_timezones

import pandas as pd
import pandera.pandas as pa
from pandera.engines import pandas_engine
from pandera.typing import Series

from mglt_pipeline.arms import ARM_CODES, TREATMENTS
from mglt_pipeline.scoring.instruments import INSTRUMENTS
from mglt_pipeline.visits import REDCAP_EVENT_VISITS, VISIT_NUM, VISITS

Date = pandas_engine.DateTime
ISO_DATE = {"to_datetime_kwargs": {"format": "%Y-%m-%d"}}
PARTICIPANT_ID = r"^[A-Za-z0-9_-]{1,32}$"
PARTICIPANT_RULE = "is required: 1 to 32 letters, digits, '_' or '-'"
REDCAP_EVENTS = tuple(REDCAP_EVENT_VISITS)
_TIMEZONES = frozenset(available_timezones())


def _is_whole(series: pd.Series) -> pd.Series:
    """Missing, or a whole number (an item coded as an integer)."""
    return series.isna() | (series % 1 == 0)


class Participants(pa.DataFrameModel):
    """participants.csv: one row per enrolled participant."""

    participant_id: Series[str] = pa.Field(str_matches=PARTICIPANT_ID, description=PARTICIPANT_RULE)
    site: Series[str] = pa.Field(description="is required: the study site code")
    age: Series[int] = pa.Field(ge=18, le=100, description="must be a whole number of years from 18 to 100")
    sex: Series[str] = pa.Field(isin=["F", "M", "X"], description="must be F, M or X")
    enrolled_on: Series[Date] = pa.Field(dtype_kwargs=ISO_DATE,
                                         description="is required: a real date written YYYY-MM-DD")
    first_dose_on: Series[Date] = pa.Field(nullable=True, dtype_kwargs=ISO_DATE,
                                           description="must be empty or a real date written YYYY-MM-DD")
    status: Series[str] = pa.Field(isin=["completed", "withdrawn", "lost_to_follow_up"],
                                   description="must be completed, withdrawn or lost_to_follow_up")
    withdrawn_on: Series[Date] = pa.Field(nullable=True, dtype_kwargs=ISO_DATE,
                                          description="must be empty or a real date written YYYY-MM-DD")
    timezone: Series[str] = pa.Field(description="must be an IANA time zone such as America/New_York")
    source_file: Series[str]

    @pa.check("timezone", name="iana_zone")
    def _known_zone(cls, series: pd.Series) -> pd.Series:
        return series.isin(_TIMEZONES)

    class Config:
        coerce = True


class Randomization(pa.DataFrameModel):
    """randomization.csv: the blinded arm code of every randomized participant."""

    participant_id: Series[str] = pa.Field(str_matches=PARTICIPANT_ID, description=PARTICIPANT_RULE)
    arm_code: Series[str] = pa.Field(isin=list(ARM_CODES), description=f"must be {' or '.join(ARM_CODES)}")
    randomized_on: Series[Date] = pa.Field(dtype_kwargs=ISO_DATE,
                                           description="is required: a real date written YYYY-MM-DD")
    source_file: Series[str]

    class Config:
        coerce = True


class Unblinding(pa.DataFrameModel):
    """unblinding.csv: which arm code is which treatment."""

    arm_code: Series[str] = pa.Field(isin=list(ARM_CODES), description=f"must be {' or '.join(ARM_CODES)}")
    arm: Series[str] = pa.Field(isin=list(TREATMENTS), description=f"must be {' or '.join(sorted(TREATMENTS))}")
    source_file: Series[str]

    class Config:
        coerce = True


class DiaryEntries(pa.DataFrameModel):
    """diary/*.csv: one row per participant and calendar date."""

    participant_id: Series[str] = pa.Field(str_matches=PARTICIPANT_ID, description=PARTICIPANT_RULE)
    date: Series[Date] = pa.Field(dtype_kwargs=ISO_DATE, description="is required: a real date written YYYY-MM-DD")
    energy: Series[float] = pa.Field(nullable=True, ge=0, le=10, description="must be empty or a number from 0 to 10")
    productivity: Series[float] = pa.Field(nullable=True, ge=0, le=10, description="must be empty or a number from 0 to 10")
    mood: Series[float] = pa.Field(nullable=True, ge=0, le=10, description="must be empty or a number from 0 to 10")
    mental_alertness: Series[float] = pa.Field(nullable=True, ge=0, le=10, description="must be empty or a number from 0 to 10")
    grouchiness: Series[float] = pa.Field(nullable=True, ge=0, le=10, description="must be empty or a number from 0 to 10")
    sleep_quality: Series[float] = pa.Field(nullable=True, ge=0, le=10, description="must be empty or a number from 0 to 10")
    took_supplement: Series[str] = pa.Field(nullable=True, isin=["yes", "no"], description="must be yes, no or empty")
    adverse_event: Series[str] = pa.Field(nullable=True, description="must be text or empty")
    source_file: Series[str]

    class Config:
        coerce = True


class RedcapExport(pa.DataFrameModel):
    """redcap/*.csv: one REDCap flat-export row per participant and event, raw coded values."""

    record_id: Series[str] = pa.Field(str_matches=PARTICIPANT_ID, description=PARTICIPANT_RULE)
    redcap_event_name: Series[str] = pa.Field(isin=list(REDCAP_EVENTS),
                                              description="must be one of " + ", ".join(REDCAP_EVENTS))
    isi: Series[float] = pa.Field(alias=r"^isi_\d+$", regex=True, required=False, nullable=True, ge=0, le=4,
                                  description="must be an integer from 0 to 4")
    lseq: Series[float] = pa.Field(alias=r"^lseq_\d+$", regex=True, required=False, nullable=True, ge=0, le=100,
                                   description="must be a number of millimetres from 0 to 100")
    rsq: Series[float] = pa.Field(alias=r"^rsq_\d+$", regex=True, required=False, nullable=True, ge=1, le=5,
                                  description="must be an integer from 1 to 5")
    poms: Series[float] = pa.Field(alias=r"^poms_\d+$", regex=True, required=False, nullable=True, ge=0, le=4,
                                   description="must be an integer from 0 to 4")
    form_timestamp: Series[str] = pa.Field(
        alias=r"^[a-z]+_timestamp$", regex=True, required=False, nullable=True,
        description="must be a real time written YYYY-MM-DD HH:MM:SS, or [not completed]")
    form_complete: Series[pd.Int64Dtype] = pa.Field(alias=r"^[a-z]+_complete$", regex=True,
                                                    required=False, nullable=True, isin=[0, 1, 2],
                                                    description="must be 0, 1 or 2")
    source_file: Series[str]

    @pa.check(r"^isi_\d+$", r"^rsq_\d+$", r"^poms_\d+$", name="whole_number")
    def _whole_items(cls, series: pd.Series) -> pd.Series:
        return _is_whole(series)

    @pa.check(r"^[a-z]+_timestamp$", name="redcap_timestamp")
    def _real_timestamp(cls, series: pd.Series) -> pd.Series:
        parsed = pd.to_datetime(series, format="%Y-%m-%d %H:%M:%S", errors="coerce")
        return series.isna() | (series == "[not completed]") | parsed.notna()

    class Config:
        coerce = True


class QuestionnaireItems(pa.DataFrameModel):
    """questionnaire_items: the REDCap export in long form, one row per item (docs/TABLES.md)."""

    participant_id: Series[str]
    event: Series[str] = pa.Field(isin=list(REDCAP_EVENTS))
    visit: Series[str] = pa.Field(isin=list(VISITS))
    visit_num: Series[int] = pa.Field(isin=list(VISIT_NUM.values()))
    instrument: Series[str] = pa.Field(isin=[i.name for i in INSTRUMENTS])
    item: Series[int] = pa.Field(ge=1)
    value: Series[float] = pa.Field(nullable=True)
    completed_at: Series[pd.Timestamp] = pa.Field(nullable=True)
    complete_status: Series[pd.Int64Dtype] = pa.Field(nullable=True, isin=[0, 1, 2])
    source_file: Series[str]

    class Config:
        coerce = True
        strict = "filter"
