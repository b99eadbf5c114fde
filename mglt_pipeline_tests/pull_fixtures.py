"""A trial to pull: a simulated trial whose Oura data and REDCap project live behind the stand-in
APIs of ``recorded_api`` instead of in ``raw/``.

The trial's participants, randomization and diary come from the simulator with first doses in
October 2024, so that the study windows cover the days of the recorded Oura responses
(2024-10-10 .. 2024-11-12). Each participant's Oura account holds the recorded records; the API
returns the ones of the window asked for. The REDCap project holds the simulator's export (its
re-exports applied) and a data dictionary coded as INSTRUMENTS.md says.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import os
import secrets
import shutil
import time
from pathlib import Path

import pandas as pd

from mglt_pipeline.scoring.instruments import INSTRUMENTS
from mglt_pipeline.simulate.trial import simulate_trial
from mglt_pipeline.sources.files import natural_key
from mglt_pipeline_tests.recorded_api import RecordedApi, recorded_oura_records

FIRST_DOSE_FROM = dt.date(2024, 10, 1)
METADATA_HEADER = ["field_name", "form_name", "section_header", "field_type", "field_label",
                   "select_choices_or_calculations", "field_note", "text_validation_type_or_show_slider_number",
                   "text_validation_min", "text_validation_max", "identifier", "branching_logic", "required_field",
                   "custom_alignment", "question_number", "matrix_group_name", "matrix_ranking", "field_annotation"]


def new_token() -> str:
    """A token as long and random as a real one, so that finding it anywhere is never chance."""
    return secrets.token_urlsafe(32)


def trial_metadata_csv() -> bytes:
    """The trial project's metadata as REDCap's API exports it: the record id, then each
    instrument's items coded as INSTRUMENTS.md (radio 0..4 or 1..5; LSEQ a 0..100 slider)."""
    rows = [["record_id", "enrolment", "", "text", "Participant ID"] + [""] * 13]
    for instrument in INSTRUMENTS:
        for item in range(1, instrument.n_items + 1):
            if instrument.name == "lseq":
                kind, choices, validation = "slider", "worse | as usual | better", "number"
            else:
                low = 1 if instrument.name == "rsq" else 0
                kind, choices, validation = "radio", " | ".join(f"{v}, {v}" for v in range(low, low + 5)), ""
            rows.append([f"{instrument.name}_{item}", instrument.name, "", kind, f"{instrument.name} item {item}",
                         choices, "", validation] + [""] * 10)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([METADATA_HEADER, *rows])
    return buffer.getvalue().encode()


def merged_redcap_export(redcap_dir: Path) -> bytes:
    """The simulator's exports as one export of the project's current state (later rows win)."""
    files = sorted(redcap_dir.glob("*.csv"), key=lambda p: natural_key(p.name))
    frames = [pd.read_csv(p, dtype=str, keep_default_na=False) for p in files]
    merged = pd.concat(frames, ignore_index=True).drop_duplicates(["record_id", "redcap_event_name"], keep="last")
    return merged.sort_values(["record_id", "redcap_event_name"], kind="stable").to_csv(
        index=False, lineterminator="\n").encode()


def pull_trial(root: Path, participants: int = 10, seed: int = 5, page_size: int = 10
               ) -> tuple[RecordedApi, dict[str, str]]:
    """A trial under ``root`` without Oura or REDCap files, the API holding them, and the tokens."""
    simulate_trial(root, participants=participants, seed=seed, first_dose_from=FIRST_DOSE_FROM)
    raw = root / "raw"
    shutil.rmtree(raw / "oura")
    records = merged_redcap_export(raw / "redcap")
    shutil.rmtree(raw / "redcap")
    ids = pd.read_csv(raw / "participants.csv", dtype=str)["participant_id"].tolist()
    tokens = {pid: new_token() for pid in ids}
    recorded = recorded_oura_records()
    api = RecordedApi(page_size=page_size, redcap_token=new_token(), redcap_metadata=trial_metadata_csv(),
                      redcap_records=records)
    api.oura = {token: (pid, {c: [dict(r) for r in recs] for c, recs in recorded.items()}) for pid, token in tokens.items()}
    return api, tokens


def write_token_file(root: Path, tokens: dict[str, str]) -> Path:
    """``<root>/secrets/oura_tokens.csv``, private to its owner."""
    path = root / "secrets" / "oura_tokens.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("participant_id,token\n" + "".join(f"{p},{t}\n" for p, t in tokens.items()))
    path.chmod(0o600)
    return path


def raw_listing(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``raw/`` with its size and modification time (ns): what a pull changed."""
    return {p.relative_to(root).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted((root / "raw").rglob("*")) if p.is_file()}


def settle(root: Path, seconds: float = 60.0) -> None:
    """Date every raw file ``seconds`` back, as if the automation's next tick came that much later
    (the raw-data sensor leaves files younger than a few seconds alone)."""
    past = time.time() - seconds
    for path in (root / "raw").rglob("*"):
        if path.is_file():
            os.utime(path, (past, past))
