"""The outcome registry: every outcome of the SAP, declared once.

The analysis dataset, the per-outcome effect assets, the effects table, the report and the
simulator's planted effects are all generated from ``OUTCOMES``. Adding an outcome is one entry here
(plus, if it needs one, a new column in the derived table named by ``source``).

Each outcome's value lives in a column named by its id in the table named by ``source``:
- ``oura_nightly`` and ``diary_daily`` are daily tables, summarised per study week (``schedule``
  ``"daily"``: the window mean of valid days, SAP "Study days and visits");
- ``isi_scores``, ``lseq_scores``, ``rsq_scores`` and ``poms_scores`` are one row per participant and
  REDCap event (``schedule`` ``"visit"``).

Where a daily value comes from is data, not text: ``raw`` names the Oura collection and field (with
its unit conversion) or the diary field. The nightly and diary tables and the independent derivation
(``scripts/independent_derivation.py``) read it from here; ``derivation`` says the same for people
(the report prints it).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Family = Literal["oura_sleep", "oura_day", "sleep_questionnaires", "mood", "diary"]
OuraCollection = Literal["daily_sleep", "sleep", "daily_activity", "daily_readiness"]
FAMILIES: tuple[str, ...] = ("oura_sleep", "oura_day", "sleep_questionnaires", "mood", "diary")
FAMILY_TITLES: dict[str, str] = {"oura_sleep": "Oura sleep", "oura_day": "Oura activity and readiness",
                                 "sleep_questionnaires": "Sleep questionnaires", "mood": "Mood (POMS)",
                                 "diary": "Daily diary"}
"""Each family as the tables, the forest plot and the ADaM datasets name it."""


@dataclass(frozen=True)
class OuraField:
    """An Oura value: its collection, its path inside a record, and the unit conversion.

    ``collection`` ``"sleep"`` means the day's main sleep period (DATA_CONTRACT.md: its ``long_sleep``
    period, the longest if there are several). ``path`` is the JSON path inside the record
    (``("contributors", "deep_sleep")``); the clean tables flatten it to ``column``. The value used
    is the field divided by ``divide_by`` (seconds / 60 = minutes).
    """

    collection: OuraCollection
    path: tuple[str, ...]
    divide_by: float = 1.0

    @property
    def column(self) -> str:
        """The column of the clean Oura table that holds the field (``contributors_deep_sleep``)."""
        return "_".join(self.path)


@dataclass(frozen=True)
class DiaryField:
    """A diary value: the diary export column holding the participant's rating of the day."""

    field: str


@dataclass(frozen=True)
class Outcome:
    """One analysed outcome: where its value comes from and which direction is better."""

    id: str
    family: Family
    source: str
    derivation: str
    unit: str
    better: Literal["higher", "lower"]
    label: str
    raw: OuraField | DiaryField | None = None

    @property
    def schedule(self) -> Literal["daily", "visit"]:
        """``daily`` outcomes are window means of nightly/daily values; ``visit`` ones are per event."""
        return "daily" if self.source in ("oura_nightly", "diary_daily") else "visit"

    def __post_init__(self) -> None:
        expected = {"oura_nightly": OuraField, "diary_daily": DiaryField}.get(self.source)
        if expected is not None and not isinstance(self.raw, expected):
            raise ValueError(f"outcome {self.id!r} from {self.source} needs raw={expected.__name__}(...)")

    @property
    def direction(self) -> int:
        """+1 when higher is better, -1 when lower is better."""
        return 1 if self.better == "higher" else -1

    @property
    def paramcd(self) -> str:
        """The ADaM parameter code (``PARAMCD``, at most 8 characters): ``PARAMCDS`` below."""
        return PARAMCDS[self.id]

    @property
    def param(self) -> str:
        """The ADaM parameter (``PARAM``): the label with the unit, one to one with ``paramcd``."""
        return f"{self.label} ({self.unit})"


def _o(id, family, source, derivation, unit, better, label, raw=None) -> Outcome:
    return Outcome(id, family, source, derivation, unit, better, label, raw)


def _oura(collection: OuraCollection, *path: str, minutes: bool = False) -> OuraField:
    return OuraField(collection, path, 60.0 if minutes else 1.0)


OUTCOMES: tuple[Outcome, ...] = (
    # Oura sleep (nightly, main sleep / daily sleep document)
    _o("oura_sleep_score", "oura_sleep", "oura_nightly", "daily_sleep.score", "score 1-100", "higher", "Sleep score",
       _oura("daily_sleep", "score")),
    _o("oura_deep_sleep_score", "oura_sleep", "oura_nightly", "daily_sleep.contributors.deep_sleep", "score 1-100", "higher", "Deep sleep score",
       _oura("daily_sleep", "contributors", "deep_sleep")),
    _o("oura_rem_sleep_score", "oura_sleep", "oura_nightly", "daily_sleep.contributors.rem_sleep", "score 1-100", "higher", "REM sleep score",
       _oura("daily_sleep", "contributors", "rem_sleep")),
    _o("oura_total_sleep_min", "oura_sleep", "oura_nightly", "main sleep total_sleep_duration / 60", "min", "higher", "Total sleep time",
       _oura("sleep", "total_sleep_duration", minutes=True)),
    _o("oura_deep_sleep_min", "oura_sleep", "oura_nightly", "main sleep deep_sleep_duration / 60", "min", "higher", "Deep sleep time",
       _oura("sleep", "deep_sleep_duration", minutes=True)),
    _o("oura_rem_sleep_min", "oura_sleep", "oura_nightly", "main sleep rem_sleep_duration / 60", "min", "higher", "REM sleep time",
       _oura("sleep", "rem_sleep_duration", minutes=True)),
    _o("oura_light_sleep_min", "oura_sleep", "oura_nightly", "main sleep light_sleep_duration / 60", "min", "lower", "Light sleep time",
       _oura("sleep", "light_sleep_duration", minutes=True)),
    _o("oura_sleep_efficiency", "oura_sleep", "oura_nightly", "main sleep efficiency", "%", "higher", "Sleep efficiency",
       _oura("sleep", "efficiency")),
    _o("oura_sleep_latency_min", "oura_sleep", "oura_nightly", "main sleep latency / 60", "min", "lower", "Sleep latency",
       _oura("sleep", "latency", minutes=True)),
    _o("oura_lowest_hr", "oura_sleep", "oura_nightly", "main sleep lowest_heart_rate (255 = missing)", "bpm", "lower", "Lowest heart rate",
       _oura("sleep", "lowest_heart_rate")),
    _o("oura_average_hrv", "oura_sleep", "oura_nightly", "main sleep average_hrv", "ms", "higher", "Average HRV",
       _oura("sleep", "average_hrv")),
    # Oura day (activity and readiness documents)
    _o("oura_activity_score", "oura_day", "oura_nightly", "daily_activity.score", "score 1-100", "higher", "Activity score",
       _oura("daily_activity", "score")),
    _o("oura_daily_movement_m", "oura_day", "oura_nightly", "daily_activity.equivalent_walking_distance", "m", "higher", "Daily movement",
       _oura("daily_activity", "equivalent_walking_distance")),
    _o("oura_steps", "oura_day", "oura_nightly", "daily_activity.steps", "steps", "higher", "Steps",
       _oura("daily_activity", "steps")),
    _o("oura_readiness_score", "oura_day", "oura_nightly", "daily_readiness.score", "score 1-100", "higher", "Readiness score",
       _oura("daily_readiness", "score")),
    _o("oura_readiness_activity_balance", "oura_day", "oura_nightly", "daily_readiness.contributors.activity_balance", "score 1-100", "higher", "Activity balance",
       _oura("daily_readiness", "contributors", "activity_balance")),
    _o("oura_readiness_sleep_balance", "oura_day", "oura_nightly", "daily_readiness.contributors.sleep_balance", "score 1-100", "higher", "Sleep balance",
       _oura("daily_readiness", "contributors", "sleep_balance")),
    _o("oura_readiness_hrv_balance", "oura_day", "oura_nightly", "daily_readiness.contributors.hrv_balance", "score 1-100", "higher", "HRV balance",
       _oura("daily_readiness", "contributors", "hrv_balance")),
    # Sleep questionnaires (REDCap events)
    _o("isi_total", "sleep_questionnaires", "isi_scores", "ISI total (sum of 7 items)", "0-28", "lower", "ISI total"),
    _o("lseq_gts", "sleep_questionnaires", "lseq_scores", "LSEQ getting to sleep (items 1-3)", "0-100", "higher", "LSEQ getting to sleep"),
    _o("lseq_qos", "sleep_questionnaires", "lseq_scores", "LSEQ quality of sleep (items 4-5)", "0-100", "higher", "LSEQ quality of sleep"),
    _o("lseq_afs", "sleep_questionnaires", "lseq_scores", "LSEQ awake following sleep (items 6-7)", "0-100", "higher", "LSEQ awake following sleep"),
    _o("lseq_bfw", "sleep_questionnaires", "lseq_scores", "LSEQ behaviour following wakefulness (items 8-10)", "0-100", "higher", "LSEQ behaviour following wakefulness"),
    _o("rsq_total", "sleep_questionnaires", "rsq_scores", "RSQ-W total", "0-100", "higher", "RSQ-W total"),
    # Mood (POMS-65)
    _o("poms_ta", "mood", "poms_scores", "POMS tension-anxiety", "0-36", "lower", "POMS tension-anxiety"),
    _o("poms_dd", "mood", "poms_scores", "POMS depression-dejection", "0-60", "lower", "POMS depression-dejection"),
    _o("poms_ah", "mood", "poms_scores", "POMS anger-hostility", "0-48", "lower", "POMS anger-hostility"),
    _o("poms_fi", "mood", "poms_scores", "POMS fatigue-inertia", "0-28", "lower", "POMS fatigue-inertia"),
    _o("poms_cb", "mood", "poms_scores", "POMS confusion-bewilderment", "0-28", "lower", "POMS confusion-bewilderment"),
    _o("poms_va", "mood", "poms_scores", "POMS vigour-activity", "0-32", "higher", "POMS vigour-activity"),
    _o("poms_tmd", "mood", "poms_scores", "POMS total mood disturbance", "-32-200", "lower", "POMS total mood disturbance"),
    # Diary (daily ratings 0-10)
    _o("diary_energy", "diary", "diary_daily", "diary energy, weekly mean", "0-10", "higher", "Energy",
       DiaryField("energy")),
    _o("diary_productivity", "diary", "diary_daily", "diary productivity, weekly mean", "0-10", "higher", "Daytime productivity",
       DiaryField("productivity")),
    _o("diary_mood", "diary", "diary_daily", "diary mood, weekly mean", "0-10", "higher", "Mood",
       DiaryField("mood")),
    _o("diary_mental_alertness", "diary", "diary_daily", "diary mental alertness, weekly mean", "0-10", "higher", "Mental alertness",
       DiaryField("mental_alertness")),
    _o("diary_sleep_quality", "diary", "diary_daily", "diary sleep quality, weekly mean", "0-10", "higher", "Sleep quality (diary)",
       DiaryField("sleep_quality")),
    _o("diary_grouchiness", "diary", "diary_daily", "diary grouchiness, weekly mean", "0-10", "lower", "Grouchiness",
       DiaryField("grouchiness")),
)

OUTCOMES_BY_ID: dict[str, Outcome] = {o.id: o for o in OUTCOMES}

PARAMCDS: dict[str, str] = {
    "oura_sleep_score": "SLPSCORE", "oura_deep_sleep_score": "DEEPSCR", "oura_rem_sleep_score": "REMSCR",
    "oura_total_sleep_min": "TOTSLP", "oura_deep_sleep_min": "DEEPSLP", "oura_rem_sleep_min": "REMSLP",
    "oura_light_sleep_min": "LIGHTSLP", "oura_sleep_efficiency": "SLPEFF", "oura_sleep_latency_min": "SLPLAT",
    "oura_lowest_hr": "LOWHR", "oura_average_hrv": "AVGHRV",
    "oura_activity_score": "ACTSCORE", "oura_daily_movement_m": "MOVEMENT", "oura_steps": "STEPS",
    "oura_readiness_score": "RDYSCORE", "oura_readiness_activity_balance": "RDYACTBL",
    "oura_readiness_sleep_balance": "RDYSLPBL", "oura_readiness_hrv_balance": "RDYHRVBL",
    "isi_total": "ISITOT", "lseq_gts": "LSEQGTS", "lseq_qos": "LSEQQOS", "lseq_afs": "LSEQAFS",
    "lseq_bfw": "LSEQBFW", "rsq_total": "RSQTOT",
    "poms_ta": "POMSTA", "poms_dd": "POMSDD", "poms_ah": "POMSAH", "poms_fi": "POMSFI", "poms_cb": "POMSCB",
    "poms_va": "POMSVA", "poms_tmd": "POMSTMD",
    "diary_energy": "DENERGY", "diary_productivity": "DPRODUCT", "diary_mood": "DMOOD",
    "diary_mental_alertness": "DALERT", "diary_sleep_quality": "DSLPQUAL", "diary_grouchiness": "DGROUCH",
}
"""ADaM ``PARAMCD`` of every outcome (SAS names: letters and digits, at most 8 characters, unique)."""


def outcome(outcome_id: str) -> Outcome:
    """The registry entry of ``outcome_id`` (KeyError names the unknown id)."""
    try:
        return OUTCOMES_BY_ID[outcome_id]
    except KeyError:
        raise KeyError(f"unknown outcome {outcome_id!r}; the registry has {sorted(OUTCOMES_BY_ID)}") from None


def outcomes_from(source: str) -> tuple[Outcome, ...]:
    """The outcomes whose values come from the derived table ``source``."""
    return tuple(o for o in OUTCOMES if o.source == source)
