"""REDCap flat exports (redcap/*.csv) to ``questionnaire_items``, one row per item.

DATA_CONTRACT.md: one export row per participant (the record id, the first column) and event; items
``isi_1..7``, ``lseq_1..10``, ``rsq_1..9``, ``poms_1..65``, blank meaning not answered; per
instrument a ``<instrument>_timestamp`` (or ``[not completed]``) and ``<instrument>_complete``
(0/1/2). How a real export is laid out (other events, other instruments, repeating instruments,
label exports) is ``redcap_layout``; the optional data dictionary is checked by ``redcap_dictionary``.
A record and event twice in one file with different answers is a conflict. A later export
supersedes an earlier one instrument by instrument, so an export of some forms only never blanks
the others. Counts are of export rows: a row is clean when it still gives at least one instrument.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from mglt_pipeline.scoring.instruments import INSTRUMENTS
from mglt_pipeline.sources.files import count_records, not_read, relative_path, source_files
from mglt_pipeline.sources.redcap_dictionary import DICTIONARY_FILE, check_dictionary
from mglt_pipeline.sources.redcap_layout import EVENT, FORMS, RECORD_ID, plan_export, split_export
from mglt_pipeline.sources.tables import CsvSource, as_table, read_csv_rows
from mglt_pipeline.validation.duplicates import FILE_ORDER, collapse_within_files, supersede_files
from mglt_pipeline.validation.quarantine import (
    Ingested, concat_quarantine, concat_set_aside, file_entry, quarantine_frame, set_aside_frame,
)
from mglt_pipeline.validation.schemas import QuestionnaireItems, RedcapExport
from mglt_pipeline.visits import REDCAP_EVENT_VISITS

log = logging.getLogger(__name__)

ITEM_COLUMNS = ["participant_id", "event", "visit", "visit_num", "instrument", "item", "value",
                "completed_at", "complete_status", "source_file"]
NOT_COMPLETED = "[not completed]"
KEY = [RECORD_ID, EVENT]
REDCAP = CsvSource("redcap", RedcapExport.to_schema(), tuple(KEY), key_column=EVENT, participant_column=RECORD_ID,
                   plan=plan_export, split=split_export)


def _instrument_items(export: pd.DataFrame, instrument: str, n_items: int) -> pd.DataFrame:
    """The long rows of one instrument: every export row times every item (blank cells kept)."""
    n_rows = len(export)
    columns = [f"{instrument}_{i}" for i in range(1, n_items + 1)]
    values = export.reindex(columns=columns).to_numpy(dtype=float)
    stamp = export.get(f"{instrument}_timestamp", pd.Series(None, index=export.index, dtype=object))
    stamp = pd.to_datetime(stamp.where(stamp != NOT_COMPLETED), format="%Y-%m-%d %H:%M:%S", errors="coerce")
    status = export.get(f"{instrument}_complete", pd.Series(pd.NA, index=export.index, dtype="Int64"))
    return pd.DataFrame({
        "participant_id": np.repeat(export[RECORD_ID].to_numpy(), n_items),
        "event": np.repeat(export[EVENT].to_numpy(), n_items),
        "instrument": instrument,
        "item": np.tile(np.arange(1, n_items + 1), n_rows),
        "value": values.ravel(),
        "completed_at": np.repeat(stamp.to_numpy(), n_items),
        "complete_status": pd.array(np.repeat(status.astype("Int64").to_numpy(), n_items), dtype="Int64"),
        "source_file": np.repeat(export["source_file"].to_numpy(), n_items),
    })


def export_to_items(export: pd.DataFrame, instruments: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Validated wide REDCap rows to ``questionnaire_items`` (docs/TABLES.md), with the visit of
    each event (baseline, week_1..3 after Days 7, 14, 21). ``instruments`` gives each instrument
    its own rows (after superseding); without it every row gives every instrument."""
    parts = [_instrument_items(export if instruments is None else instruments[i.name], i.name, i.n_items)
             for i in INSTRUMENTS]
    items = pd.concat(parts, ignore_index=True)
    items["visit"] = items["event"].map({e: w.visit for e, w in REDCAP_EVENT_VISITS.items()})
    items["visit_num"] = items["event"].map({e: w.visit_num for e, w in REDCAP_EVENT_VISITS.items()})
    items = items.sort_values(["participant_id", "visit_num", "instrument", "item"], kind="stable")
    return as_table(QuestionnaireItems.validate(items), ITEM_COLUMNS)


def supersede_by_instrument(kept: pd.DataFrame, conflicts: pd.DataFrame, forms_of_file: dict[int, str]
                            ) -> tuple[dict[str, pd.DataFrame], int]:
    """Each instrument's rows, one per record and event from the latest file that holds the
    instrument (a conflict in such a file leaves it missing), and the number of rows that give no
    instrument (all superseded)."""
    kept = kept.reset_index(drop=True).assign(_position=np.arange(len(kept)))
    given, out = set(), {}
    for instrument in INSTRUMENTS:
        files = [f for f, forms in forms_of_file.items() if instrument.name in forms.split(",")]
        own = [c for c in kept.columns if c.startswith(f"{instrument.name}_")]
        rows = kept.loc[kept[FILE_ORDER].isin(files), [*KEY, FILE_ORDER, "source_file", "_position", *own]]
        out[instrument.name], _ = supersede_files(rows, conflicts[conflicts[FILE_ORDER].isin(files)], KEY)
        given.update(out[instrument.name]["_position"].tolist())
    return out, len(kept) - len(given)


def _coding_failure(files: list[Path], root: Path, dictionary_entries: list[dict]) -> Ingested:
    """The REDCap source failed by its data dictionary: every export rejected whole, no items."""
    entries = [file_entry("redcap", relative_path(p, root), "", "",
                          "not used: the REDCap data dictionary codes the analysed items otherwise than the "
                          "scoring expects (see the entries of the data dictionary)") for p in files]
    rows = sum(count_records(p) for p in files)
    fields = ", ".join(f"{e['field']} ({e['value']})" for e in dictionary_entries)
    return Ingested(clean=export_to_items(pd.DataFrame(columns=[*KEY, "source_file"])),
                    quarantine=quarantine_frame([*dictionary_entries, *entries]), rows_read=rows,
                    rows_quarantined=rows, rows_superseded=0, files=[relative_path(p, root) for p in files],
                    source_rows_clean=0,
                    error=f"REDCap source failed: the data dictionary codes {fields} otherwise than the scoring "
                          "expects (see the quarantine); no questionnaire is scored from these exports")


def read_redcap(raw_dir: Path, root: Path, known: pd.Series) -> Ingested:
    """redcap/*.csv: validated export rows (unknown participants and events quarantined, other
    events and other forms' instance rows set aside), a later export superseding an earlier one
    per record, event and instrument, as questionnaire items."""
    folder = Path(raw_dir) / "redcap"
    dictionary = [p for p in source_files(folder, DICTIONARY_FILE)]
    files = [p for p in source_files(folder, "*.csv") if p not in dictionary]
    dictionary_entries, failed = [], False
    if dictionary:
        dictionary_entries, failed = check_dictionary(dictionary[0], relative_path(dictionary[0], root), REDCAP.schema)
    if failed:
        result = _coding_failure(files, root, dictionary_entries)
    else:
        rows = read_csv_rows(files, root, REDCAP, known)
        valid = rows.valid_rows() if rows.valid else pd.DataFrame(columns=[*KEY, FILE_ORDER, FORMS, "source_file"])
        kept, conflicts, markers, conflicted, copies = collapse_within_files(
            valid, KEY, "redcap", participant_column=RECORD_ID, key_column=EVENT)
        forms_of_file = valid.groupby(FILE_ORDER)[FORMS].first().to_dict() if len(valid) else {}
        by_instrument, superseded = supersede_by_instrument(kept, markers, forms_of_file)
        result = Ingested(
            clean=export_to_items(kept, by_instrument), rows_read=rows.rows_read,
            quarantine=concat_quarantine([quarantine_frame(dictionary_entries), *rows.entries, conflicts]),
            rows_quarantined=rows.rows_quarantined + conflicted, rows_superseded=superseded + copies,
            files=rows.files, set_aside=set_aside_frame(rows.set_aside), rows_set_aside=rows.rows_set_aside,
            dropped_identifiers=rows.dropped, columns_ignored=rows.ignored,
            source_rows_clean=len(kept) - superseded)
    result.set_aside = concat_set_aside([result.set_aside_entries, set_aside_frame(
        not_read(folder, files + dictionary, root, "redcap", f"*.csv exports and {DICTIONARY_FILE}"))])
    return result
