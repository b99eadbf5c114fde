"""Which copy of an Oura record is used: duplicates, restatements, conflicts and the three ways.

DATA_CONTRACT.md "Oura ring" and the top of the contract, applied to valid records of one collection
(quarantined records never supersede a good one) in this order:
1. Within one file a key is unique: copies with the same content are one record; copies that
   differ are a conflict and all are quarantined, unless ``meta.updated_at`` orders them (a
   restatement: the later statement wins).
2. Within one way the later statement wins: the later ``meta.updated_at``, then the later file in
   natural name order, then the later position in the file.
3. Two different daily documents of one kind for one day (different keys) within one way are a
   conflict: all are quarantined, so the day's value is missing visibly rather than silently one
   of them.
4. A participant's night (the ``day``) comes from one way only: the API over the account export over
   the Trends CSV. Every copy from a lower way is superseded.
Every copy left out by 1, 2 or 4 is counted as superseded; every record of 1 and 3 is a quarantine
entry naming the others.
"""
from __future__ import annotations

import pandas as pd

from mglt_pipeline.sources.files import ROW
from mglt_pipeline.sources.oura_collections import SOURCE_FORMAT, WAYS, Collection
from mglt_pipeline.sources.oura_records import KEY, LINE, ORDER, POS, UPDATED_AT
from mglt_pipeline.validation.quarantine import SOURCE_FILE, quarantine_frame

WAY_RANK = {way: rank for rank, way in enumerate(WAYS)}


def _same_content(group: pd.DataFrame, values: list[str]) -> bool:
    return len(group[values].astype(str).drop_duplicates()) == 1


def _restated(group: pd.DataFrame) -> bool:
    stamps = group[UPDATED_AT]
    return bool(stamps.notna().all() and stamps.astype(str).is_unique)


def _entries(rows: pd.DataFrame, field: pd.Series, rule: pd.Series) -> pd.DataFrame:
    """Quarantine entries of whole records (``field`` names the key that clashes)."""
    return quarantine_frame(pd.DataFrame({
        "source": "oura", "file": rows[SOURCE_FILE].to_numpy(), "row": rows[ROW].to_numpy(),
        "line": rows[LINE].to_numpy(), "participant_id": rows["participant_id"].to_numpy(),
        "key": rows["day"].astype(str).str.slice(0, 10).to_numpy(), "field": field.to_numpy(),
        "value": rows[KEY].astype(str).to_numpy(), "rule": rule.to_numpy()}))


def _key_field(rows: pd.DataFrame, collection: Collection) -> pd.Series:
    with_id = rows["id"].notna() & (rows["id"].astype(str) != "")
    fallback = "day" if collection.daily else "bedtime_start"
    return pd.Series(["id" if w else fallback for w in with_id], index=rows.index)


def in_file_duplicates(rows: pd.DataFrame, collection: Collection) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Rule 1: (rows kept, conflict entries, copies superseded)."""
    group_key = ["participant_id", SOURCE_FILE, KEY]
    duplicated = rows.duplicated(group_key, keep=False)
    if not duplicated.any():
        return rows, quarantine_frame([]), 0
    drop, conflicts = [], []
    for _, group in rows[duplicated].groupby(group_key, sort=False):
        if _same_content(group, collection.values) or _restated(group):
            ordered = group.sort_values([UPDATED_AT, POS], na_position="first")
            drop.extend(ordered.index[:-1])
        else:
            conflicts.append(group)
    entries = quarantine_frame([])
    if conflicts:
        clash = pd.concat(conflicts)
        n = clash.groupby(group_key, sort=False)[KEY].transform("size").astype(str)
        rule = (n + " records of this file have the same key " + clash[KEY].astype(str)
                + " and different values, so none of them is used")
        entries = _entries(clash, _key_field(clash, collection), rule)
        drop.extend(clash.index)
    superseded = len(drop) - sum(len(c) for c in conflicts)
    return rows.drop(index=drop), entries, superseded


def later_statement_wins(rows: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Rule 2: one record per (participant, way, key): the later statement, file and position."""
    group_key = ["participant_id", SOURCE_FORMAT, KEY]
    copies = rows.duplicated(group_key, keep=False)
    if not copies.any():
        return rows, 0
    ordered = rows[copies].sort_values([UPDATED_AT, ORDER, POS], na_position="first", kind="stable")
    superseded = ordered.index[ordered.duplicated(group_key, keep="last").to_numpy()]
    return rows.drop(index=superseded), len(superseded)


def daily_conflicts(rows: pd.DataFrame, collection: Collection) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rule 3: (rows kept, entries) for daily documents of one day with different keys."""
    if not collection.daily:
        return rows, quarantine_frame([])
    clash = rows.duplicated(["participant_id", SOURCE_FORMAT, "day"], keep=False)
    if not clash.any():
        return rows, quarantine_frame([])
    bad = rows[clash]
    keys = bad.groupby(["participant_id", SOURCE_FORMAT, "day"], sort=False)[KEY].transform(
        lambda k: ", ".join(sorted(k.astype(str))))
    rule = (f"two or more different {collection.name} documents for one day (" + keys
            + "), none restating another: none of them is used")
    return rows[~clash], _entries(bad, _key_field(bad, collection), rule)


def one_way_per_night(rows: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Rule 4: each participant's night from the highest-ranked way that delivered it."""
    rank = rows[SOURCE_FORMAT].map(WAY_RANK)
    best = rank.groupby([rows["participant_id"], rows["day"]]).transform("min")
    lower = rank > best
    return rows[~lower], int(lower.sum())


def choose_copies(rows: pd.DataFrame, collection: Collection) -> tuple[pd.DataFrame, pd.DataFrame, int, int]:
    """Valid records of one collection -> (records used, conflict entries, records quarantined by a
    conflict, copies superseded)."""
    rows, in_file, superseded = in_file_duplicates(rows, collection)
    rows, later = later_statement_wins(rows)
    rows, same_day = daily_conflicts(rows, collection)
    rows, lower_way = one_way_per_night(rows)
    entries = pd.concat([in_file, same_day], ignore_index=True)
    return rows, quarantine_frame(entries), len(entries), superseded + later + lower_way
