"""What define.xml needs to know of a dataset, from a few of its records, read a batch at a time.

define.xml states each variable's length and significant digits, the values of its codelist and the
code/decode pairs (PARAMCD/PARAM, ARMCD/ARM, TRT01PN/TRT01P). ``profile`` keeps the records that carry
every distinct text value, every code/decode pair and, per number shape (digits before and after the
point, per PARAMCD for AVAL), one value: define.xml built from the profile is the one built from the
whole dataset. ``profile_xpt`` reads a file in batches, so memory is bounded by a batch, not the trial.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from mglt_pipeline.submission.metadata import DatasetSpec

PAIRS = (("PARAMCD", "PARAM"), ("ARMCD", "ARM"), ("TRT01PN", "TRT01P"))
BATCH_ROWS = 200_000


def number_shape(value: float) -> tuple[int, int]:
    """(digits before the point, digits after it) of a number written with 15 significant digits."""
    text = f"{float(value):.15g}".lstrip("-")
    whole, _, decimals = text.partition(".")
    return len(whole.split("e")[0]), len(decimals)


def profile(frame: pd.DataFrame, spec: DatasetSpec) -> pd.DataFrame:
    """The records of ``frame`` that give define.xml everything it states (module docstring)."""
    keep: set = set()
    for variable in spec.variables:
        column = frame[variable.name]
        if variable.data_type == "text" or variable.codelist:
            keep.update(column.drop_duplicates().index)
        elif variable.data_type in ("integer", "float"):
            shapes = {v: number_shape(v) for v in pd.unique(column.dropna())}
            key = pd.DataFrame({"whole": column.map({v: s[0] for v, s in shapes.items()}),
                                "decimals": column.map({v: s[1] for v, s in shapes.items()})})
            if variable.name == "AVAL" and "PARAMCD" in frame:
                key["paramcd"] = frame["PARAMCD"]
            keep.update(key.drop_duplicates().index)
    for code, decode in PAIRS:
        if code in frame and decode in frame:
            keep.update(frame.drop_duplicates(subset=[code, decode]).index)
    return frame.loc[sorted(keep)]


def profile_xpt(path: Path, spec: DatasetSpec, batch_rows: int = BATCH_ROWS) -> pd.DataFrame:
    """``profile`` of an XPT file, read ``batch_rows`` records at a time."""
    import pyreadstat  # imported when used (slow to import)

    parts = [profile(chunk.reset_index(drop=True), spec) for chunk, _ in
             pyreadstat.read_file_in_chunks(pyreadstat.read_xport, str(path), chunksize=batch_rows)]
    if len(parts) == 1:
        return parts[0].reset_index(drop=True)
    whole = pd.concat(parts, ignore_index=True) if parts else pyreadstat.read_xport(str(path))[0]
    return profile(whole, spec).reset_index(drop=True)
