"""The REDCap project's records and data dictionary, through its API, into ``raw/redcap/``.

Two POST requests to ``$REDCAP_API_URL`` with the project's token (in the form body, as REDCap
requires, never in a URL):
- ``content=metadata``: the data dictionary, written as ``raw/redcap/data_dictionary.csv`` with the
  column names of REDCap's own "Download the Data Dictionary" file (the API names its columns
  ``field_name``, ``form_name`` ...; the values are the same);
- ``content=record``: every record as a flat CSV with raw (coded) values and raw headers, survey
  fields (``<instrument>_timestamp``) and data access groups, one row per record and event, and for a
  repeating instrument one row per instance (``redcap_repeat_instrument``/``_instance``): exactly the
  export DATA_CONTRACT.md describes. It is streamed to ``<file>.part`` and renamed to
  ``raw/redcap/<project>_<YYYYMMDD>_<HHMMSS>.csv`` (UTC), a name that sorts after the earlier
  pulls, so the newest export supersedes the older ones.
Nothing new, nothing written: an export identical (byte for byte) to the latest export already in
``raw/redcap/`` is dropped, and the dictionary is rewritten only when its content changed. A new
export that would not sort after every export already there is refused rather than written,
since the older file would then win. A 401/403 ("You do not have permissions to use the API")
means the token is wrong or has lost its API export right.
"""
from __future__ import annotations

import csv
import hashlib
import io
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import requests

from mglt_pipeline.pull.files import atomic_write, part_path, pull_lock, sorts_last
from mglt_pipeline.pull.http import Budget, CallStats, PullError, RetryPolicy, send, with_retries
from mglt_pipeline.sources.files import natural_key, source_files

URL_VARIABLE, TOKEN_VARIABLE, PROJECT_VARIABLE = "REDCAP_API_URL", "REDCAP_API_TOKEN", "REDCAP_PROJECT"
DEFAULT_PROJECT = "redcap"
DICTIONARY_FILE = "data_dictionary.csv"
RECORD_EXPORT = {"content": "record", "action": "export", "format": "csv", "type": "flat", "csvDelimiter": ",",
                 "rawOrLabel": "raw", "rawOrLabelHeaders": "raw", "exportCheckboxLabel": "false",
                 "exportSurveyFields": "true", "exportDataAccessGroups": "true", "returnFormat": "json"}
METADATA_EXPORT = {"content": "metadata", "format": "csv", "returnFormat": "json"}
DICTIONARY_COLUMNS = {
    "field_name": "Variable / Field Name", "form_name": "Form Name", "section_header": "Section Header",
    "field_type": "Field Type", "field_label": "Field Label",
    "select_choices_or_calculations": "Choices, Calculations, OR Slider Labels", "field_note": "Field Note",
    "text_validation_type_or_show_slider_number": "Text Validation Type OR Show Slider Number",
    "text_validation_min": "Text Validation Min", "text_validation_max": "Text Validation Max",
    "identifier": "Identifier?", "branching_logic": "Branching Logic (Show field only if...)",
    "required_field": "Required Field?", "custom_alignment": "Custom Alignment",
    "question_number": "Question Number (surveys only)", "matrix_group_name": "Matrix Group Name",
    "matrix_ranking": "Matrix Ranking?", "field_annotation": "Field Annotation",
}
"""API metadata column -> the data-dictionary file's column, in REDCap's order."""


def _csv_rows(text: str) -> list[list[str]]:
    return [row for row in csv.reader(io.StringIO(text)) if row]


def dictionary_csv(metadata: bytes) -> bytes:
    """The API's metadata CSV as REDCap's data-dictionary CSV: same rows, the file's column names;
    ``PullError`` when the metadata is not REDCap's metadata export."""
    rows = _csv_rows(metadata.decode("utf-8-sig"))
    if not rows or rows[0][0] != "field_name" or any(c not in DICTIONARY_COLUMNS for c in rows[0]):
        raise PullError("failed", "the metadata export is not REDCap's (its header does not start with field_name "
                        "or has columns REDCap does not export)")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([DICTIONARY_COLUMNS[c] for c in rows[0]])
    writer.writerows(rows[1:])
    return buffer.getvalue().encode("utf-8")


def check_flat_export(path: Path, record_id_field: str) -> int:
    """The number of data rows of a flat CSV export whose first column is the project's record-id
    field and whose every row has the header's number of cells; ``PullError`` otherwise."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        if not header or header[0] != record_id_field:
            raise PullError("failed", f"the record export does not start with the record-id field {record_id_field} "
                            "(a label export, or not a flat CSV export)")
        rows = 0
        for number, row in enumerate(reader, start=2):
            if row and len(row) != len(header):
                raise PullError("failed", f"the record export's line {number} has {len(row)} cells where the header "
                                f"has {len(header)}")
            rows += bool(row)
    return rows


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def exports(redcap_dir: Path) -> list[Path]:
    """The flat exports already in ``raw/redcap`` (the dictionary is not one), in natural order."""
    return [p for p in source_files(redcap_dir, "*.csv") if p.name.lower() != DICTIONARY_FILE]


def export_name(project: str, now: datetime) -> str:
    return f"{project}_{now.astimezone(timezone.utc):%Y%m%d_%H%M%S}.csv"


@dataclass
class RedcapPull:
    """What one REDCap pull did."""

    export_file: str | None
    export_rows: int
    compared_with: str | None
    dictionary_written: bool
    stats: CallStats


class RedcapClient:
    """The REDCap API at ``url`` with one project's token."""

    def __init__(self, url: str, token: str, policy: RetryPolicy, sleep: Callable[[float], None] = time.sleep,
                 rng: random.Random | None = None):
        self.url, self._token, self.policy, self.sleep = url, token, policy, sleep
        self.rng = rng or random.Random()

    def __repr__(self) -> str:
        return f"RedcapClient(url={self.url!r})"

    def post(self, session: requests.Session, form: dict, budget: Budget, stats: CallStats,
             target: Path | None = None) -> bytes:
        """The body of one export (streamed into ``target`` when given)."""
        def attempt() -> bytes:
            response = send(session, "POST", self.url, self.policy.timeout_s, target=target,
                            data={"token": self._token, **form})
            if response.status_code != 200:
                words = response.text[:200].strip()
                raise PullError("failed", f"HTTP {response.status_code} from REDCap: {words}", response.status_code)
            return b"" if target is not None else response.content
        return with_retries(attempt, self.policy, budget, stats, self.sleep, self.rng)


def pull_redcap(redcap_dir: Path, client: RedcapClient, project: str, now: datetime, budget: Budget) -> RedcapPull:
    """Export the dictionary and the records into ``redcap_dir`` (``<root>/raw/redcap``; module
    docstring); ``files.PullRunning`` when another REDCap pull runs on this data root."""
    with pull_lock(redcap_dir.parent.parent, "redcap"):
        return _pull_redcap(redcap_dir, client, project, now, budget)


def _pull_redcap(redcap_dir: Path, client: RedcapClient, project: str, now: datetime, budget: Budget) -> RedcapPull:
    stats = CallStats()
    name = export_name(project, now)
    earlier = exports(redcap_dir)
    if (redcap_dir / name).exists():
        raise PullError("failed", f"an export named {name} is already there (two pulls in one second); it is "
                        "not overwritten")
    if not sorts_last(name, [p.name for p in earlier]):
        later = [p.name for p in earlier if natural_key(p.name) >= natural_key(name)]
        raise PullError("failed", f"the new export {name} would not sort after {', '.join(later)} in raw/redcap, so the "
                        "older file would win; rename those files or set a project name that sorts later")
    with requests.Session() as session:
        metadata = client.post(session, METADATA_EXPORT, budget, stats)
        dictionary = dictionary_csv(metadata)
        fields = _csv_rows(metadata.decode("utf-8-sig"))[1:]
        if not fields:
            raise PullError("failed", "the metadata export lists no field, so the record-id field is unknown")
        target = redcap_dir / name
        part = part_path(target)
        redcap_dir.mkdir(parents=True, exist_ok=True)
        try:
            client.post(session, RECORD_EXPORT, budget, stats, target=part)
            rows = check_flat_export(part, fields[0][0])
            latest = earlier[-1] if earlier else None
            if latest is not None and file_digest(latest) == file_digest(part):
                part.unlink()
                written = None
            else:
                os.replace(part, target)
                written = target.name
        finally:
            part.unlink(missing_ok=True)
    return RedcapPull(written, rows, latest.name if latest else None,
                      _write_dictionary(redcap_dir / DICTIONARY_FILE, dictionary), stats)


def _write_dictionary(path: Path, dictionary: bytes) -> bool:
    """Write the dictionary unless the file there already holds the same rows."""
    if path.is_file() and _csv_rows(path.read_text(encoding="utf-8-sig")) == _csv_rows(dictionary.decode("utf-8")):
        return False
    atomic_write(path, dictionary)
    return True
