"""Writing raw files exactly as DATA_CONTRACT.md describes them.

JSON is compact (no indentation) to keep the bundled trial small; Oura collections of some
participants are split over two pages (``sleep.json`` with a ``next_token``, then ``sleep_2.json``
with ``next_token`` null), as a paginated API download leaves them. CSVs are UTF-8 with a header row;
the BOM + CRLF variant exists for the fault plan (``faults.py``).
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

SPLIT_PAGES_P = {"sleep": 0.3, "daily_sleep": 0.2, "daily_activity": 0.1, "daily_readiness": 0.1}


def _plain(values) -> list:
    """A column as JSON-ready Python values: numpy scalars unwrapped, NaN as null."""
    arr = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
    out = arr.tolist()
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        out = [None if v != v else v for v in out]
    return out


def records(flat: Mapping[str, Sequence], nested: Mapping[str, Mapping[str, Sequence]] | None = None) -> list[dict]:
    """Row dicts from columns; ``nested`` columns become sub-objects (e.g. ``contributors``)."""
    keys = list(flat)
    rows = [dict(zip(keys, vals)) for vals in zip(*(_plain(v) for v in flat.values()))]
    for name, sub in (nested or {}).items():
        sub_keys = list(sub)
        for row, vals in zip(rows, zip(*(_plain(v) for v in sub.values()))):
            row[name] = dict(zip(sub_keys, vals))
    return rows


def oura_ids(rng: np.random.Generator, n: int) -> list[str]:
    """Random UUID-shaped record ids, as Oura uses."""
    h = rng.bytes(16 * n).hex()
    return [f"{h[i:i + 8]}-{h[i + 8:i + 12]}-4{h[i + 13:i + 16]}-{h[i + 16:i + 20]}-{h[i + 20:i + 32]}"
            for i in range(0, 32 * n, 32)]


def _dump(data: list[dict], next_token: str | None) -> str:
    return json.dumps({"data": data, "next_token": next_token}, separators=(",", ":"))


def participant_records(participant_ids: list[str], collections: Mapping[str, tuple[np.ndarray, list[dict]]]
                        ) -> dict[str, dict[str, list[dict]]]:
    """Participant id -> collection -> that participant's records."""
    n = len(participant_ids)
    out: dict[str, dict[str, list[dict]]] = {pid: {} for pid in participant_ids}
    for name, (owner, recs) in collections.items():
        bounds = np.searchsorted(owner, np.arange(n + 1))
        for i, pid in enumerate(participant_ids):
            out[pid][name] = recs[bounds[i]:bounds[i + 1]]
    return out


def write_oura_collections(rng: np.random.Generator, folder: Path, participant_ids: list[str],
                           collections: Mapping[str, tuple[np.ndarray, list[dict]]],
                           by_api: np.ndarray | None = None) -> None:
    """``<folder>/<participant_id>/<collection>.json`` (+ ``_2`` page) for every participant whose
    data come by API pull (``by_api``, default all).

    ``collections`` maps a collection name to (participant index of each record, records), records
    sorted by participant. The random draws do not depend on ``by_api``, so a participant's API files
    are the same whichever way the others send theirs.
    """
    n = len(participant_ids)
    by_api = np.ones(n, dtype=bool) if by_api is None else by_api
    for pid, api in zip(participant_ids, by_api):
        if api:
            (folder / pid).mkdir(parents=True, exist_ok=True)
    for name, (owner, recs) in collections.items():
        bounds = np.searchsorted(owner, np.arange(n + 1))
        split = rng.random(n) < SPLIT_PAGES_P[name]
        tokens = [rng.bytes(12).hex() if split[i] and bounds[i + 1] - bounds[i] > 1 else None for i in range(n)]
        for i, pid in enumerate(participant_ids):
            if not by_api[i]:
                continue
            data = recs[bounds[i]:bounds[i + 1]]
            if split[i] and len(data) > 1:
                half = len(data) // 2
                (folder / pid / f"{name}.json").write_text(_dump(data[:half], tokens[i]))
                (folder / pid / f"{name}_2.json").write_text(_dump(data[half:], None))
            else:
                (folder / pid / f"{name}.json").write_text(_dump(data, None))


def csv_text(frame: pd.DataFrame, crlf: bool = False) -> str:
    """A DataFrame as CSV text: empty cells for missing values, minimal quoting."""
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator="\r\n" if crlf else "\n", quoting=csv.QUOTE_MINIMAL)
    return buffer.getvalue()


def write_csv(frame: pd.DataFrame, path: Path, bom: bool = False, crlf: bool = False) -> None:
    """Write ``frame`` to ``path`` (UTF-8, optionally with a byte-order mark and CRLF line ends)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\ufeff" if bom else "").encode() + csv_text(frame, crlf).encode("utf-8"))
