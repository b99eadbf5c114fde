"""participants.csv, randomization.csv (+ unblinding.csv) and diary/*.csv as clean tables.

Columns and types: docs/TABLES.md; rules: DATA_CONTRACT.md and ``validation.schemas``.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from mglt_pipeline.arms import ARM_CODES
from mglt_pipeline.sources.files import is_settled, source_files
from mglt_pipeline.sources.tables import as_table, ingest_csv, missing_file, relative_path
from mglt_pipeline.validation.quarantine import Ingested, concat_quarantine, file_entry, quarantine_frame
from mglt_pipeline.validation.schemas import DiaryEntries, Participants, Randomization, Unblinding

PARTICIPANTS_COLUMNS = ["participant_id", "site", "age", "sex", "enrolled_on", "first_dose_on",
                        "status", "withdrawn_on", "timezone", "source_file"]
RANDOMIZATION_COLUMNS = ["participant_id", "arm_code", "randomized_on", "arm", "source_file"]
DIARY_COLUMNS = ["participant_id", "date", "energy", "productivity", "mood", "mental_alertness",
                 "grouchiness", "sleep_quality", "took_supplement", "adverse_event", "source_file"]


def _single_file(raw_dir: Path, name: str) -> list[Path]:
    path = Path(raw_dir) / name
    return [path] if path.is_file() and is_settled(path) else []


def read_participants(raw_dir: Path, root: Path) -> Ingested:
    """participants.csv: one row per enrolled participant, identifiers dropped at the door."""
    files = _single_file(raw_dir, "participants.csv")
    result = ingest_csv(files, root, "participants", Participants.to_schema(), ["participant_id"])
    result.clean = as_table(result.clean, PARTICIPANTS_COLUMNS)
    return _note_missing(result, files, raw_dir, root, "participants.csv", "participants")


def _note_missing(result: Ingested, files: list[Path], raw_dir: Path, root: Path, name: str,
                  source: str) -> Ingested:
    """``result`` with one quarantine entry when its required file is not there."""
    if not files:
        file = relative_path(Path(raw_dir), root) + "/" + name
        result.quarantine = concat_quarantine([missing_file(source, file), result.quarantine])
    return result


def arm_names(unblinding: pd.DataFrame) -> dict[str, str]:
    """Arm code -> arm name, used only when A and B are named and name different arms."""
    mapping = dict(zip(unblinding["arm_code"], unblinding["arm"]))
    if set(mapping) == set(ARM_CODES) and len(set(mapping.values())) == 2:
        return mapping
    return {}


def read_randomization(raw_dir: Path, root: Path, known: pd.Series) -> tuple[Ingested, bool]:
    """randomization.csv with ``arm`` from unblinding.csv (null while blinded), and whether the
    arms are unblinded. Rows of unknown participants are quarantined. Counts are of
    randomization.csv rows; entries of a faulty unblinding.csv are added to the quarantine."""
    files = _single_file(raw_dir, "randomization.csv")
    result = ingest_csv(files, root, "randomization", Randomization.to_schema(), ["participant_id"],
                        known=known)
    result = _note_missing(result, files, raw_dir, root, "randomization.csv", "randomization")
    unblinding_files = _single_file(raw_dir, "unblinding.csv")
    arms: dict[str, str] = {}
    if unblinding_files:
        unblinding = ingest_csv(unblinding_files, root, "randomization", Unblinding.to_schema(),
                                ["arm_code"])
        arms = arm_names(unblinding.clean)
        entries = [unblinding.quarantine]
        if not arms and unblinding.rows_read:
            file = unblinding.files[0]
            entries.append(quarantine_frame([file_entry(
                "randomization", file, "arm", "",
                "unblinding.csv must name arm codes A and B as two different arms; the analysis stays blinded")]))
        result.quarantine = concat_quarantine([result.quarantine, *entries])
        result.files = result.files + unblinding.files
    clean = result.clean.copy()
    clean["arm"] = clean["arm_code"].map(arms) if arms else None
    result.clean = as_table(clean, RANDOMIZATION_COLUMNS)
    return result, bool(arms)


def read_diary(raw_dir: Path, root: Path, known: pd.Series) -> Ingested:
    """diary/*.csv: one row per participant and date, a later export superseding an earlier one."""
    files = source_files(Path(raw_dir) / "diary", "*.csv")
    result = ingest_csv(files, root, "diary", DiaryEntries.to_schema(), ["participant_id", "date"],
                        known=known)
    result.clean = as_table(result.clean, DIARY_COLUMNS)
    return result
