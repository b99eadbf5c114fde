"""Contracts of the clean tables (one asset group per source) and of the data-quality tables.

What the readers write after validation (DATA_CONTRACT.md): typed columns, direct identifiers
dropped at the door, ``source_file`` the raw file a row came from, relative to the data root. The
row rules that admit a value into these tables are the validation room's; the contracts state what a
reader of the warehouse can rely on.
"""
from __future__ import annotations

from mglt_pipeline.warehouse.contract import TableContract, column

SOURCES = ("participants", "randomization", "oura", "redcap", "diary")
PARTICIPANT = column("participant_id", "text", "Pseudonymous participant id.", required=True)
SOURCE_FILE = column("source_file", "text", "Raw file the row came from, relative to the data root.",
                     required=True)
OURA_ID = column("id", "text", "Oura record id; null for records of the account export and the Trends CSV, "
                              "which have none.")
SOURCE_FORMAT = column("source_format", "text", "The way the record arrived: api (Oura API v2), export (the "
                                                "account data export) or trends (the web Trends CSV).",
                       required=True, isin=("api", "export", "trends"))
OURA_DAY = column("day", "date", "Oura day of the document (DATA_CONTRACT.md: the night's day rule).",
                  required=True)
TIMESTAMP_TEXT = column("timestamp", "text", "Oura's timestamp of the document, as given.")


def _scores(*names: str) -> tuple:
    return tuple(column(n, "number", "Oura score or contributor, 1..100.") for n in names)


def _seconds(*names: str) -> tuple:
    return tuple(column(n, "number", "Duration in seconds.") for n in names)


PARTICIPANTS = TableContract(
    "participants", "participants",
    "participants.csv, one row per enrolled participant. A rejected non-key field is null here and "
    "its cell is in the quarantine; direct identifiers (name, e-mail, phone, birth date, address ...) "
    "are dropped at the door.",
    (PARTICIPANT, column("site", "text", "Study site code."),
     column("age", "integer", "Years at enrolment."),
     column("sex", "text", "F, M or X.", isin=("F", "M", "X")),
     column("enrolled_on", "date", "Enrolment date."),
     column("first_dose_on", "date", "Study Day 1; null: never dosed."),
     column("status", "text", "Completion status.", isin=("completed", "withdrawn", "lost_to_follow_up")),
     column("withdrawn_on", "date", "Withdrawal date; null unless withdrawn or lost."),
     column("timezone", "text", "IANA time zone of the participant."), SOURCE_FILE),
    key=("participant_id",))

RANDOMIZATION = TableContract(
    "randomization", "randomization",
    "randomization.csv with the arm names of unblinding.csv; a participant randomized twice is not here "
    "(both rows are in the quarantine).",
    (PARTICIPANT, column("arm_code", "text", "Blinded arm code.", required=True, isin=("A", "B")),
     column("randomized_on", "date", "Randomization date."),
     column("arm", "text", "MgT or placebo from unblinding.csv; null while blinded.", isin=("MgT", "placebo")),
     SOURCE_FILE),
    key=("participant_id",))

OURA_DAILY_SLEEP = TableContract(
    "oura_daily_sleep", "oura", "Oura daily_sleep documents: the sleep score and its seven contributors.",
    (PARTICIPANT, OURA_ID, OURA_DAY, *_scores("score"), TIMESTAMP_TEXT,
     *_scores("contributors_deep_sleep", "contributors_efficiency", "contributors_latency",
              "contributors_rem_sleep", "contributors_restfulness", "contributors_timing",
              "contributors_total_sleep"), SOURCE_FORMAT, SOURCE_FILE),
    key=("participant_id", "day"))

OURA_SLEEP_PERIODS = TableContract(
    "oura_sleep_periods", "oura", "Oura sleep documents: one row per sleep period, durations in seconds.",
    (PARTICIPANT, OURA_ID, OURA_DAY,
     column("type", "text", "Oura's period type; null: not classified (never a main sleep).",
            isin=("long_sleep", "sleep", "late_nap", "rest", "deleted")),
     column("bedtime_start", "text", "ISO 8601 with offset, as given."),
     column("bedtime_end", "text", "ISO 8601 with offset, as given."),
     *_seconds("total_sleep_duration", "deep_sleep_duration", "light_sleep_duration",
               "rem_sleep_duration", "awake_time", "time_in_bed"),
     column("efficiency", "number", "Sleep efficiency, %."),
     column("latency", "number", "Sleep latency, seconds."),
     column("average_heart_rate", "number", "Average heart rate, bpm."),
     column("lowest_heart_rate", "number", "Lowest heart rate, bpm (Oura's 255, no data, is null)."),
     column("average_hrv", "number", "Average HRV, ms."),
     column("bedtime_start_utc", "timestamp", "bedtime_start in UTC (naive)."),
     column("bedtime_end_utc", "timestamp", "bedtime_end in UTC (naive)."),
     column("utc_offset_min", "integer", "UTC offset of bedtime_end, minutes."), SOURCE_FORMAT, SOURCE_FILE),
    key=("participant_id", "id"))

OURA_DAILY_ACTIVITY = TableContract(
    "oura_daily_activity", "oura",
    "Oura daily_activity documents: activity score, steps, calories, distance (m), times (s).",
    (PARTICIPANT, OURA_ID, OURA_DAY, *_scores("score"),
     column("steps", "number", "Steps."), column("active_calories", "number", "kcal."),
     column("total_calories", "number", "kcal."),
     column("equivalent_walking_distance", "number", "Daily movement, metres."),
     *_seconds("high_activity_time", "medium_activity_time", "low_activity_time", "sedentary_time",
               "resting_time", "non_wear_time"), TIMESTAMP_TEXT,
     *_scores("contributors_meet_daily_targets", "contributors_move_every_hour",
              "contributors_recovery_time", "contributors_stay_active", "contributors_training_frequency",
              "contributors_training_volume"), SOURCE_FORMAT, SOURCE_FILE),
    key=("participant_id", "day"))

OURA_DAILY_READINESS = TableContract(
    "oura_daily_readiness", "oura",
    "Oura daily_readiness documents: readiness score, temperature deviation, eight contributors.",
    (PARTICIPANT, OURA_ID, OURA_DAY, *_scores("score"),
     column("temperature_deviation", "number", "Degrees Celsius from the participant's baseline."),
     TIMESTAMP_TEXT,
     *_scores("contributors_activity_balance", "contributors_body_temperature", "contributors_hrv_balance",
              "contributors_previous_day_activity", "contributors_previous_night",
              "contributors_recovery_index", "contributors_resting_heart_rate",
              "contributors_sleep_balance"), SOURCE_FORMAT, SOURCE_FILE),
    key=("participant_id", "day"))

QUESTIONNAIRE_ITEMS = TableContract(
    "questionnaire_items", "redcap",
    "REDCap exports wide to long: one row per participant, event, instrument and item; an unanswered "
    "item is a row with null value.",
    (PARTICIPANT, column("event", "text", "REDCap event name (baseline_arm_1 ...).", required=True),
     column("visit", "text", "Visit of the event.", required=True),
     column("visit_num", "integer", "0 (baseline) .. 3 (week_3).", required=True, ge=0, le=3),
     column("instrument", "text", "isi, lseq, rsq or poms.", required=True),
     column("item", "integer", "Item number, 1-based.", required=True, ge=1),
     column("value", "number", "Coded answer; null: not answered."),
     column("completed_at", "timestamp", "Form completion time; null: [not completed]."),
     column("complete_status", "integer", "0 incomplete, 1 unverified, 2 complete; null if absent.",
            isin=(0, 1, 2)), SOURCE_FILE),
    key=("participant_id", "event", "instrument", "item"))

DIARY_ENTRIES = TableContract(
    "diary_entries", "diary", "Daily diary exports, one row per participant and date.",
    (PARTICIPANT, column("date", "date", "The day the entry describes.", required=True),
     *(column(n, "number", "Rating 0..10; null if empty.") for n in
       ("energy", "productivity", "mood", "mental_alertness", "grouchiness", "sleep_quality")),
     column("took_supplement", "text", "yes, no, or null before Day 1.", isin=("yes", "no")),
     column("adverse_event", "text", "Free text, e-mail addresses and phone numbers redacted; null when none."),
     SOURCE_FILE),
    key=("participant_id", "date"))

_ENTRY = (column("source", "text", "Source: " + ", ".join(SOURCES) + ", or raw for a file or folder of raw/ "
                                    "that belongs to no source.", isin=(*SOURCES, "raw")),
          column("file", "text", "Raw file (a folder for a folder not read), relative to the data root."),
          column("row", "text", "1-based CSV record (header excluded), or the Oura record id, or its "
                                "position in the file; null for a whole file."))
QUARANTINE = TableContract(
    "quarantine", "data_quality",
    "Every rejected value, row or file of every source, with the rule it broke (DATA_CONTRACT.md, "
    "What bad input gets). A row with several faults has several entries and counts once as a "
    "quarantined row; quarantined rows never supersede a good row of an earlier file. "
    "`<source>_quarantine` (group of the source) holds one source's entries.",
    (*_ENTRY, column("line", "text", "1-based line of the file where the record starts (CSV)."),
     column("participant_id", "text", "The participant, where it could be read."),
     column("key", "text", "Event, date or day of the record, where it could be read."),
     column("field", "text", "The rejected field; null for a whole row or file."),
     column("value", "text", "The value as read."),
     column("rule", "text", "The rule, as a sentence a data manager understands.", required=True)),
    tables=("quarantine", *(f"{s}_quarantine" for s in SOURCES)))

SET_ASIDE = TableContract(
    "set_aside", "data_quality",
    "Every file, folder or row that is not read or not used although nothing is wrong with it (another "
    "REDCap event, an Oura collection not analysed, an unknown file name), with the reason: nothing is "
    "skipped without a word. Counts on each clean asset: rows_read = rows_clean + rows_quarantined + "
    "rows_superseded + rows_set_aside. `<source>_set_aside` holds one source's entries.",
    (*_ENTRY, column("participant_id", "text", "The participant, where known."),
     column("key", "text", "Event, date or day, where known."),
     column("reason", "text", "Why it was not used, as a sentence.", required=True)),
    tables=("set_aside", *(f"{s}_set_aside" for s in SOURCES)))

CONTRACTS = (PARTICIPANTS, RANDOMIZATION, OURA_DAILY_SLEEP, OURA_SLEEP_PERIODS, OURA_DAILY_ACTIVITY,
             OURA_DAILY_READINESS, QUESTIONNAIRE_ITEMS, DIARY_ENTRIES, QUARANTINE, SET_ASIDE)
