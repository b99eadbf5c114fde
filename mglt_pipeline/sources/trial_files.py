"""participants.csv, randomization.csv (+ unblinding.csv) and diary/*.csv as clean tables.

Columns and types: docs/TABLES.md; rules: DATA_CONTRACT.md and ``validation.schemas``. A participant
listed twice, or randomized twice, is a conflict (both rows quarantined); a bad field of a
participant rejects that field, not the participant. Whatever the raw folder holds besides the files
the pipeline reads is listed in the set-aside table.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from mglt_pipeline.arms import ARM_CODES
from mglt_pipeline.sources.files import not_read, relative_path, source_files
from mglt_pipeline.sources.tables import CsvSource, as_table, ingest_csv, missing_file
from mglt_pipeline.validation.duplicates import conflicted_participants
from mglt_pipeline.validation.quarantine import (
    Ingested, concat_quarantine, concat_set_aside, file_entry, quarantine_frame, set_aside_entry, set_aside_frame,
)
from mglt_pipeline.validation.schemas import (
    DIARY_RULES, ENROLLED_ON, FIRST_DOSE_ON, PARTICIPANT_RULES, DiaryEntries, Participants, Randomization, Unblinding,
)

PARTICIPANTS_COLUMNS = ["participant_id", "site", "age", "sex", "enrolled_on", "first_dose_on",
                        "status", "withdrawn_on", "timezone", "source_file"]
RANDOMIZATION_COLUMNS = ["participant_id", "arm_code", "randomized_on", "arm", "source_file"]
DIARY_COLUMNS = ["participant_id", "date", "energy", "productivity", "mood", "mental_alertness",
                 "grouchiness", "sleep_quality", "took_supplement", "adverse_event", "source_file"]
RAW_FILES = ("participants.csv", "randomization.csv", "unblinding.csv")
RAW_FOLDERS = ("oura", "redcap", "diary")

PARTICIPANTS = CsvSource("participants", Participants.to_schema(), ("participant_id",), rules=PARTICIPANT_RULES)
RANDOMIZATION = CsvSource("randomization", Randomization.to_schema(), ("participant_id",))
UNBLINDING = CsvSource("randomization", Unblinding.to_schema(), ("arm_code",), participant_column="")
DIARY = CsvSource("diary", DiaryEntries.to_schema(), ("participant_id", "date"), key_column="date",
                  rules=DIARY_RULES, free_text=("adverse_event",))


def known_participants(participants: pd.DataFrame, participants_quarantine: pd.DataFrame | None = None) -> pd.Series:
    """Participants of participants.csv: its clean rows, and those listed twice (a conflict leaves
    them without attributes, but they are still participants: their other data are kept)."""
    ids = list(participants["participant_id"].astype(str))
    if participants_quarantine is not None:
        ids += conflicted_participants(participants_quarantine)
    return pd.Series(sorted(set(ids)), dtype=object)


def raw_folder_set_aside(raw_dir: Path, root: Path) -> list[dict]:
    """Every file or folder directly under ``raw/`` that is not one of the contract's."""
    raw = Path(raw_dir)
    if not raw.is_dir():
        return []
    known = {n.lower() for n in RAW_FILES} | set(RAW_FOLDERS)
    read = [p for p in raw.iterdir() if p.name.lower() in known or (p.is_dir() and p.name in RAW_FOLDERS)]
    return not_read(raw, read, root, "raw", "participants.csv, randomization.csv, unblinding.csv, oura/, redcap/, diary/")


def _note_missing(result: Ingested, files: list[Path], raw_dir: Path, root: Path, name: str,
                  source: str) -> Ingested:
    """``result`` with one quarantine entry when its required file is not there."""
    if not files:
        file = relative_path(Path(raw_dir), root) + "/" + name
        result.quarantine = concat_quarantine([missing_file(source, file), result.quarantine])
    return result


def _with_set_aside(result: Ingested, entries: list[dict]) -> Ingested:
    if entries:
        result.set_aside = concat_set_aside([result.set_aside_entries, set_aside_frame(entries)])
    return result


def read_participants(raw_dir: Path, root: Path) -> Ingested:
    """participants.csv: one row per enrolled participant, identifiers dropped at the door; the
    files and folders of ``raw/`` that no source reads are listed as set aside."""
    files = source_files(Path(raw_dir), "participants.csv")
    result = ingest_csv(files, root, PARTICIPANTS)
    result.clean = as_table(result.clean, PARTICIPANTS_COLUMNS)
    result = _note_missing(result, files, raw_dir, root, "participants.csv", "participants")
    return _with_set_aside(result, raw_folder_set_aside(raw_dir, root))


def arm_names(unblinding: pd.DataFrame) -> dict[str, str]:
    """Arm code -> arm name, used only when A and B are named and name different arms."""
    mapping = dict(zip(unblinding["arm_code"], unblinding["arm"]))
    if set(mapping) == set(ARM_CODES) and len(set(mapping.values())) == 2:
        return mapping
    return {}


def _read_unblinding(raw_dir: Path, root: Path, result: Ingested) -> dict[str, str]:
    """The arm names of unblinding.csv, its entries added to ``result``; a file without rows is
    listed as set aside (the analysis stays blinded)."""
    files = source_files(Path(raw_dir), "unblinding.csv")
    if not files:
        return {}
    unblinding = ingest_csv(files, root, UNBLINDING)
    arms = arm_names(unblinding.clean)
    entries = [unblinding.quarantine]
    if not arms and unblinding.rows_read:
        entries.append(quarantine_frame([file_entry(
            "randomization", unblinding.files[0], "arm", "",
            "unblinding.csv must name arm codes A and B as two different arms; the analysis stays blinded")]))
    elif not unblinding.rows_read and unblinding.quarantine.empty:
        _with_set_aside(result, [set_aside_entry("randomization", unblinding.files[0],
                                                 "unblinding.csv has a header but no rows: the analysis stays blinded")])
    result.quarantine = concat_quarantine([result.quarantine, *entries])
    result.files = result.files + unblinding.files
    return arms


def read_randomization(raw_dir: Path, root: Path, known: pd.Series) -> tuple[Ingested, bool]:
    """randomization.csv with ``arm`` from unblinding.csv (null while blinded), and whether the
    arms are unblinded. Rows of unknown participants are quarantined; a participant randomized
    twice is a conflict (both rows quarantined, not analysed). Counts are of randomization.csv rows."""
    files = source_files(Path(raw_dir), "randomization.csv")
    result = ingest_csv(files, root, RANDOMIZATION, known=known)
    result = _note_missing(result, files, raw_dir, root, "randomization.csv", "randomization")
    arms = _read_unblinding(raw_dir, root, result)
    clean = result.clean.copy()
    clean["arm"] = clean["arm_code"].map(arms) if arms else None
    result.clean = as_table(clean, RANDOMIZATION_COLUMNS)
    return result, bool(arms)


def _study_dates(participants: pd.DataFrame | None):
    """Adds each diary row's ``enrolled_on`` and ``first_dose_on`` (for the diary date rule)."""
    if participants is None or participants.empty:
        return None
    by_id = participants.drop_duplicates("participant_id").set_index("participant_id")

    def prepare(frame: pd.DataFrame) -> pd.DataFrame:
        ids = frame["participant_id"]
        frame[ENROLLED_ON] = pd.to_datetime(ids.map(by_id["enrolled_on"]))
        frame[FIRST_DOSE_ON] = pd.to_datetime(ids.map(by_id["first_dose_on"]))
        return frame

    return prepare


def read_diary(raw_dir: Path, root: Path, known: pd.Series, participants: pd.DataFrame | None = None) -> Ingested:
    """diary/*.csv: one row per participant and date, a later export superseding an earlier one;
    a date outside the study (judged with ``participants``' dates) is quarantined; e-mail addresses
    and phone numbers in ``adverse_event`` are redacted."""
    folder = Path(raw_dir) / "diary"
    files = source_files(folder, "*.csv")
    result = ingest_csv(files, root, DIARY, known=known, prepare=_study_dates(participants))
    result.clean = as_table(result.clean, DIARY_COLUMNS)
    return _with_set_aside(result, not_read(folder, files, root, "diary", "*.csv diary exports"))
