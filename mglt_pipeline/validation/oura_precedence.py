"""Which copy of an Oura record is used: restatements, duplicates, conflicts and the three ways.

DATA_CONTRACT.md "Oura ring" and the top of the contract, applied to the valid records of one
collection (a record rejected whole never supersedes a good one), in this order:
1. A record that Oura restated carries a later ``meta.updated_at``: the latest statement of a key
   wins, in whichever file it is.
2. Within one file a key is unique; across files of one way the later file (natural name order)
   wins. This is the project's one mechanism (``validation.duplicates``): identical copies in a file
   are one record, different ones are a conflict (all quarantined, the key's value then missing,
   also over an earlier file's copy).
3. Two different daily documents of one kind for one day (different keys) within one way are a
   conflict: all are quarantined, so the day's value is missing visibly rather than silently one
   of them.
4. A participant's night (the ``day``) comes from one way only: the API over the account export over
   the Trends CSV. Every copy from a lower way is superseded.
Every copy left out by 1, 2 or 4 is counted as superseded.
"""
from __future__ import annotations

import pandas as pd

from mglt_pipeline.sources.files import LINE, ROW
from mglt_pipeline.sources.oura_collections import SOURCE_FORMAT, WAYS, Collection
from mglt_pipeline.sources.oura_records import KEY, ORDER, POS, UPDATED_AT
from mglt_pipeline.validation.duplicates import CONFLICT, FILE_ORDER, collapse_within_files, supersede_files
from mglt_pipeline.validation.quarantine import SOURCE_FILE, quarantine_frame

WAY_RANK = {way: rank for rank, way in enumerate(WAYS)}
KEY_COLUMNS = ["participant_id", SOURCE_FORMAT, KEY]
BOOKKEEPING = [ROW, LINE, KEY, FILE_ORDER]


def latest_statements(rows: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Rule 1: where a key has restated copies, only its latest ``meta.updated_at`` stays."""
    stated = rows[UPDATED_AT].notna()
    if not stated.any():
        return rows, 0
    latest = rows.loc[stated].groupby(KEY_COLUMNS, sort=False)[UPDATED_AT].transform("max")
    restated_keys = rows.loc[stated, KEY_COLUMNS].drop_duplicates()
    in_restated = rows[KEY_COLUMNS].merge(restated_keys, how="left", indicator=True)["_merge"].eq("both").to_numpy()
    keep = ~in_restated
    keep[stated.to_numpy()] |= (rows.loc[stated, UPDATED_AT] == latest).to_numpy()
    return rows[keep], int((~keep).sum())


def daily_conflicts(rows: pd.DataFrame, collection: Collection) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rule 3: (rows kept, entries) for daily documents of one day with different keys."""
    same_day = ["participant_id", SOURCE_FORMAT, "day"]
    clash = rows.duplicated(same_day, keep=False) if collection.daily else pd.Series(False, index=rows.index)
    if not clash.any():
        return rows, pd.DataFrame()
    bad = rows[clash]
    keys = bad.groupby(same_day, sort=False)[KEY].transform(lambda k: ", ".join(sorted(k.astype(str))))
    return rows[~clash], quarantine_frame(pd.DataFrame({
        "source": "oura", "file": bad[SOURCE_FILE].to_numpy(), "row": bad[ROW].to_numpy(),
        "line": bad[LINE].to_numpy(), "participant_id": bad["participant_id"].to_numpy(),
        "key": bad["day"].dt.strftime("%Y-%m-%d").to_numpy(), "field": "id", "value": bad[KEY].astype(str).to_numpy(),
        "rule": (f"{CONFLICT} two or more different {collection.name} documents for one day ("
                 + keys + "), none restating another; all are quarantined and the day's value stays missing"
                 ).to_numpy()}))


def one_way_per_night(rows: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Rule 4: each participant's night from the highest-ranked way that delivered it."""
    if rows[SOURCE_FORMAT].nunique() < 2:
        return rows, 0
    rank = rows[SOURCE_FORMAT].map(WAY_RANK)
    best = rank.groupby([rows["participant_id"], rows["day"]]).transform("min")
    lower = (rank > best).to_numpy()
    return rows[~lower], int(lower.sum())


def choose_copies(rows: pd.DataFrame, collection: Collection) -> tuple[pd.DataFrame, pd.DataFrame | None, int, int]:
    """Valid records of one collection -> (records used, conflict entries or None, records quarantined
    by a conflict, copies superseded). The records used keep ``_row``, ``_line``, ``key``, ``_file`` (``BOOKKEEPING``)."""
    rows, restated = latest_statements(rows)
    rows = read = rows.drop(columns=[POS, UPDATED_AT]).rename(columns={ORDER: FILE_ORDER})
    rows, in_file, markers, in_conflict, collapsed = collapse_within_files(rows, ["participant_id", KEY], "oura",
                                                                          key_column="day")
    if len(markers):  # a conflict's file states its way
        ways = read[["participant_id", FILE_ORDER, SOURCE_FORMAT]].drop_duplicates()
        markers = markers.merge(ways, on=["participant_id", FILE_ORDER], how="left")
    later = 0
    if len(markers) or rows.duplicated(KEY_COLUMNS).any():  # a key in several files
        rows, later = supersede_files(rows, markers, KEY_COLUMNS)
    rows, same_day = daily_conflicts(rows, collection)
    rows, lower_way = one_way_per_night(rows)
    if len(in_file):
        in_file = in_file.assign(key=in_file["key"].astype("string").str.slice(0, 10))
    entries = [e for e in (in_file, same_day) if len(e)]
    entries = quarantine_frame(pd.concat(entries, ignore_index=True)) if entries else None
    return rows, entries, in_conflict + len(same_day), restated + collapsed + later + lower_way
