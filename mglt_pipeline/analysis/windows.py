"""Outcome values per participant and visit (table ``outcome_windows``), for every registry outcome.

SAP "Study days and visits":
- daily outcomes (``oura_nightly``, ``diary_daily``): the window value is the mean of the valid
  (non-null) days in the visit's window; with fewer than 3 valid days it is missing. The number of
  valid days is kept (``n_valid_days``) so a missing window can be explained;
- visit outcomes (questionnaire scores): the score of the REDCap event of that visit
  (``n_valid_days`` null).
A participant still in the trial simply has no rows for the windows not yet reached.
"""
from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from mglt_pipeline.visits import VISIT_NUM
from mglt_pipeline.registry import OUTCOMES

MIN_VALID_DAYS = 3
COLUMNS = ["participant_id", "outcome", "visit", "visit_num", "value", "n_valid_days"]


def _long(table: pd.DataFrame, outcome_ids: list[str], id_columns: list[str]) -> pd.DataFrame:
    """One row per table row and outcome (``outcome``, ``value``)."""
    melted = table[id_columns + outcome_ids].melt(id_vars=id_columns, value_vars=outcome_ids,
                                                  var_name="outcome", value_name="value")
    melted["value"] = pd.to_numeric(melted["value"], errors="coerce").astype(float)
    return melted


def window_means(daily: pd.DataFrame, outcome_ids: list[str], min_valid_days: int = MIN_VALID_DAYS) -> pd.DataFrame:
    """Window value of each daily outcome per participant and visit: mean of valid days, or missing.

    ``daily`` has one row per participant and day with ``visit`` (null outside every window) and
    one column per outcome id. Days outside the windows are ignored.
    """
    in_window = daily[daily["visit"].notna()]
    melted = _long(in_window, outcome_ids, ["participant_id", "visit"])
    grouped = melted.groupby(["participant_id", "outcome", "visit"], sort=False)["value"]
    out = grouped.agg(["mean", "count"]).reset_index()
    out["n_valid_days"] = out["count"].astype("Int64")
    out["value"] = out["mean"].where(out["count"] >= min_valid_days)
    out["visit_num"] = out["visit"].map(VISIT_NUM).astype("Int64")
    return out[COLUMNS]


def visit_values(scores: pd.DataFrame, outcome_ids: list[str]) -> pd.DataFrame:
    """Value of each visit outcome per participant and visit: the score at that event."""
    melted = _long(scores, outcome_ids, ["participant_id", "visit"])
    melted = melted.drop_duplicates(["participant_id", "outcome", "visit"], keep="last")
    melted["visit_num"] = melted["visit"].map(VISIT_NUM).astype("Int64")
    melted["n_valid_days"] = pd.array([pd.NA] * len(melted), dtype="Int64")
    return melted[COLUMNS]


def derive_outcome_windows(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Long table of every registry outcome's value per participant and visit.

    ``tables`` maps each registry ``source`` (``oura_nightly``, ``isi_scores`` ...) to its table.
    """
    parts = []
    for source in dict.fromkeys(o.source for o in OUTCOMES):
        outcomes = [o for o in OUTCOMES if o.source == source]
        ids = [o.id for o in outcomes]
        if outcomes[0].schedule == "daily":
            parts.append(window_means(tables[source], ids))
        else:
            parts.append(visit_values(tables[source], ids))
    out = pd.concat(parts, ignore_index=True)
    order = {o.id: i for i, o in enumerate(OUTCOMES)}
    out = out.assign(_order=out["outcome"].map(order)).sort_values(["participant_id", "_order", "visit_num"])
    return out.drop(columns="_order").reset_index(drop=True)
