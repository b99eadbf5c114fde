"""The Oura part of ``independent_derivation.py``: every Oura record from the raw files, by a second route.

Files are found in Python by this script's own reading of DATA_CONTRACT.md "Oura ring" (API responses
``<collection>[_<n>].json``; the account export ``oura_<type>_<stamp>.json`` and its ``.csv`` twin,
read only without a JSON twin; Trends CSVs, recognised by their header and matched by meaning); every
record, rule and choice is DuckDB SQL. Nothing comes from the pipeline's readers: only the registry's
statement of which field each outcome reads (``OuraField``) is shared.

Rules: the folder is a participant of participants.csv; ``day`` is a date; a sleep period has a
known ``type`` or none, a total of 0..86,400 s, lasts 0..24 h and obeys the day rule (local date of
``bedtime_end``, +1 from 18:00); any other value out of its range is missing (scores 1..100, heart
rates 25..220, seconds 0..86,400, efficiency 0..100, counts and HRV not negative, finite numbers only;
``lowest_heart_rate`` 255 is no data). Within one way the later statement wins (``meta.updated_at``,
then the later file in natural name order); different copies of one key in one file, and different
daily documents of one day in one way, are all dropped (copies compared on the values read here); a
night comes from the API, else the export, else the Trends CSV.
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

COLLECTIONS = ("daily_sleep", "sleep", "daily_activity", "daily_readiness")
SLEEP_TYPES = ("long_sleep", "sleep", "late_nap", "rest", "deleted")
TEXT = ("id", "day", "type", "bedtime_start", "bedtime_end")
ISO_TIME = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)"
_PARTICIPANT = re.compile(r"[A-Za-z0-9_-]{1,32}")
_EXPORT = re.compile(r"oura_([a-z0-9-]+)_\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.(json|csv)", re.IGNORECASE)
_API = re.compile(r"(daily_sleep|sleep|daily_activity|daily_readiness)(_\d+)?\.json", re.IGNORECASE)
# The Trends CSV: record field -> the header names Oura used for it (lower case, '_' as a space).
TRENDS = {
    "daily_sleep": {"score": ["sleep score"], "contributors_deep_sleep": ["deep sleep score"],
                    "contributors_rem_sleep": ["rem sleep score"]},
    "sleep": {"total_sleep_duration": ["total sleep duration", "total sleep time"],
              "deep_sleep_duration": ["deep sleep duration", "deep sleep time"],
              "rem_sleep_duration": ["rem sleep duration", "rem sleep time"],
              "light_sleep_duration": ["light sleep duration", "light sleep time"],
              "efficiency": ["sleep efficiency"], "latency": ["sleep latency"],
              "lowest_heart_rate": ["lowest resting heart rate"], "average_hrv": ["average hrv"],
              "bedtime_start": ["bedtime start"], "bedtime_end": ["bedtime end"]},
    "daily_activity": {"score": ["activity score"], "steps": ["steps"],
                       "equivalent_walking_distance": ["daily movement", "equivalent walking distance"]},
    "daily_readiness": {"score": ["readiness score"], "contributors_activity_balance": ["activity balance score"],
                        "contributors_sleep_balance": ["sleep balance score"],
                        "contributors_hrv_balance": ["hrv balance score"]},
}
RANGES = [("score", 1, 100), ("contributors_", 1, 100), ("_duration", 0, 86400), ("latency", 0, 86400),
          ("efficiency", 0, 100), ("heart_rate", 25, 220), ("average_hrv", 0, None), ("steps", 0, None),
          ("equivalent_walking_distance", 0, None)]


def _natural(name: str) -> tuple:
    return tuple((0, int(p), p) if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", name) if p), name


def _header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return [re.sub(r"\s+", " ", c.replace("_", " ")).strip().lower() for c in next(csv.reader(handle), [])]


def discover(oura: Path) -> list[tuple[str, str, str, int, Path]]:
    """(participant, collection ('*' for a Trends file), way, rank in natural order, file) of every file read."""
    found = []
    for folder in sorted(p for p in oura.iterdir() if p.is_dir()) if oura.is_dir() else []:
        if not _PARTICIPANT.fullmatch(folder.name):
            continue
        files = sorted((p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")
                        and not p.name.lower().endswith((".tmp", ".part"))), key=lambda p: _natural(p.name))
        exported = {m.group(1).lower() for p in files if (m := _EXPORT.fullmatch(p.name)) and m.group(2).lower() == "json"}
        for rank, path in enumerate(files):
            api, export = _API.fullmatch(path.name), _EXPORT.fullmatch(path.name)
            if api:
                found.append((folder.name, api.group(1).lower(), "api", rank, path))
            elif export and export.group(1).lower().replace("-", "_") in COLLECTIONS:
                is_json = export.group(2).lower() == "json"
                if is_json or export.group(1).lower() not in exported:
                    way = "export_json" if is_json else "export_csv"
                    found.append((folder.name, export.group(1).lower().replace("-", "_"), way, rank, path))
            elif export is None and path.suffix.lower() == ".csv":
                header = _header(path)
                if header and header[0] == "date" and sum(n in header for f in TRENDS.values() for v in f.values() for n in v) >= 3:
                    found.append((folder.name, "*", "trends", rank, path))
    return found


def _number(column: str, text: str) -> str:
    """``text`` as a finite number in the column's range, else NULL."""
    value = f"TRY_CAST({text} AS DOUBLE)"
    checks = [f"isfinite({value})"]
    for part, low, high in RANGES:
        if part in column:
            checks += [f"{value} >= {low}"] + ([f"{value} <= {high}"] if high is not None else [])
            break
    if column == "lowest_heart_rate":
        checks.append(f"{value} <> 255")
    return f"CASE WHEN {' AND '.join(checks)} THEN {value} END AS {column}"


def _json_select(files: list[tuple[str, int, Path]], collection: str, way: str, columns: list[str]) -> str:
    """The records of many JSON files of one collection and way."""
    key = "data" if way == "api" else collection
    path = lambda c: "$." + c.replace("contributors_", "contributors.", 1)  # noqa: E731
    text = ", ".join(f"rec->>'$.{c}' AS {c}" for c in (*TEXT, "total_sleep_duration")).replace(
        "AS total_sleep_duration", "AS total_raw")
    values = ", ".join(_number(c, f"rec->>'{path(c)}'") for c in columns)
    owners = ", ".join(f"('{p}', '{pid}', {rank})" for pid, rank, p in files)
    return f"""
        SELECT '{collection}' AS collection, f.pid AS participant_id, '{way[:6]}' AS way, f.rank, r.filename,
               rec->>'$.meta.updated_at' AS updated_at, {text}, {values}
        FROM (SELECT filename, unnest(json_extract(content, '$.{key}[*]')) AS rec
              FROM read_text([{', '.join(f"'{p}'" for _, _, p in files)}]) WHERE json_valid(content)) r
        JOIN (VALUES {owners}) f(path, pid, rank) ON r.filename = f.path"""


def _csv_select(pid: str, rank: int, path: Path, collection: str, way: str, columns: list[str],
                positions: dict[str, int]) -> str:
    """The records of one CSV file (an export twin, or a Trends file for one collection)."""
    header = _header(path)
    cell = lambda c: f"c{positions[c]}" if c in positions else "NULL"  # noqa: E731
    text = {c: cell(c) for c in TEXT} | {"total_raw": cell("total_sleep_duration")}
    if way == "trends":
        text["day"], text["type"] = "c0", "'long_sleep'" if collection == "sleep" else "NULL"
    values = ", ".join(_number(c, cell(c)) for c in columns)
    present = [cell(c) for c in positions if c not in ("day",)] or ["NULL"]
    return f"""
        SELECT '{collection}' AS collection, '{pid}' AS participant_id, '{way[:6]}' AS way, {rank} AS rank,
               '{path}' AS filename, NULL AS updated_at, {', '.join(f'{v} AS {c}' for c, v in text.items())}, {values}
        FROM read_csv('{path}', header = false, skip = 1, all_varchar = true, quote = '"',
                      names = [{', '.join(f"'c{i}'" for i in range(len(header)))}])
        WHERE {' OR '.join(f"coalesce({c} NOT IN ('', 'None'), false)" for c in present)}"""


def record_selects(found, columns: dict[str, list[str]]) -> list[str]:
    """One SELECT per group of JSON files and per CSV file, every one with the same columns."""
    selects, json_groups = [], {}
    for pid, collection, way, rank, path in found:
        if way in ("api", "export_json"):
            json_groups.setdefault((collection, way), []).append((pid, rank, path))
        elif way == "export_csv":
            header = _header(path)
            wanted = [*TEXT, "total_sleep_duration", *columns[collection]]
            positions = {c: header.index(c.replace("_", " ")) for c in wanted if c.replace("_", " ") in header}
            selects.append(_csv_select(pid, rank, path, collection, way, columns[collection], positions))
        else:
            header = _header(path)
            for name, fields in TRENDS.items():
                positions = {c: next(header.index(n) for n in names if n in header)
                             for c, names in fields.items() if any(n in header for n in names)}
                if any(c in positions for c in fields if c not in ("bedtime_start", "bedtime_end")):
                    selects.append(_csv_select(pid, rank, path, name, way, columns[name], positions))
    for (collection, way), files in json_groups.items():
        selects.append(_json_select(files, collection, way, columns[collection]))
    return selects


def load_oura(con, raw: Path, columns: dict[str, list[str]]) -> None:
    """Table ``oura``: the records used, one per key and night; table ``main_sleep``: each night's main sleep."""
    all_columns = sorted({c for cs in columns.values() for c in cs})
    selects = record_selects(discover(raw / "oura"), columns)
    union = " UNION ALL BY NAME ".join(f"SELECT * FROM ({s})" for s in selects) or \
        "SELECT NULL AS collection WHERE false"
    local_end = "TRY_STRPTIME(substr(bedtime_end, 1, 19), '%Y-%m-%dT%H:%M:%S')"
    hours = "(epoch(TRY_CAST(bedtime_end AS TIMESTAMPTZ)) - epoch(TRY_CAST(bedtime_start AS TIMESTAMPTZ))) / 3600"
    con.execute(f"""
        CREATE TABLE oura AS
        WITH records AS (
            SELECT * REPLACE (CASE WHEN regexp_full_match(day, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') THEN TRY_CAST(day AS DATE) END AS day)
            FROM ({union})),
        valid AS (
            SELECT *, CASE way WHEN 'api' THEN 0 WHEN 'export' THEN 1 ELSE 2 END AS way_rank,
                   coalesce(id, CASE WHEN way = 'trends' OR collection <> 'sleep' THEN CAST(day AS VARCHAR)
                                     ELSE bedtime_start END) AS rkey,
                   md5(concat_ws('|', day, type, bedtime_start, bedtime_end, {', '.join(all_columns)})) AS content
            FROM records
            WHERE participant_id IN (SELECT participant_id FROM people) AND day IS NOT NULL
              AND (collection <> 'sleep' OR (
                   (type IS NULL OR type IN (SELECT unnest({list(SLEEP_TYPES)})))
                   AND (coalesce(total_raw, '') IN ('', 'None') OR total_sleep_duration IS NOT NULL)
                   AND (bedtime_start IS NULL OR regexp_full_match(bedtime_start, '{ISO_TIME}'))
                   AND (bedtime_end IS NULL OR regexp_full_match(bedtime_end, '{ISO_TIME}'))
                   AND coalesce({hours} BETWEEN 0 AND 24, true)
                   AND coalesce(day = CAST({local_end} AS DATE) + CAST(hour({local_end}) >= 18 AS INTEGER), true)))),
        no_clash AS (
            SELECT * FROM valid v WHERE NOT EXISTS (
                SELECT 1 FROM valid w WHERE w.participant_id = v.participant_id AND w.collection = v.collection
                  AND w.filename = v.filename AND w.rkey = v.rkey AND w.content <> v.content
                  AND w.updated_at IS NOT DISTINCT FROM v.updated_at)),
        latest AS (
            SELECT * EXCLUDE (rn) FROM (
                SELECT *, row_number() OVER (PARTITION BY participant_id, collection, way, rkey
                                             ORDER BY updated_at DESC NULLS LAST, rank DESC) AS rn FROM no_clash)
            WHERE rn = 1),
        one_daily AS (
            SELECT * FROM latest l WHERE collection = 'sleep' OR NOT EXISTS (
                SELECT 1 FROM latest m WHERE m.participant_id = l.participant_id AND m.collection = l.collection
                  AND m.way = l.way AND m.day = l.day AND m.rkey <> l.rkey))
        SELECT * FROM one_daily o
        WHERE way_rank = (SELECT min(way_rank) FROM one_daily p WHERE p.participant_id = o.participant_id
                          AND p.collection = o.collection AND p.day = o.day)""")
    con.execute("""
        CREATE TABLE main_sleep AS
        SELECT * EXCLUDE (rn) FROM (
            SELECT *, row_number() OVER (PARTITION BY participant_id, day
                ORDER BY total_sleep_duration DESC NULLS LAST, id NULLS LAST, bedtime_start) AS rn
            FROM oura WHERE collection = 'sleep' AND type = 'long_sleep') WHERE rn = 1""")
