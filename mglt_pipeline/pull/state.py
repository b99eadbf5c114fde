"""The per-participant pull status, kept between pulls: ``<data root>/pull/oura_pull_status.csv``.

One row per participant the pull has ever tried: ``status`` (``ok``, ``token_expired``,
``token_revoked``, ``membership_ended``, ``failed``), ``since`` (the first day of a run of pulls
with this status, the date a token was found expired), ``last_pulled_day`` (the last day through
which every analysed collection has been asked successfully), ``last_day_with_data`` (the last Oura
day with a record on disk), ``reason`` (the server's words or the rule, never a token),
``http_status`` and ``checked_at`` (UTC). The warehouse table ``oura_pull_status`` is this file as
a table, so that the report and the adherence table can give the SAP's missing-night reasons. A
participant no longer in the token file keeps the row of their last pull.
"""
from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from mglt_pipeline.pull.files import atomic_write

STATUS_FILE = Path("pull") / "oura_pull_status.csv"
STATUS_COLUMNS = ("participant_id", "status", "since", "last_pulled_day", "last_day_with_data", "reason",
                  "http_status", "checked_at")
STATUSES = ("ok", "token_expired", "token_revoked", "membership_ended", "failed")
_DATES = ("since", "last_pulled_day", "last_day_with_data")


def load_status(path: Path) -> dict[str, dict[str, str]]:
    """The rows of the status file by participant (empty when there is none yet)."""
    if not path.is_file():
        return {}
    with open(path, encoding="utf-8", newline="") as handle:
        return {row["participant_id"]: row for row in csv.DictReader(handle)}


def _text(value: object) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, (date, datetime)) else str(value)


def next_status(previous: dict[str, dict[str, str]], outcomes: list, today: date,
                checked_at: datetime) -> dict[str, dict[str, str]]:
    """The status rows after a pull: ``since`` kept while the status stays the same, else today;
    the last pulled day and the last day with data kept from before when this pull has none."""
    rows = {pid: dict(row) for pid, row in previous.items()}
    for outcome in outcomes:
        before = previous.get(outcome.participant_id, {})
        same = before.get("status") == outcome.status
        rows[outcome.participant_id] = {
            "participant_id": outcome.participant_id,
            "status": outcome.status,
            "since": before.get("since", "") if same and before.get("since") else today.isoformat(),
            "last_pulled_day": _text(outcome.last_pulled_day) or before.get("last_pulled_day", ""),
            "last_day_with_data": _text(outcome.last_day_with_data) or before.get("last_day_with_data", ""),
            "reason": outcome.reason,
            "http_status": _text(outcome.http_status),
            "checked_at": checked_at.isoformat(timespec="seconds"),
        }
    return dict(sorted(rows.items()))


def save_status(path: Path, rows: dict[str, dict[str, str]]) -> None:
    """Write the status rows (atomically) in the file's column order."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=STATUS_COLUMNS, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows.values())
    atomic_write(path, buffer.getvalue().encode("utf-8"))


def status_table(rows: dict[str, dict[str, str]]) -> pd.DataFrame:
    """The status rows as the warehouse table ``oura_pull_status`` (dates as dates, the HTTP status
    as an integer, text as text)."""
    frame = pd.DataFrame(list(rows.values()), columns=list(STATUS_COLUMNS))
    for name in _DATES:
        frame[name] = pd.to_datetime(frame[name].replace("", None), format="%Y-%m-%d")
    frame["http_status"] = pd.to_numeric(frame["http_status"].replace("", None)).astype("Int64")
    frame["checked_at"] = pd.to_datetime(frame["checked_at"], format="ISO8601", utc=True)
    for name in ("participant_id", "status", "reason"):
        frame[name] = frame[name].astype("string")
    return frame.reset_index(drop=True)
