"""How a REDCap flat export is laid out, as real projects export it (DATA_CONTRACT.md, "REDCap exports").

- The first column is the record id whatever its name (``record_id``, ``study_id``, ...).
- Rows of other events of the project (screening, follow-up) are set aside and counted.
- Only the analysed instruments' columns are read (items, ``<form>_timestamp``, ``<form>_complete``);
  other instruments' fields, checkboxes ``field___code``, ``redcap_data_access_group`` and
  ``redcap_survey_identifier`` are ignored and listed. An analysed instrument with some of its items
  missing from a file is one entry, and its answers in that file are not used.
- Repeating instruments: instance rows of forms not analysed are set aside; an analysed instrument
  exported as repeating is quarantined with a rule saying so; no instance row ever replaces the
  event's own row. A repeating event is quarantined likewise.
- A label export ("CSV (labels)") cannot be scored: the whole file is one entry saying so.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pandera.pandas as pa

from mglt_pipeline.scoring.instruments import INSTRUMENTS
from mglt_pipeline.sources.files import LINE, ROW, UnreadableFile, repeated_names
from mglt_pipeline.sources.tables import FilePlan
from mglt_pipeline.validation.cells import cell_text
from mglt_pipeline.validation.quarantine import SOURCE_FILE, set_aside_entry
from mglt_pipeline.visits import REDCAP_EVENT_VISITS

RECORD_ID = "record_id"
EVENT = "redcap_event_name"
REPEAT_INSTRUMENT = "redcap_repeat_instrument"
REPEAT_INSTANCE = "redcap_repeat_instance"
FORMS = "_forms"
"""Column naming the analysed instruments a row's file holds (comma separated)."""
ANALYSED_EVENTS = tuple(REDCAP_EVENT_VISITS)
_EVENT_NAME = re.compile(r"^[a-z][a-z0-9_]*_arm_\d+$")
_VARIABLE = re.compile(r"^[a-z][a-z0-9_]*$")
_LABEL_HEADERS = {"record id", "study id", "event name", "repeat instrument", "repeat instance",
                  "survey identifier", "data access group", "complete?"}
_COMPLETE_LABELS = {"Incomplete", "Unverified", "Complete"}
LABEL_EXPORT_RULE = ("is a REDCap label export ('CSV (labels)': {what}): answers written as text cannot be scored; "
                     "export the raw data instead ('CSV / Microsoft Excel (raw data)')")


def instrument_columns(name: str, n_items: int) -> tuple[list[str], list[str]]:
    """An analysed instrument's item columns, and its timestamp and completion columns."""
    return [f"{name}_{i}" for i in range(1, n_items + 1)], [f"{name}_timestamp", f"{name}_complete"]


def _label_header(header: list[str]) -> str | None:
    """What in a header shows a label export (names are labels, not REDCap variable names)."""
    labels = [c for c in header if c.lower() in _LABEL_HEADERS or c.lower().endswith("complete?")]
    if labels:
        return f"headers such as '{labels[0]}'"
    if header and not _VARIABLE.match(header[0]):
        return f"its first column is '{header[0]}', not a variable name"
    return None


def _label_values(header: list[str], rows: list[list[str]]) -> str | None:
    """What in the first rows shows answers exported as labels (raw headers, label values)."""
    for position, name in enumerate(header):
        values = {cells[position] for cells in rows if position < len(cells)} - {""}
        labelled = (values & _COMPLETE_LABELS if name.endswith("_complete") else
                    values & {"Checked", "Unchecked"} if "___" in name else
                    {v for v in values if re.search(r"\(Arm \d+", v)} if name == EVENT else set())
        if labelled:
            return f"{name} holds '{sorted(labelled)[0]}'"
    return None


def plan_export(schema: pa.DataFrameSchema, header: list[str], file: str, sample: list[list[str]]) -> FilePlan:
    """How one export's header is read: record id (first column) renamed ``record_id``, the
    analysed instruments held in full, everything else ignored and listed; a label export (by its
    header or its first rows) rejected whole."""
    label = _label_header(header) or _label_values(header, sample)
    if label:
        return FilePlan(reject=[("", f"{file} {LABEL_EXPORT_RULE.format(what=label)}")])
    repeated = repeated_names(header)
    if repeated or not header:
        return FilePlan(reject=[("", repeated or "the file has no columns")])
    if EVENT not in header[1:]:
        return FilePlan(reject=[(EVENT, f"the file lacks the required column {EVENT}")])
    used, entries = [header[0], *[c for c in (EVENT, REPEAT_INSTRUMENT, REPEAT_INSTANCE) if c in header]], []
    for instrument in INSTRUMENTS:
        items, extra = instrument_columns(instrument.name, instrument.n_items)
        present = [c for c in items if c in header]
        if len(present) == len(items):
            used += items + [c for c in extra if c in header]
        elif present:
            missing = [c for c in items if c not in header]
            entries.append({"source": "redcap", "file": file, "field": ", ".join(missing), "value": None,
                            "rule": f"the file holds only some {instrument.name} items (it lacks {', '.join(missing)}),"
                                    f" so its {instrument.name} answers are not used"})
    rename = {header[0]: RECORD_ID} if header[0] != RECORD_ID else {}
    ignored = [c for c in header if c not in used]
    if not any(c in used for i in INSTRUMENTS for c in instrument_columns(i.name, i.n_items)[0]):
        return FilePlan(rename=rename, ignored=ignored,
                        set_aside="the export holds none of the analysed instruments (isi, lseq, rsq, poms)")
    return FilePlan(rename=rename, ignored=ignored, entries=entries)


def _row_entry(frame: pd.DataFrame, at: int, field: str, rule: str) -> dict:
    return {"source": "redcap", "file": frame[SOURCE_FILE].iat[at], "row": frame[ROW].iat[at],
            "line": frame[LINE].iat[at] if LINE in frame else None,
            "participant_id": cell_text(frame[RECORD_ID].iat[at]),
            "key": cell_text(frame[EVENT].iat[at]) if EVENT in frame else None, "field": field,
            "value": cell_text(frame[field].iat[at]), "rule": rule}


def _looks_labelled(frame: pd.DataFrame) -> bool:
    """Raw headers but label values (``Complete``, ``Baseline (Arm 1: ...)``)."""
    completes = [c for c in frame.columns if c.endswith("_complete")]
    if any(frame[c].isin(_COMPLETE_LABELS).any() for c in completes):
        return True
    return EVENT in frame and bool(frame[EVENT].astype("string").str.contains(r"\(Arm \d+", regex=True).fillna(False).any())


def split_export(frame: pd.DataFrame, events: tuple[str, ...] = ANALYSED_EVENTS,
                 forms: tuple[str, ...] = tuple(i.name for i in INSTRUMENTS)
                 ) -> tuple[pd.DataFrame, list[dict], list[dict], int]:
    """Rows of other events and instance rows of forms not analysed set aside; instance rows of an
    analysed form (``forms``), and repeated events, quarantined; the event rows kept (with the
    analysed forms the file holds). Returns (kept rows, set-aside entries, quarantine entries, rows
    quarantined)."""
    if _looks_labelled(frame):
        raise UnreadableFile(LABEL_EXPORT_RULE.format(what="answers and statuses written as labels"))
    empty = pd.Series(None, index=frame.index, dtype=object)
    event = frame.get(EVENT, empty).astype("string")
    form, instance = frame.get(REPEAT_INSTRUMENT, empty), frame.get(REPEAT_INSTANCE, empty)
    other = (event.str.match(_EVENT_NAME.pattern).fillna(False) & ~event.isin(events)).to_numpy(dtype=bool)
    repeat = form.notna().to_numpy() & ~other
    repeat_analysed = repeat & form.isin(forms).to_numpy()
    repeated_event = instance.notna().to_numpy() & form.isna().to_numpy() & ~other

    def aside(i: int, reason: str) -> dict:
        return set_aside_entry("redcap", frame[SOURCE_FILE].iat[i], reason, row=frame[ROW].iat[i],
                               participant_id=cell_text(frame[RECORD_ID].iat[i]), key=cell_text(event.iat[i]))

    set_aside = [aside(i, f"event {event.iat[i]} is not one of the analysed events ({', '.join(events)})")
                 for i in np.flatnonzero(other)]
    set_aside += [aside(i, f"instance {cell_text(instance.iat[i])} of the repeating instrument {form.iat[i]}, "
                           "which is not analysed") for i in np.flatnonzero(repeat & ~repeat_analysed)]
    entries = [_row_entry(frame, i, REPEAT_INSTRUMENT,
                          f"{form.iat[i]} is exported as a repeating instrument (instance {cell_text(instance.iat[i])}): "
                          f"the analysis takes one {form.iat[i]} per participant and event, so its instance rows "
                          f"are not used; make {form.iat[i]} a non-repeating instrument")
               for i in np.flatnonzero(repeat_analysed)]
    entries += [_row_entry(frame, i, REPEAT_INSTANCE,
                           f"the event {event.iat[i]} is exported as a repeating event (instance "
                           f"{cell_text(instance.iat[i])}): one row per participant and event is needed")
                for i in np.flatnonzero(repeated_event)]
    kept = frame.loc[~(other | repeat | repeated_event)].drop(
        columns=[c for c in (REPEAT_INSTRUMENT, REPEAT_INSTANCE) if c in frame])
    held = ",".join(i.name for i in INSTRUMENTS if f"{i.name}_1" in frame.columns)
    return kept.assign(**{FORMS: held}), set_aside, entries, int((repeat_analysed | repeated_event).sum())
