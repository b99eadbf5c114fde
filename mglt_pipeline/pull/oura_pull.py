"""Pull one participant's Oura data into ``raw/oura/<participant_id>/``, incrementally.

The study window (``study_window``) runs from 14 days before the earlier of enrolment and Day -7
to 14 days after Day 21: the SAP's nights (Day -7..21) with the margins of DATA_CONTRACT.md (the
diary's "more than 14 days before ``enrolled_on`` or after Study Day 21 is outside the study").
It ends at ``withdrawn_on`` for a participant who withdrew or was lost (no data are collected after
that date), and never after the participant's own today (``daily_activity``: yesterday, as today's
activity is not over). Never dosed: it stays open until today.

Incremental: for each collection, the days already on disk are not asked again except the last
``restate_days`` days with data, which Oura restates (a night is rescored, a day's activity grows
until the day ends). Days after the last day with data are asked every time, so a ring that syncs
late still lands. No day after the window is asked: after ``withdrawn_on`` nothing is collected
(``oura_api.EXCLUSIVE_END`` handles the collection whose ``end_date`` the API treats as exclusive).

A pull's pages of a collection are written (all of them, exactly as served) only when they hold a
record that is new or restated; otherwise nothing is written, so an unchanged trial triggers
nothing. A collection is written only once all its pages have arrived whole.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import requests

from mglt_pipeline.pull.files import atomic_write, next_page_names, page_files
from mglt_pipeline.pull.http import Budget, CallStats, PullError
from mglt_pipeline.pull.oura_api import ANALYSED_COLLECTIONS, OuraClient, Page

CONTRACT_MARGIN_DAYS = 14
BASELINE_DAYS = 7
LAST_STUDY_DAY_OFFSET = 20
"""Day 21 is ``first_dose_on`` + 20 days (Day 1 is the first dose; there is no Day 0)."""
DAY_IN_PROGRESS = frozenset({"daily_activity"})
"""Collections whose document of today keeps growing until the day ends (Oura's activity day runs
from 04:00 to 04:00): they are pulled through yesterday, so that an hourly pull does not write a
new page every hour for a day that is not over. Sleep documents describe a night that has ended."""


@dataclass(frozen=True)
class StudyWindow:
    start: date
    end: date


def study_window(enrolled_on: date, first_dose_on: date | None, withdrawn_on: date | None,
                 today: date) -> StudyWindow:
    """The days to pull for one participant (module docstring); ``start > end`` when nothing is
    due yet."""
    first = enrolled_on if first_dose_on is None else min(enrolled_on, first_dose_on - timedelta(BASELINE_DAYS))
    end = today if first_dose_on is None else \
        first_dose_on + timedelta(LAST_STUDY_DAY_OFFSET + CONTRACT_MARGIN_DAYS)
    if withdrawn_on is not None:
        end = min(end, withdrawn_on)
    return StudyWindow(first - timedelta(CONTRACT_MARGIN_DAYS), min(end, today))


def collection_window(window: StudyWindow, collection: str, today: date) -> StudyWindow:
    """The days of ``window`` to pull for one collection (``DAY_IN_PROGRESS``: not today)."""
    if collection in DAY_IN_PROGRESS:
        return StudyWindow(window.start, min(window.end, today - timedelta(1)))
    return window


def canonical(record: dict) -> str:
    """A record as comparable text: the same content gives the same text, whatever the key order."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass
class StoredCollection:
    """What the participant's folder already holds of one collection: the latest copy of each
    record (by ``id``, later files winning as in the pipeline) and the day of each."""

    records: dict[str, str] = field(default_factory=dict)
    days: dict[str, str] = field(default_factory=dict)

    @property
    def last_day(self) -> date | None:
        known = [d for d in self.days.values() if _is_date(d)]
        return date.fromisoformat(max(known)) if known else None


def _is_date(text: object) -> bool:
    try:
        date.fromisoformat(str(text))
    except ValueError:
        return False
    return True


def stored_collection(folder: Path, collection: str) -> StoredCollection:
    """The records already pulled (a page that cannot be read is left to the pipeline's reader,
    which quarantines it)."""
    stored = StoredCollection()
    for path in page_files(folder, collection):
        try:
            records = json.loads(path.read_bytes()).get("data") or []
        except (ValueError, AttributeError, UnicodeDecodeError):
            continue
        for record in records:
            if isinstance(record, dict) and record.get("id") is not None:
                stored.records[str(record["id"])] = canonical(record)
                stored.days[str(record["id"])] = str(record.get("day"))
    return stored


def request_days(window: StudyWindow, last_day: date | None, restate_days: int) -> StudyWindow | None:
    """The days to ask for: from the last day with data less ``restate_days - 1`` (or the window's
    start), to the window's end; None when there is nothing to ask."""
    start = window.start
    if last_day is not None:
        start = max(window.start, min(last_day, window.end) - timedelta(max(restate_days, 1) - 1))
    return StudyWindow(start, window.end) if start <= window.end else None


@dataclass
class Delta:
    """How a pull's records differ from the stored ones."""

    records_new: int = 0
    records_restated: int = 0
    days_new: set[str] = field(default_factory=set)
    records_absent: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.records_new or self.records_restated)


def compare(pages: list[Page], stored: StoredCollection, asked: StudyWindow) -> Delta:
    """New and restated records of ``pages``, the days that had no record before, and how many
    stored records of the asked days the API no longer serves (they stay on disk: counted, not
    deleted)."""
    delta, fetched = Delta(), set()
    known_days = set(stored.days.values())
    for record in (r for page in pages for r in page.records):
        key = str(record.get("id"))
        fetched.add(key)
        if key not in stored.records:
            delta.records_new += 1
            day = str(record.get("day"))
            if day not in known_days and _is_date(day):
                delta.days_new.add(day)
        elif stored.records[key] != canonical(record):
            delta.records_restated += 1
    delta.records_absent = sum(1 for key, day in stored.days.items()
                               if key not in fetched and _is_date(day)
                               and asked.start <= date.fromisoformat(day) <= asked.end)
    return delta


@dataclass
class ParticipantPull:
    """The outcome of one participant's pull."""

    participant_id: str
    status: str = "ok"
    reason: str = ""
    http_status: int | None = None
    last_pulled_day: date | None = None
    last_day_with_data: date | None = None
    pages_fetched: int = 0
    pages_written: int = 0
    records_new: int = 0
    records_restated: int = 0
    records_absent: int = 0
    days_new: int = 0
    stats: CallStats = field(default_factory=CallStats)


def pull_participant(client: OuraClient, folder: Path, participant_id: str, token: str,
                     window: StudyWindow, today: date, restate_days: int, budget: Budget) -> ParticipantPull:
    """Pull the four analysed collections of one participant (``today``: the participant's date);
    a refusal or a failure stops that participant (collections already complete stay written) and
    is its status."""
    outcome = ParticipantPull(participant_id)
    windows = {c: collection_window(window, c, today) for c in ANALYSED_COLLECTIONS}
    last_days: list[date] = []
    new_days: set[str] = set()
    with requests.Session() as session:
        try:
            for collection in ANALYSED_COLLECTIONS:
                stored = stored_collection(folder, collection)
                last_days += [d for d in [stored.last_day] if d]
                asked = request_days(windows[collection], stored.last_day, restate_days)
                if asked is None:
                    continue
                pages = client.collection(session, token, collection, asked.start, asked.end,
                                          budget, outcome.stats)
                outcome.pages_fetched += len(pages)
                delta = compare(pages, stored, asked)
                _count(outcome, delta, new_days)
                last_days += [date.fromisoformat(d) for d in delta.days_new]
                if delta.changed:
                    for name, page in zip(next_page_names(folder, collection, len(pages)), pages):
                        atomic_write(folder / name, page.body)
                    outcome.pages_written += len(pages)
            through = min(w.end for w in windows.values())
            outcome.last_pulled_day = through if through >= window.start else None
        except PullError as error:
            outcome.status, outcome.reason, outcome.http_status = error.status, error.detail, error.http_status
    outcome.days_new = len(new_days)
    outcome.last_day_with_data = max(last_days, default=None)
    return outcome


def _count(outcome: ParticipantPull, delta: Delta, new_days: set[str]) -> None:
    outcome.records_new += delta.records_new
    outcome.records_restated += delta.records_restated
    outcome.records_absent += delta.records_absent
    new_days |= delta.days_new
