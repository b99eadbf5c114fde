"""A whole simulated trial: every raw file of DATA_CONTRACT.md under ``<out_dir>/raw/``, and the
planted truth in ``<out_dir>/truth.json`` (outside ``raw/``, which the pipeline reads).

Each source draws from its own random stream (spawned from ``seed``), so a planted effect changes
only the values it moves, never the noise: the same seed with and without effects gives the same
participants, missing days and random deviations.
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from . import design as d
from . import diary, oura, redcap
from .effects import resolve_effects, truth_document
from .writers import write_csv

RAW_DIRS = ("oura", "redcap", "diary")
RAW_FILES = ("participants.csv", "randomization.csv", "unblinding.csv")


def _dates_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Date columns as ISO ``YYYY-MM-DD``, missing dates as empty cells."""
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d").fillna("")
    return out


def _clear_raw(raw: Path) -> None:
    """Remove an earlier simulation's files (only the ones this simulator writes)."""
    for name in RAW_DIRS:
        shutil.rmtree(raw / name, ignore_errors=True)
    for name in RAW_FILES:
        (raw / name).unlink(missing_ok=True)


def simulate_trial(out_dir: str | Path, participants: int = 80, seed: int = 1,
                   effects: Mapping[str, float] | None = None, blinded: bool = False,
                   null_effects: bool = False,
                   first_dose_from: dt.date = d.DEFAULT_FIRST_DOSE_FROM,
                   redcap_record_id: str = "record_id", redcap_repeating: bool = False,
                   oura_format: str = "api") -> dict:
    """Simulate a trial into ``out_dir``; return the truth document (also written to truth.json).

    ``effects`` maps outcome ids to their week_3 difference active minus placebo (overriding the
    defaults of ``effects.DEFAULT_EFFECTS``); ``null_effects=True`` starts from no effect at all.
    ``blinded=True`` leaves out ``unblinding.csv``. ``redcap_record_id`` names the REDCap record-id
    field as a project may (``study_id``); ``redcap_repeating`` adds a repeating instrument that is
    not analysed (its own random stream, so the questionnaire answers are the same either way).
    ``oura_format`` is the way the Oura data come: ``api``, ``export``, ``trends`` or ``mixed`` (most
    by API pull, some as account exports, a few as Trends CSVs); the values are the same whichever
    way (the formats draw from their own stream).
    """
    out, planted = Path(out_dir), resolve_effects(effects, null_effects)
    raw = out / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    _clear_raw(raw)
    (out / "expected_faults.json").unlink(missing_ok=True)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(8)]
    design = d.simulate_design(streams[0], participants, first_dose_from)
    active_code = design.attrs["active_arm_code"]
    write_csv(_dates_as_text(d.participants_table(design)), raw / "participants.csv")
    write_csv(_dates_as_text(d.randomization_table(design)), raw / "randomization.csv")
    if not blinded:
        write_csv(d.unblinding_table(active_code), raw / "unblinding.csv")
    counts = oura.simulate_oura(streams[1], design, planted, raw, oura_format, streams[7])
    for name, frame in redcap.export_files(streams[4], redcap.questionnaire_rows(streams[2], design, planted)).items():
        write_csv(redcap.project_export(streams[6], frame, redcap_record_id, redcap_repeating), raw / "redcap" / name)
    for name, frame in diary.export_files(streams[5], diary.diary_rows(streams[3], design, planted)).items():
        write_csv(frame, raw / "diary" / name)
    truth = truth_document(planted, seed, participants, active_code, blinded)
    truth["oura_records"] = counts
    (out / "truth.json").write_text(json.dumps(truth, indent=1, sort_keys=False) + "\n")
    return truth
