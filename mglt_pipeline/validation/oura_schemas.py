"""Record rules of the Oura collections (DATA_CONTRACT.md "Fields and rules", INSTRUMENTS.md Oura).

Scores and contributors are sub-scores 1..100; heart rates outside 25..220 bpm are impossible
(``lowest_heart_rate`` 255 means no data and is read as missing before these rules); durations are
seconds from 0 to 86,400; ``day`` is an ISO date; period ``type`` is one of Oura's five or missing
(a period Oura did not classify: kept, never a main sleep). A number is a JSON number or a numeric
string; ``true``/``false``, ``NaN`` and ``Infinity`` are not numbers. A JSON ``null`` is a missing
value, so every measurement is nullable. Records of the account export and the Trends CSV have no
``id``: it is nullable too (the key is then the day or the bedtime start, ``sources.oura_records``).

Fields marked ``ROW_KEY`` reject the whole record when bad; any other bad field rejects that field
only, and the record stays with the field missing (``validation.engine``). The record fields are the
key (who, which day, which way) and, for a sleep period, what decides whether it is the day's main
sleep and which night it belongs to: ``type``, ``total_sleep_duration`` (the longest ``long_sleep``
is the main sleep: a rejected total would silently hand the night to another period) and the bedtimes.
A bad score, stage duration, heart rate or HRV is one value.

Two cross-field rules place a sleep period, and reject it when broken (``PERIOD_RULES``): its ``day``
is Oura's day of ``bedtime_end`` (the local date, plus one day from 18:00 local), so that an
inconsistent period never takes another night's place; and it lasts from 0 to 24 hours.
"""
from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from mglt_pipeline.sources.oura_collections import WAYS
from mglt_pipeline.validation.engine import ROW_KEY, CrossFieldRule
from mglt_pipeline.validation.oura_rules import MAX_PERIOD_HOURS, iso_times, oura_day, period_hours
from mglt_pipeline.validation.schemas import ISO_DATE, Date

SLEEP_TYPES = ("long_sleep", "sleep", "late_nap", "rest", "deleted")
SCORE_RULE = "must be empty or a score from 1 to 100"
SECONDS_RULE = "must be empty or a number of seconds from 0 to 86,400"
MAX_SECONDS = 86_400
HEART_RATE_RULE = "must be empty or a heart rate from 25 to 220 bpm"
ISO_TIME_RULE = "must be empty or a real ISO 8601 time with UTC offset, e.g. 2025-01-02T07:10:00+01:00"


def _score(**kwargs) -> pa.Field:
    return pa.Field(nullable=True, ge=1, le=100, description=SCORE_RULE, **kwargs)


def _seconds(**kwargs) -> pa.Field:
    return pa.Field(nullable=True, ge=0, le=MAX_SECONDS, description=SECONDS_RULE, **kwargs)


def _real_iso_time(series: pd.Series) -> pd.Series:
    """Missing, or an ISO 8601 time with offset that names a real instant."""
    local, _ = iso_times(series)
    return series.isna() | local.notna()


class OuraDocument(pa.DataFrameModel):
    """Fields every Oura document has: who (the folder), which record, which day, which way.

    The folder name is held to the participant_id rule before any file is read (a folder whose name
    breaks it is set aside, ``sources.oura``), and to participants.csv here."""

    participant_id: Series[str] = pa.Field(description="is the participant folder", metadata=ROW_KEY)
    id: Series[str] = pa.Field(nullable=True, description="must be empty or the Oura record id")
    day: Series[Date] = pa.Field(dtype_kwargs=ISO_DATE, description="is required: a real date written YYYY-MM-DD",
                                 metadata=ROW_KEY)
    source_format: Series[str] = pa.Field(isin=list(WAYS), description="must be api, export or trends",
                                          metadata=ROW_KEY)
    source_file: Series[str]

    class Config:
        coerce = True


class OuraDailySleep(OuraDocument):
    """daily_sleep: the sleep score and its seven contributors."""

    score: Series[float] = _score()
    timestamp: Series[str] = pa.Field(nullable=True)
    contributors: Series[float] = _score(alias=r"^contributors_\w+$", regex=True, required=False)


class OuraSleepPeriods(OuraDocument):
    """sleep: one document per sleep period, durations in seconds."""

    type: Series[str] = pa.Field(nullable=True, isin=list(SLEEP_TYPES), metadata=ROW_KEY,
                                 description="must be empty or one of " + ", ".join(SLEEP_TYPES))
    bedtime_start: Series[str] = pa.Field(nullable=True, description=ISO_TIME_RULE, metadata=ROW_KEY)
    bedtime_end: Series[str] = pa.Field(nullable=True, description=ISO_TIME_RULE, metadata=ROW_KEY)
    total_sleep_duration: Series[float] = _seconds(metadata=ROW_KEY)
    deep_sleep_duration: Series[float] = _seconds()
    light_sleep_duration: Series[float] = _seconds()
    rem_sleep_duration: Series[float] = _seconds()
    awake_time: Series[float] = _seconds()
    time_in_bed: Series[float] = _seconds()
    efficiency: Series[float] = pa.Field(nullable=True, ge=0, le=100,
                                         description="must be empty or a percentage from 0 to 100")
    latency: Series[float] = _seconds()
    average_heart_rate: Series[float] = pa.Field(nullable=True, ge=25, le=220, description=HEART_RATE_RULE)
    lowest_heart_rate: Series[float] = pa.Field(nullable=True, ge=25, le=220, description=HEART_RATE_RULE)
    average_hrv: Series[float] = pa.Field(nullable=True, ge=0, description="must be empty or a number of ms, not negative")

    @pa.check("bedtime_start", "bedtime_end", name="iso_time_with_offset")
    def _iso_time(cls, series: pd.Series) -> pd.Series:
        return _real_iso_time(series)


class OuraDailyActivity(OuraDocument):
    """daily_activity: activity score, steps, calories, distance (m) and times (s)."""

    score: Series[float] = _score()
    steps: Series[float] = pa.Field(nullable=True, ge=0, description="must be empty or a step count, not negative")
    active_calories: Series[float] = pa.Field(nullable=True, ge=0, description="must be empty or kcal, not negative")
    total_calories: Series[float] = pa.Field(nullable=True, ge=0, description="must be empty or kcal, not negative")
    equivalent_walking_distance: Series[float] = pa.Field(
        nullable=True, ge=0, description="must be empty or a distance in metres, not negative")
    high_activity_time: Series[float] = _seconds()
    medium_activity_time: Series[float] = _seconds()
    low_activity_time: Series[float] = _seconds()
    sedentary_time: Series[float] = _seconds()
    resting_time: Series[float] = _seconds()
    non_wear_time: Series[float] = _seconds()
    timestamp: Series[str] = pa.Field(nullable=True)
    contributors: Series[float] = _score(alias=r"^contributors_\w+$", regex=True, required=False)


class OuraDailyReadiness(OuraDocument):
    """daily_readiness: readiness score, temperature deviation and eight contributors."""

    score: Series[float] = _score()
    temperature_deviation: Series[float] = pa.Field(nullable=True, description="must be empty or a number of degrees")
    timestamp: Series[str] = pa.Field(nullable=True)
    contributors: Series[float] = _score(alias=r"^contributors_\w+$", regex=True, required=False)


SCHEMAS: dict[str, type[pa.DataFrameModel]] = {
    "daily_sleep": OuraDailySleep, "sleep": OuraSleepPeriods,
    "daily_activity": OuraDailyActivity, "daily_readiness": OuraDailyReadiness,
}


def _day_follows_bedtime_end(periods: pd.DataFrame) -> pd.Series:
    expected = oura_day(periods["bedtime_end"])
    return expected.isna() | (expected == pd.to_datetime(periods["day"]))


def _lasts_at_most_a_day(periods: pd.DataFrame) -> pd.Series:
    hours = period_hours(periods)
    return hours.isna() | hours.between(0, MAX_PERIOD_HOURS)


PERIOD_RULES = (
    CrossFieldRule("day", ("bedtime_end",), _day_follows_bedtime_end,
                   "must be Oura's day of bedtime_end (its local date, plus one day from 18:00 local): "
                   "the period is inconsistent and is not used"),
    CrossFieldRule("bedtime_end", ("bedtime_start",), _lasts_at_most_a_day,
                   "must be 0 to 24 hours after bedtime_start: a sleep period lasts at most 24 hours"),
)
CROSS_FIELD_RULES: dict[str, tuple[CrossFieldRule, ...]] = {"sleep": PERIOD_RULES}
