"""REDCap flat exports (redcap/*.csv) to ``questionnaire_items``, one row per item.

DATA_CONTRACT.md: one export row per participant (``record_id``) and event; items ``isi_1..7``,
``lseq_1..10``, ``rsq_1..9``, ``poms_1..65``, blank meaning not answered; per instrument a
``<instrument>_timestamp`` (or ``[not completed]``) and ``<instrument>_complete`` (0/1/2).
Rows are validated and superseded in wide form, so counts are of export rows, not item rows.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mglt_pipeline.scoring.instruments import INSTRUMENTS
from mglt_pipeline.sources.files import source_files
from mglt_pipeline.sources.tables import as_table, ingest_csv
from mglt_pipeline.validation.quarantine import Ingested
from mglt_pipeline.validation.schemas import QuestionnaireItems, RedcapExport
from mglt_pipeline.visits import REDCAP_EVENT_VISITS

ITEM_COLUMNS = ["participant_id", "event", "visit", "visit_num", "instrument", "item", "value",
                "completed_at", "complete_status", "source_file"]
NOT_COMPLETED = "[not completed]"


def _instrument_items(export: pd.DataFrame, instrument: str, n_items: int) -> pd.DataFrame:
    """The long rows of one instrument: every export row times every item (blank cells kept)."""
    n_rows = len(export)
    columns = [f"{instrument}_{i}" for i in range(1, n_items + 1)]
    values = export.reindex(columns=columns).to_numpy(dtype=float)
    stamp = export.get(f"{instrument}_timestamp", pd.Series(None, index=export.index, dtype=object))
    stamp = pd.to_datetime(stamp.where(stamp != NOT_COMPLETED), format="%Y-%m-%d %H:%M:%S", errors="coerce")
    status = export.get(f"{instrument}_complete", pd.Series(pd.NA, index=export.index, dtype="Int64"))
    return pd.DataFrame({
        "participant_id": np.repeat(export["record_id"].to_numpy(), n_items),
        "event": np.repeat(export["redcap_event_name"].to_numpy(), n_items),
        "instrument": instrument,
        "item": np.tile(np.arange(1, n_items + 1), n_rows),
        "value": values.ravel(),
        "completed_at": np.repeat(stamp.to_numpy(), n_items),
        "complete_status": pd.array(np.repeat(status.astype("Int64").to_numpy(), n_items), dtype="Int64"),
        "source_file": np.repeat(export["source_file"].to_numpy(), n_items),
    })


def export_to_items(export: pd.DataFrame) -> pd.DataFrame:
    """Validated wide REDCap rows to ``questionnaire_items`` (docs/TABLES.md), with the visit of
    each event (baseline, week_1..3 after Days 7, 14, 21)."""
    items = pd.concat([_instrument_items(export, i.name, i.n_items) for i in INSTRUMENTS], ignore_index=True)
    items["visit"] = items["event"].map({e: w.visit for e, w in REDCAP_EVENT_VISITS.items()})
    items["visit_num"] = items["event"].map({e: w.visit_num for e, w in REDCAP_EVENT_VISITS.items()})
    items = items.sort_values(["participant_id", "visit_num", "instrument", "item"], kind="stable")
    return as_table(QuestionnaireItems.validate(items), ITEM_COLUMNS)


def read_redcap(raw_dir: Path, root: Path, known: pd.Series) -> Ingested:
    """redcap/*.csv: validated export rows (unknown participants and events quarantined), a later
    export superseding an earlier one per (record_id, event), as questionnaire items."""
    files = source_files(Path(raw_dir) / "redcap", "*.csv")
    result = ingest_csv(files, root, "redcap", RedcapExport.to_schema(),
                        ["record_id", "redcap_event_name"], known=known, participant_column="record_id")
    result.source_rows_clean = len(result.clean)
    result.clean = export_to_items(result.clean)
    return result
