"""One planted fault of every kind the pipeline must handle (DATA_CONTRACT.md, "What bad input gets").

``plant_faults(root)`` adds the faults to a simulated trial under ``root`` (the data root holding
``raw/``) in NEW files that sort after the good exports, so every good file stays as it was, except
participants.csv, which gains an ``email`` column (there is only one such file). It returns one
expectation per fault: ``source``, ``file`` (relative to the data root), ``row`` (1-based CSV data
line, None for a whole file), ``field``, ``value``, ``rule`` (a keyword: the pipeline's rule is a
sentence that should mention it) and ``expect``:
- ``quarantined``: the row (or whole file) must appear in the quarantine table;
- ``accepted``: a valid export with a UTF-8 byte-order mark and CRLF line ends, whose ``rows`` rows
  must be read as good rows (they re-export existing entries, so they supersede identical copies);
- ``ignored``: a file still being written (``.part``), never read;
- ``dropped``: a direct identifier column, removed at the door.
"""
from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from .writers import write_csv

UNKNOWN_PARTICIPANT = "ZZ999"


def _entry(source, file, row, field, value, rule, expect="quarantined", **extra) -> dict:
    return {"source": source, "file": file, "row": row, "field": field, "value": value,
            "rule": rule, "expect": expect, **extra}


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _first_oura_folder(raw: Path) -> Path:
    return sorted(p for p in (raw / "oura").iterdir() if p.is_dir())[0]


def plant_oura(raw: Path) -> list[dict]:
    """An Oura page that is not valid JSON (truncated mid-record)."""
    path = _first_oura_folder(raw) / "daily_sleep_9.json"
    path.write_text('{"data": [{"id": "broken-record", "day": "2025-03-0')
    return [_entry("oura", path.relative_to(raw.parent).as_posix(), None, None, None, "unparseable")]


def plant_redcap(raw: Path) -> list[dict]:
    """Out-of-range and non-numeric items and an event that is not a REDCap event name (``day_7``
    without its arm), one per row; and a .part file. (Another event of the project, such as
    ``screening_arm_1``, would be set aside, not quarantined.)"""
    good = _read(sorted((raw / "redcap").glob("export_*.csv"))[0])
    rows = good.iloc[:3].copy()
    rows.iloc[0, rows.columns.get_loc("isi_3")] = "7"
    rows.iloc[1, rows.columns.get_loc("poms_12")] = "a lot"
    rows.iloc[2, rows.columns.get_loc("redcap_event_name")] = "day_7"
    path = raw / "redcap" / "export_9_faults.csv"
    write_csv(rows, path)
    rel = path.relative_to(raw.parent).as_posix()
    part = raw / "redcap" / "export_3.csv.part"
    part.write_text(",".join(good.columns[:5]) + "\n" + ",".join(good.iloc[0, :3]) + ",9")
    return [
        _entry("redcap", rel, "1", "isi_3", "7", "range"),
        _entry("redcap", rel, "2", "poms_12", "a lot", "numeric"),
        _entry("redcap", rel, "3", "redcap_event_name", "day_7", "event"),
        _entry("redcap", part.relative_to(raw.parent).as_posix(), None, None, None, "part", expect="ignored"),
    ]


def plant_diary(raw: Path) -> list[dict]:
    """Impossible date, unknown participant, a file without ``energy``, and a BOM + CRLF export."""
    exports = sorted((raw / "diary").glob("export_*.csv"))  # before any fault file is added
    good = _read(exports[0])
    rows = good.iloc[:2].copy()
    rows.iloc[0, rows.columns.get_loc("date")] = "2025-02-30"
    rows.iloc[1, rows.columns.get_loc("participant_id")] = UNKNOWN_PARTICIPANT
    faults = raw / "diary" / "export_9_faults.csv"
    write_csv(rows, faults)
    no_energy = raw / "diary" / "export_9_missing_energy.csv"
    write_csv(good.iloc[2:5].drop(columns="energy"), no_energy)
    bom = raw / "diary" / "export_8_bom_crlf.csv"
    accepted = _read(exports[-1]).iloc[:5]  # final values only
    write_csv(accepted, bom, bom=True, crlf=True)
    rel = lambda p: p.relative_to(raw.parent).as_posix()  # noqa: E731
    return [
        _entry("diary", rel(faults), "1", "date", "2025-02-30", "date"),
        _entry("diary", rel(faults), "2", "participant_id", UNKNOWN_PARTICIPANT, "participant"),
        _entry("diary", rel(no_energy), None, "energy", None, "column"),
        _entry("diary", rel(bom), None, None, None, "bom_crlf", expect="accepted", rows=len(accepted),
               keys=[[r.participant_id, r.date] for r in accepted.itertuples()]),
    ]


def plant_identifier(raw: Path) -> list[dict]:
    """participants.csv rewritten with an ``email`` column (fictitious, reserved .invalid domain)."""
    path = raw / "participants.csv"
    participants = _read(path)
    participants["email"] = [f"{pid.lower()}@example.invalid" for pid in participants["participant_id"]]
    participants.to_csv(path, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    return [_entry("participants", "raw/participants.csv", None, "email", None, "identifier", expect="dropped")]


def plant_faults(root: str | Path) -> list[dict]:
    """Plant every fault into the trial under ``root`` (data root); return the expectations."""
    raw = Path(root) / "raw"
    return plant_oura(raw) + plant_redcap(raw) + plant_diary(raw) + plant_identifier(raw)
