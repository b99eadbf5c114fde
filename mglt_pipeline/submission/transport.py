"""ADaM datasets as files: SAS transport v5 (``pyreadstat.write_xport``) and CDISC Dataset-JSON v1.1.

SAS V5 transport limits (FDA Study Data Technical Conformance Guide): dataset and variable names at
most 8 characters, letters, digits and underscores, starting with a letter or underscore; labels at
most 40 characters; character values at most 200 bytes. Every file written is read back and compared
value by value (``xpt_differences``): the round trip must be exact.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from mglt_pipeline.submission.metadata import STUDY_ID, DatasetSpec

MAX_NAME = 8
MAX_LABEL = 40
MAX_TEXT_BYTES = 200
SAS_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,7}$")
DATE_FORMAT = "DATE9."
DATASET_JSON_VERSION = "1.1.0"
METADATA_VERSION_OID = "MDV.MGLT01.ADAM"
JSON_TYPES = {"text": "string", "integer": "integer", "float": "double", "date": "date"}


def xpt_path(folder: Path, spec: DatasetSpec) -> Path:
    return Path(folder) / f"{spec.file_stem}.xpt"


def json_path(folder: Path, spec: DatasetSpec) -> Path:
    return Path(folder) / f"{spec.file_stem}.json"


def max_text_bytes(values: pd.Series) -> int:
    """The longest value of a text column in UTF-8 bytes (0 when empty), over its distinct values."""
    return max([0, *(len(str(v).encode("utf-8")) for v in pd.unique(values.dropna()))])


def limit_problems(frame: pd.DataFrame, spec: DatasetSpec) -> list[str]:
    """What breaks the SAS V5 transport limits (empty when nothing does)."""
    problems = [] if SAS_NAME.match(spec.name) else [f"dataset name {spec.name!r} is not a V5 name"]
    if len(spec.label) > MAX_LABEL:
        problems.append(f"dataset label of {spec.name} is {len(spec.label)} characters (max {MAX_LABEL})")
    for variable in spec.variables:
        if not SAS_NAME.match(variable.name):
            problems.append(f"{spec.name}.{variable.name}: not a V5 variable name")
        if len(variable.label) > MAX_LABEL:
            problems.append(f"{spec.name}.{variable.name}: label of {len(variable.label)} characters")
        if variable.data_type == "text" and variable.name in frame:
            longest = max_text_bytes(frame[variable.name])
            if longest > MAX_TEXT_BYTES:
                problems.append(f"{spec.name}.{variable.name}: a value of {longest} bytes (max {MAX_TEXT_BYTES})")
    missing = [v.name for v in spec.variables if v.name not in frame.columns]
    extra = [c for c in frame.columns if c not in {v.name for v in spec.variables}]
    problems += [f"{spec.name}: variable {name} declared but absent" for name in missing]
    problems += [f"{spec.name}: column {name} not declared" for name in extra]
    return problems


def write_xpt(frame: pd.DataFrame, spec: DatasetSpec, folder: Path) -> Path:
    """Write ``frame`` as ``<name>.xpt`` (V5), with the spec's labels and DATE9. on dates."""
    import pyreadstat  # imported when used: it costs most of a second at every start of the code location

    path = xpt_path(folder, spec)
    path.parent.mkdir(parents=True, exist_ok=True)
    pyreadstat.write_xport(
        frame, str(path), file_label=spec.label, table_name=spec.name,
        column_labels=[spec.variable(c).label for c in frame.columns], file_format_version=5,
        variable_format={v.name: DATE_FORMAT for v in spec.variables if v.data_type == "date"})
    return path


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _same(a, b) -> bool:
    """Equal values, or both missing (a missing SAS date reads back as NaN, written as None)."""
    if _missing(a) or _missing(b):
        return _missing(a) and _missing(b)
    return type(a) is type(b) and a == b


def _cell(value):
    """A value as the XPT reader returns it: floats, ``datetime.date``, str; missing as None/NaN."""
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return value.date()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return value


def _column_equal(written: pd.Series, read: pd.Series, data_type: str) -> bool:
    if data_type in ("integer", "float"):
        return np.array_equal(written.to_numpy(float), read.to_numpy(float), equal_nan=True)
    if data_type == "text":
        return written.astype(str).tolist() == read.astype(str).tolist()
    return all(_same(_cell(a), _cell(b)) for a, b in zip(written, read))


def xpt_differences(frame: pd.DataFrame, spec: DatasetSpec, path: Path, limit: int = 20) -> list[str]:
    """Read ``path`` back and name every difference from ``frame``: names, labels, dataset name, and
    each cell (numbers compared exactly, bit for bit, missing with missing)."""
    import pyreadstat

    back, meta = pyreadstat.read_xport(str(path))
    problems = []
    if meta.table_name != spec.name:
        problems.append(f"dataset name {meta.table_name!r}, expected {spec.name!r}")
    if list(back.columns) != list(frame.columns):
        return problems + [f"variables {list(back.columns)} differ from {list(frame.columns)}"]
    problems += [f"{c}: label {meta.column_names_to_labels.get(c)!r}, expected {spec.variable(c).label!r}"
                 for c in frame.columns if meta.column_names_to_labels.get(c) != spec.variable(c).label]
    if len(back) != len(frame):
        return problems + [f"{len(back)} records read back, {len(frame)} written"]
    for column in frame.columns:
        if _column_equal(frame[column], back[column], spec.variable(column).data_type):
            continue
        written, read = frame[column].map(_cell).tolist(), back[column].map(_cell).tolist()
        bad = [i for i, (a, b) in enumerate(zip(written, read)) if not _same(a, b)]
        problems += [f"{column} record {i + 1}: wrote {written[i]!r}, read {read[i]!r}" for i in bad[:limit]]
    return problems


def json_rows(frame: pd.DataFrame, spec: DatasetSpec) -> list[list]:
    """The records as Dataset-JSON rows: missing as null, dates ISO 8601, integers as integers."""
    cells = frame.astype(object).where(frame.notna(), None)
    convert = {"date": lambda d: d.isoformat()[:10], "integer": int}
    for variable in spec.variables:
        if variable.data_type in convert:
            values = [None if v is None else convert[variable.data_type](v) for v in cells[variable.name]]
            cells[variable.name] = pd.Series(values, index=cells.index, dtype=object)
    return cells.to_numpy().tolist()


def dataset_json(frame: pd.DataFrame, spec: DatasetSpec, created: dt.datetime) -> dict:
    """The dataset as a CDISC Dataset-JSON v1.1 object (columns described, rows as arrays); dates
    are ISO 8601 strings with ``targetDataType`` integer (a SAS date), as the standard sets it."""
    columns = []
    for variable in spec.variables:
        column = {"itemOID": f"IT.{spec.name}.{variable.name}", "name": variable.name, "label": variable.label,
                  "dataType": JSON_TYPES[variable.data_type]}
        if variable.data_type == "text":
            column["length"] = max(1, max_text_bytes(frame[variable.name]))
        if variable.data_type == "date":
            column.update(targetDataType="integer", displayFormat=DATE_FORMAT)
        if variable.name in spec.keys:
            column["keySequence"] = spec.keys.index(variable.name) + 1
        columns.append(column)
    rows = json_rows(frame, spec)
    return {"datasetJSONCreationDateTime": created.strftime("%Y-%m-%dT%H:%M:%S"),
            "datasetJSONVersion": DATASET_JSON_VERSION, "fileOID": f"FILE.{STUDY_ID}.{spec.name}",
            "originator": "mglt_pipeline", "sourceSystem": {"name": "mglt_pipeline", "version": "0.1.0"},
            "studyOID": f"STUDY.{STUDY_ID}", "metaDataVersionOID": METADATA_VERSION_OID,
            "metaDataRef": "define.xml", "itemGroupOID": f"IG.{spec.name}", "records": len(rows),
            "name": spec.name, "label": spec.label, "columns": columns, "rows": rows}


def write_dataset_json(frame: pd.DataFrame, spec: DatasetSpec, folder: Path, created: dt.datetime) -> Path:
    """Write ``<name>.json`` (Dataset-JSON v1.1, UTF-8)."""
    path = json_path(folder, spec)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dataset_json(frame, spec, created), ensure_ascii=False), encoding="utf-8")
    return path


def json_differences(frame: pd.DataFrame, spec: DatasetSpec, path: Path, limit: int = 20) -> list[str]:
    """Read the Dataset-JSON file back and name every difference from ``frame``."""
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    problems = []
    names = [c["name"] for c in document.get("columns", [])]
    if names != list(frame.columns):
        return [f"columns {names} differ from {list(frame.columns)}"]
    rows = document.get("rows", [])
    if document.get("records") != len(rows) or len(rows) != len(frame):
        return [f"records {document.get('records')}, rows {len(rows)}, {len(frame)} written"]
    expected = json_rows(frame, spec)
    bad = [i for i, (a, b) in enumerate(zip(expected, rows)) if a != b and not all(map(_same, a, b))]
    problems += [f"record {i + 1}: wrote {expected[i]!r}, read {rows[i]!r}" for i in bad[:limit]]
    return problems
