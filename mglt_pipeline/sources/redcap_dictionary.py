"""The optional REDCap data dictionary (redcap/data_dictionary.csv) checked against the scoring.

DATA_CONTRACT.md: every analysed item must exist in the project's data dictionary with the coding
the scoring expects (INSTRUMENTS.md; the item rules of ``validation.schemas.RedcapExport``: ISI and
POMS coded 0..4, RSQ-W 1..5, LSEQ marks 0..100 mm). A mismatch (ISI coded 1..5, say) fails the
REDCap source: one entry per field naming both codings, and no score is computed from exports
written for another coding. Both REDCap's own dictionary CSV ("Variable / Field Name", ...) and the
API's metadata export (``field_name``, ...) are read.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from mglt_pipeline.scoring.instruments import INSTRUMENTS
from mglt_pipeline.sources.files import LINE, ROW, UnreadableFile, read_csv_text
from mglt_pipeline.validation.quarantine import file_entry

log = logging.getLogger(__name__)

DICTIONARY_FILE = "data_dictionary.csv"
COLUMNS = {  # our name: (REDCap data dictionary header, API metadata header)
    "field": ("Variable / Field Name", "field_name"),
    "type": ("Field Type", "field_type"),
    "choices": ("Choices, Calculations, OR Slider Labels", "select_choices_or_calculations"),
    "validation": ("Text Validation Type OR Show Slider Number", "text_validation_type_or_show_slider_number"),
    "low": ("Text Validation Min", "text_validation_min"),
    "high": ("Text Validation Max", "text_validation_max"),
}
_NUMERIC_VALIDATION = ("integer", "number")


@dataclass(frozen=True)
class Coding:
    """How an item's answers are coded: whole codes ``low..high``, or any number in ``low..high``."""

    low: float | None
    high: float | None
    whole: bool

    def __str__(self) -> str:
        span = f"{_number(self.low)}..{_number(self.high)}"
        return f"whole numbers {span}" if self.whole else f"numbers {span}"


def _number(value: float | None) -> str:
    if value is None:
        return "(no bound)"
    return str(int(value)) if float(value).is_integer() else str(value)


def expected_codings(schema: pa.DataFrameSchema) -> dict[str, Coding]:
    """Item name -> the coding the scoring expects, read from the export schema's item rules."""
    out = {}
    for instrument in INSTRUMENTS:
        column = next(c for p, c in schema.columns.items() if c.regex and p == rf"^{instrument.name}_\d+$")
        stats = {k: v for check in column.checks for k, v in (check.statistics or {}).items()}
        whole = any(check.name == "whole_number" for check in column.checks)
        coding = Coding(stats.get("min_value"), stats.get("max_value"), whole)
        out.update({f"{instrument.name}_{i}": coding for i in range(1, instrument.n_items + 1)})
    return out


def _bound(text: object) -> float | None:
    value = pd.to_numeric(pd.Series([text]), errors="coerce")[0]
    return None if pd.isna(value) else float(value)


def field_coding(row: dict) -> Coding | str:
    """The coding a dictionary row gives its field, or a description of why it has none."""
    kind = str(row.get("type") or "").strip().lower()
    if kind in ("radio", "dropdown"):
        codes = [c.split(",", 1)[0].strip() for c in str(row.get("choices") or "").split("|")]
        numbers = pd.to_numeric(pd.Series(codes), errors="coerce")
        if numbers.isna().any() or not len(numbers) or not (numbers % 1 == 0).all():
            return f"{kind} with the choices {row.get('choices')}"
        values = sorted(int(v) for v in numbers)
        if values != list(range(values[0], values[-1] + 1)):
            return f"{kind} coded {', '.join(map(str, values))}"
        return Coding(values[0], values[-1], True)
    if kind == "slider":
        low, high = _bound(row.get("low")), _bound(row.get("high"))
        return Coding(0.0 if low is None else low, 100.0 if high is None else high, False)
    validation = str(row.get("validation") or "").strip().lower()
    if kind == "text" and validation.startswith(_NUMERIC_VALIDATION):
        return Coding(_bound(row.get("low")), _bound(row.get("high")), validation == "integer")
    return f"{kind or 'a field'}{' validated as ' + validation if validation else ''}"


def matches(found: Coding | str, expected: Coding) -> bool:
    """The dictionary's coding is the scoring's: same bounds, and whole codes where whole are expected."""
    if isinstance(found, str):
        return False
    return found.low == expected.low and found.high == expected.high and (found.whole or not expected.whole)


def read_dictionary(path: Path) -> list[dict]:
    """The dictionary's rows with our column names, ``_row`` and ``_line``; UnreadableFile when it
    is not a data dictionary."""
    text = read_csv_text(path).frame
    names = {ours: next((h for h in headers if h in text.columns), None) for ours, headers in COLUMNS.items()}
    if names["field"] is None or names["type"] is None:
        raise UnreadableFile(f"{path.name} is not a REDCap data dictionary (no 'Variable / Field Name' and "
                             "'Field Type' columns)")
    frame = pd.DataFrame({ours: text[h] if h else None for ours, h in names.items()})
    frame[ROW], frame[LINE] = text[ROW], text[LINE]
    return frame.to_dict("records")


def check_dictionary(path: Path, file: str, schema: pa.DataFrameSchema) -> tuple[list[dict], bool]:
    """Quarantine entries of the dictionary, and whether its coding fails the REDCap source: one
    entry per analysed item missing or coded otherwise than the scoring expects. A file that is
    not a data dictionary is one entry and fails nothing (the coding cannot be checked)."""
    try:
        rows = {str(r["field"]).strip(): r for r in read_dictionary(path)}
    except UnreadableFile as error:
        return [file_entry("redcap", file, "", "", f"{error}; the coding of the REDCap items cannot be checked")], False
    entries = []
    for item, expected in expected_codings(schema).items():
        row = rows.get(item)
        found = field_coding(row) if row else "absent from the data dictionary"
        if row is not None and matches(found, expected):
            continue
        entries.append({"source": "redcap", "file": file, "row": row[ROW] if row else None,
                        "line": row[LINE] if row else None, "field": item, "value": str(found),
                        "rule": f"{item} is coded as {found} in the data dictionary where the scoring expects "
                                f"{expected} (INSTRUMENTS.md): no REDCap score is computed until they agree"})
    if entries:
        log.error("REDCap data dictionary %s does not match the scoring: %s", file,
                  "; ".join(f"{e['field']}: {e['value']} (expected {expected_codings(schema)[e['field']]})"
                            for e in entries))
    return entries, bool(entries)
