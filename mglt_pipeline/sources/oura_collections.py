"""The Oura collections and file names: what is analysed, what is recognised and set aside, and
which of the three ways (DATA_CONTRACT.md "Oura ring") a file arrived by.

- API v2 responses are named after their collection with an optional page suffix: ``sleep.json``,
  ``sleep_2.json`` are pages of ``sleep``; ``sleep_time.json`` is the ``sleep_time`` collection (a
  known name is matched whole before a page suffix is looked for).
- The account export is ``oura_<type>_<YYYY-MM-DDTHH-MM-SS>.json`` with a ``.csv`` twin, ``<type>``
  hyphenated (``daily-sleep``): its collection is the type with underscores.
- Any other ``.csv`` may be a web Trends CSV; its header decides (``sources.oura_trends``).
Extensions are matched without regard to case. ``personal_info`` (e-mail, age, weight, height) and
location traces (``smoothed_location``) are recognised by name and never opened: they identify a
person and nothing here needs them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePath

from mglt_pipeline.validation.quarantine import SOURCE_FILE

NO_HEART_RATE = 255
"""``lowest_heart_rate`` 255 means no data (INSTRUMENTS.md, Oura)."""
SOURCE_FORMAT = "source_format"
"""Column of the clean Oura tables naming the way a record arrived: ``api``, ``export`` or ``trends``."""
WAYS = ("api", "export", "trends")
"""The three ways, in precedence order: a night from the API wins over the export, which wins
over the Trends CSV (DATA_CONTRACT.md "Which copy of a night wins")."""


@dataclass(frozen=True)
class Collection:
    """One analysed Oura collection: its clean table, its fields and its contributors."""

    name: str
    table: str
    fields: tuple[str, ...]
    contributors: tuple[str, ...] = ()

    @property
    def daily(self) -> bool:
        """Daily documents (one per day) as opposed to sleep periods (any number per day)."""
        return self.name != "sleep"

    @property
    def values(self) -> list[str]:
        """The record's own columns: fields, then contributors flattened to ``contributors_<name>``."""
        return [*self.fields, *(f"contributors_{c}" for c in self.contributors)]

    @property
    def columns(self) -> list[str]:
        """The clean table's columns (sleep periods add their UTC times, see ``sources.oura``)."""
        return ["participant_id", *self.values, SOURCE_FORMAT, SOURCE_FILE]


ANALYSED = (
    Collection("daily_sleep", "oura_daily_sleep", ("id", "day", "score", "timestamp"),
               ("deep_sleep", "efficiency", "latency", "rem_sleep", "restfulness", "timing", "total_sleep")),
    Collection("sleep", "oura_sleep_periods", (
        "id", "day", "type", "bedtime_start", "bedtime_end", "total_sleep_duration",
        "deep_sleep_duration", "light_sleep_duration", "rem_sleep_duration", "awake_time",
        "time_in_bed", "efficiency", "latency", "average_heart_rate", "lowest_heart_rate",
        "average_hrv")),
    Collection("daily_activity", "oura_daily_activity", (
        "id", "day", "score", "steps", "active_calories", "total_calories",
        "equivalent_walking_distance", "high_activity_time", "medium_activity_time",
        "low_activity_time", "sedentary_time", "resting_time", "non_wear_time", "timestamp"),
        ("meet_daily_targets", "move_every_hour", "recovery_time", "stay_active",
         "training_frequency", "training_volume")),
    Collection("daily_readiness", "oura_daily_readiness", (
        "id", "day", "score", "temperature_deviation", "timestamp"),
        ("activity_balance", "body_temperature", "hrv_balance", "previous_day_activity",
         "previous_night", "recovery_index", "resting_heart_rate", "sleep_balance")),
)
BY_NAME = {c.name: c for c in ANALYSED}
OTHER_COLLECTIONS = frozenset({
    "sleep_time", "daily_spo2", "daily_stress", "daily_resilience", "daily_cardiovascular_age",
    "vo2_max", "workout", "session", "tag", "enhanced_tag", "heartrate", "heart_rate",
    "rest_mode_period", "ring_configuration", "bedtime", "daily_cycle_phases", "sleep_regularity",
})
"""Collections Oura delivers that the analysis does not use: listed as set aside, never quarantined
(names lower-cased: ``vO2_max`` is ``vo2_max``)."""
NEVER_OPENED = {"personal_info": "personal information (e-mail, age, weight, height)",
                "smoothed_location": "a location trace"}
KNOWN_NAMES = frozenset(BY_NAME) | OTHER_COLLECTIONS | frozenset(NEVER_OPENED)
_EXPORT_NAME = re.compile(r"oura_([a-z0-9-]+)_(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2})\.(json|csv)", re.IGNORECASE)
_PAGE = re.compile(r"(.+)_(\d+)")


@dataclass(frozen=True)
class OuraFile:
    """A file of a participant folder: its way, collection and format (``kind`` says what to do).

    ``kind`` is ``read`` (an analysed collection), ``other`` (a recognised collection that is not
    analysed), ``never_opened``, ``csv`` (maybe a Trends CSV: its header decides) or ``unknown``.
    """

    path: Path
    way: str | None
    collection: str | None
    kind: str
    page: int = 1

    @property
    def is_json(self) -> bool:
        return self.path.suffix.lower() == ".json"


def _kind(collection: str) -> str:
    if collection in NEVER_OPENED:
        return "never_opened"
    return "read" if collection in BY_NAME else "other" if collection in OTHER_COLLECTIONS else "unknown"


def classify(path: Path) -> OuraFile:
    """The way, collection and kind of one file, from its name alone."""
    way, collection, kind, page = _classify_name(path.name)
    return OuraFile(path, way, collection, kind, page)


@lru_cache(maxsize=4096)
def _classify_name(name: str) -> tuple[str | None, str | None, str, int]:
    """(way, collection, kind, page) of a file name: every participant folder repeats the same few
    names, so each is worked out once."""
    suffix = PurePath(name).suffix.lower()
    export = _EXPORT_NAME.fullmatch(name)
    if export:
        collection = export.group(1).lower().replace("-", "_")
        kind = _kind(collection)
        return "export", collection, "other" if kind == "unknown" else kind, 1
    if suffix == ".json":
        stem = PurePath(name).stem.lower()
        page = _PAGE.fullmatch(stem)
        if stem not in KNOWN_NAMES and page and page.group(1) in KNOWN_NAMES:
            return "api", page.group(1), _kind(page.group(1)), int(page.group(2))
        if stem in KNOWN_NAMES:
            return "api", stem, _kind(stem), 1
    if suffix == ".csv":
        return "trends", None, "csv", 1
    return None, None, "unknown", 1
