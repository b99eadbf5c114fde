"""Row rules of the CSV sources (DATA_CONTRACT.md), one pandera model per table.

Each field's ``description`` is the rule as a data manager reads it in the quarantine, prefixed with
the column name. Cells arrive as text; the engine (``validation.engine``) gives each cell the field's
type, and a cell that cannot take it (``abc`` or ``Infinity`` for a number, ``2025-02-30`` for a date)
fails the same rule. Fields marked ``ROW_KEY`` (the keys, and what a row means) reject their row
when bad; any other bad cell is rejected alone and missing in the clean table. Rules across fields
are ``CrossFieldRule``s beside the model.
"""
from __future__ import annotations

from zoneinfo import available_timezones

import pandas as pd
import pandera.pandas as pa
from pandera.engines import pandas_engine
from pandera.typing import Series

from mglt_pipeline.arms import ARM_CODES, TREATMENTS
from mglt_pipeline.scoring.instruments import INSTRUMENTS
from mglt_pipeline.validation.cells import DECIMAL_COMMA
from mglt_pipeline.validation.engine import ROW_KEY, CrossFieldRule
from mglt_pipeline.visits import REDCAP_EVENT_VISITS, VISIT_NUM, VISITS

Date = pandas_engine.DateTime
ISO_DATE = {"to_datetime_kwargs": {"format": "%Y-%m-%d"}}
PARTICIPANT_ID = r"^[A-Za-z0-9_-]{1,32}$"
PARTICIPANT_RULE = "is required: 1 to 32 letters, digits, '_' or '-'"
REDCAP_EVENTS = tuple(REDCAP_EVENT_VISITS)
_TIMEZONES = frozenset(available_timezones())
DAYS_OUTSIDE_STUDY = 14
"""Diary dates more than this many days before enrolment or after Study Day 21 are outside the study."""
LAST_STUDY_DAY = 21


def _is_whole(series: pd.Series) -> pd.Series:
    """Missing, or a whole number (an item coded as an integer)."""
    return series.isna() | (series % 1 == 0)


class Participants(pa.DataFrameModel):
    """participants.csv: one row per enrolled participant."""

    participant_id: Series[str] = pa.Field(str_matches=PARTICIPANT_ID, description=PARTICIPANT_RULE,
                                           metadata=ROW_KEY)
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
    """randomization.csv: the blinded arm code of every randomized participant (a row without a
    good arm code says nothing, so a bad one rejects the row)."""

    participant_id: Series[str] = pa.Field(str_matches=PARTICIPANT_ID, description=PARTICIPANT_RULE,
                                           metadata=ROW_KEY)
    arm_code: Series[str] = pa.Field(isin=list(ARM_CODES), description=f"must be {' or '.join(ARM_CODES)}",
                                     metadata=ROW_KEY)
    randomized_on: Series[Date] = pa.Field(dtype_kwargs=ISO_DATE,
                                           description="is required: a real date written YYYY-MM-DD")
    source_file: Series[str]

    class Config:
        coerce = True


class Unblinding(pa.DataFrameModel):
    """unblinding.csv: which arm code is which treatment."""

    arm_code: Series[str] = pa.Field(isin=list(ARM_CODES), description=f"must be {' or '.join(ARM_CODES)}",
                                     metadata=ROW_KEY)
    arm: Series[str] = pa.Field(isin=list(TREATMENTS), description=f"must be {' or '.join(sorted(TREATMENTS))}",
                                metadata=ROW_KEY)
    source_file: Series[str]

    class Config:
        coerce = True


class DiaryEntries(pa.DataFrameModel):
    """diary/*.csv: one row per participant and calendar date."""

    participant_id: Series[str] = pa.Field(str_matches=PARTICIPANT_ID, description=PARTICIPANT_RULE,
                                           metadata=ROW_KEY)
    date: Series[Date] = pa.Field(dtype_kwargs=ISO_DATE, description="is required: a real date written YYYY-MM-DD",
                                  metadata=ROW_KEY)
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

    record_id: Series[str] = pa.Field(str_matches=PARTICIPANT_ID, description=PARTICIPANT_RULE,
                                      metadata=ROW_KEY)
    redcap_event_name: Series[str] = pa.Field(isin=list(REDCAP_EVENTS), metadata=ROW_KEY,
                                              description="must be one of " + ", ".join(REDCAP_EVENTS))
    isi: Series[float] = pa.Field(alias=r"^isi_\d+$", regex=True, required=False, nullable=True, ge=0, le=4,
                                  description="must be an integer from 0 to 4")
    lseq: Series[float] = pa.Field(alias=r"^lseq_\d+$", regex=True, required=False, nullable=True, ge=0, le=100,
                                   description="must be a number of millimetres from 0 to 100",
                                   metadata={DECIMAL_COMMA: True})
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


def _not_before(later: str, earlier: str):
    """``later`` is empty, or not before ``earlier`` (an empty ``earlier`` cannot be judged)."""
    return lambda frame: frame[later].isna() | frame[earlier].isna() | (frame[later] >= frame[earlier])


def _withdrawal_matches_status(frame: pd.DataFrame) -> pd.Series:
    completed = frame["status"] == "completed"
    return frame["status"].isna() | (completed == frame["withdrawn_on"].isna())


PARTICIPANT_RULES: tuple[CrossFieldRule, ...] = (
    CrossFieldRule("withdrawn_on", ("status",), _withdrawal_matches_status,
                   "must be empty exactly when status is completed (a date when withdrawn or lost to follow-up)"),
    CrossFieldRule("withdrawn_on", ("enrolled_on",), _not_before("withdrawn_on", "enrolled_on"),
                   "must not be before enrolled_on"),
    CrossFieldRule("first_dose_on", ("enrolled_on",), _not_before("first_dose_on", "enrolled_on"),
                   "must not be before enrolled_on"),
)
"""participants.csv rules across fields (DATA_CONTRACT.md): each rejects the field it names."""

ENROLLED_ON = "_enrolled_on"
FIRST_DOSE_ON = "_first_dose_on"
"""Columns the diary reader adds from participants.csv so that a diary date can be judged."""


def _date_in_study(frame: pd.DataFrame) -> pd.Series:
    """Not more than 14 days before enrolment, nor more than 14 days after Study Day 21 (Day 1 is
    ``first_dose_on``, so Day 21 is 20 days later); a bound whose date is unknown is not judged."""
    margin = pd.Timedelta(days=DAYS_OUTSIDE_STUDY)
    early = frame[ENROLLED_ON].notna() & (frame["date"] < frame[ENROLLED_ON] - margin)
    last_day = frame[FIRST_DOSE_ON] + pd.Timedelta(days=LAST_STUDY_DAY - 1)
    late = frame[FIRST_DOSE_ON].notna() & (frame["date"] > last_day + margin)
    return ~(early | late)


DIARY_RULES: tuple[CrossFieldRule, ...] = (
    CrossFieldRule("date", (ENROLLED_ON, FIRST_DOSE_ON), _date_in_study,
                   f"must lie inside the study: not more than {DAYS_OUTSIDE_STUDY} days before enrolled_on "
                   f"nor more than {DAYS_OUTSIDE_STUDY} days after Study Day {LAST_STUDY_DAY}"),
)
