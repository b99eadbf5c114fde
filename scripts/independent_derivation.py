"""Derive every ``aval`` and ``base`` straight from the raw files by another route, and compare.

Usage: ``python scripts/independent_derivation.py DATA_ROOT``

A second implementation of the rules of DATA_CONTRACT.md, INSTRUMENTS.md and the SAP, written in
DuckDB SQL over the raw CSV and JSON files (not the pipeline's tables or functions; only the outcome
registry is shared: each daily outcome's ``raw`` field says which Oura collection and field, or which
diary column, it reads). The Oura files, in any of their three ways, are read by ``independent_oura.py``.
Files of one kind are taken in natural name order (``export_10`` after ``export_2``); a REDCap
export's first column is its record id whatever its name, repeat-instance rows are never an event's
row, LSEQ may be written with a decimal comma, and a bad item is dropped alone. It then compares with
``analysis_dataset`` in ``DATA_ROOT/warehouse.duckdb``: prints the number of values compared and the
largest absolute difference, and exits 1 when a value differs by more than 1e-9, when one side is
missing where the other is not, or when the rows differ.
"""
from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from independent_oura import COLLECTIONS as OURA_COLLECTIONS, load_oura  # noqa: E402
from mglt_pipeline.registry import OUTCOMES, DiaryField, OuraField  # noqa: E402

TOLERANCE = 1e-9
DIARY_RATINGS = ("energy", "productivity", "mood", "mental_alertness", "grouchiness", "sleep_quality")

# Scales of INSTRUMENTS.md: (scale, instrument, items, reversed items, reverse from, min answered, rule)
SCALES = [
    ("isi_total", "isi", range(1, 8), (), None, 6, "prorated_sum"),
    ("lseq_gts", "lseq", range(1, 4), (), None, 2, "mean"),
    ("lseq_qos", "lseq", range(4, 6), (), None, 2, "mean"),
    ("lseq_afs", "lseq", range(6, 8), (), None, 2, "mean"),
    ("lseq_bfw", "lseq", range(8, 11), (), None, 2, "mean"),
    ("rsq_total", "rsq", range(1, 10), (7, 8, 9), 6, 5, "rsq"),
    ("poms_ta", "poms", (2, 10, 16, 20, 22, 26, 27, 34, 41), (22,), 4, 8, "prorated_sum"),
    ("poms_dd", "poms", (5, 9, 14, 18, 21, 23, 32, 35, 36, 44, 45, 48, 58, 61, 62), (), 4, 12, "prorated_sum"),
    ("poms_ah", "poms", (3, 12, 17, 24, 31, 33, 39, 42, 47, 52, 53, 57), (), 4, 10, "prorated_sum"),
    ("poms_va", "poms", (7, 15, 19, 38, 51, 56, 60, 63), (), 4, 7, "prorated_sum"),
    ("poms_fi", "poms", (4, 11, 29, 40, 46, 49, 65), (), 4, 6, "prorated_sum"),
    ("poms_cb", "poms", (8, 28, 37, 50, 54, 59, 64), (54,), 4, 6, "prorated_sum"),
]
ITEM_RANGES = {"isi": (0, 4), "lseq": (0, 100), "rsq": (1, 5), "poms": (0, 4)}
EVENTS = {"baseline_arm_1": "baseline", "day_7_arm_1": "week_1", "day_14_arm_1": "week_2", "day_21_arm_1": "week_3"}


DIARY_COLUMNS = ("participant_id", "date", *DIARY_RATINGS, "took_supplement", "adverse_event")
REDCAP_COLUMNS = ("redcap_event_name",)


def _natural(path: Path) -> tuple:
    return tuple((0, int(p), p) if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", path.name) if p), path.name


def raw_files(folder: Path, pattern: str, required: tuple[str, ...] = ()) -> list[str]:
    """Files of one kind in natural name order, skipping those still being written (leading ``.``,
    ``.tmp``, ``.part``) and CSV files whose header lacks a required column (the whole file is
    quarantined)."""
    files = sorted((p for p in folder.glob(pattern)
                    if not p.name.startswith(".") and not p.name.endswith((".tmp", ".part"))), key=_natural)
    return [str(p) for p in files if set(required) <= set(_header(p))] if required else [str(p) for p in files]


def _header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return [c.strip() for c in next(csv.reader(handle), [])]


def _sql_list(values) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


def load_people(con, raw: Path) -> None:
    con.execute(f"""
        CREATE TABLE people AS
        SELECT participant_id, TRY_CAST(first_dose_on AS DATE) AS first_dose_on, status
        FROM read_csv('{raw / 'participants.csv'}', all_varchar = true, header = true)
        WHERE regexp_full_match(participant_id, '[A-Za-z0-9_-]{{1,32}}')""")
    con.execute(f"""
        CREATE TABLE randomized AS
        SELECT DISTINCT participant_id FROM read_csv('{raw / 'randomization.csv'}', all_varchar = true, header = true)
        WHERE arm_code IN ('A', 'B') AND participant_id IN (SELECT participant_id FROM people)""")


def oura_columns() -> dict[str, list[str]]:
    """Collection -> the fields the registry's Oura outcomes read (and the sleep total, which decides
    the main sleep)."""
    fields = [o.raw for o in OUTCOMES if isinstance(o.raw, OuraField)]
    return {c: sorted({f.column for f in fields if f.collection == c} | ({"total_sleep_duration"} if c == "sleep" else set()))
            for c in OURA_COLLECTIONS}


def _file_rank(files: list[str]) -> str:
    """``(file, rank)`` rows: the natural-order place of each file (a later file supersedes)."""
    return ", ".join(f"('{f}', {rank})" for rank, f in enumerate(files)) or "(NULL, 0)"


def load_diary(con, raw: Path) -> None:
    files = raw_files(raw / "diary", "*.csv", DIARY_COLUMNS)
    checks = " AND ".join(f"coalesce(TRY_CAST({c} AS DOUBLE) BETWEEN 0 AND 10, {c} IS NULL)" for c in DIARY_RATINGS)
    con.execute(f"""
        CREATE TABLE diary AS
        SELECT * EXCLUDE (rn, file_rank) FROM (
            SELECT d.*, TRY_CAST(date AS DATE) AS day, r.file_rank,
                   row_number() OVER (PARTITION BY participant_id, TRY_CAST(date AS DATE) ORDER BY r.file_rank DESC) AS rn
            FROM read_csv({_sql_list(files)}, all_varchar = true, union_by_name = true, filename = true, header = true) d
            JOIN (VALUES {_file_rank(files)}) r(file, file_rank) ON d.filename = r.file
            WHERE participant_id IN (SELECT participant_id FROM people) AND TRY_CAST(date AS DATE) IS NOT NULL
              AND coalesce(took_supplement IN ('yes', 'no'), true) AND {checks}) WHERE rn = 1""")


def daily_windows(con) -> None:
    """Window means of valid days (>= 3, SAP) of every daily outcome, from the raw records."""
    selects = []
    for o in OUTCOMES:
        if isinstance(o.raw, OuraField):
            table = "main_sleep" if o.raw.collection == "sleep" else f"(SELECT * FROM oura WHERE collection = '{o.raw.collection}')"
            value = f"{o.raw.column} / {o.raw.divide_by!r}"
            selects.append(f"SELECT participant_id, day, '{o.id}' AS outcome, {value} AS value FROM {table}")
        elif isinstance(o.raw, DiaryField):
            selects.append(f"SELECT participant_id, day, '{o.id}' AS outcome, TRY_CAST({o.raw.field} AS DOUBLE) FROM diary")
    con.execute(f"""
        CREATE TABLE windows AS
        WITH daily AS ({' UNION ALL '.join(selects)}),
        dated AS (
            SELECT d.*, CASE WHEN d.day >= p.first_dose_on THEN date_diff('day', p.first_dose_on, d.day) + 1
                             ELSE date_diff('day', p.first_dose_on, d.day) END AS study_day
            FROM daily d JOIN people p USING (participant_id) WHERE p.first_dose_on IS NOT NULL),
        visits AS (
            SELECT *, CASE WHEN study_day BETWEEN -7 AND -1 THEN 'baseline' WHEN study_day BETWEEN 1 AND 7 THEN 'week_1'
                           WHEN study_day BETWEEN 8 AND 14 THEN 'week_2' WHEN study_day BETWEEN 15 AND 21 THEN 'week_3'
                      END AS visit FROM dated)
        SELECT participant_id, outcome, visit, CASE WHEN count(value) >= 3 THEN avg(value) END AS value
        FROM visits WHERE visit IS NOT NULL GROUP BY ALL""")


def questionnaire_scores(con, raw: Path) -> None:
    """Scores of INSTRUMENTS.md per participant and event, from the REDCap exports."""
    files = raw_files(raw / "redcap", "*.csv", REDCAP_COLUMNS)
    key_rows = [f"('{s}', '{ins}', {k}, {rev if k in reversed_ else 'NULL'}, {len(items)}, {need}, '{rule}')"
                for s, ins, items, reversed_, rev, need, rule in SCALES for k in items]
    item_ok = " AND ".join(
        f"(NOT starts_with(item, '{ins}_') OR coalesce(TRY_CAST(raw AS DOUBLE) BETWEEN {lo} AND {hi}"
        + ("" if ins == "lseq" else " AND TRY_CAST(raw AS DOUBLE) = round(TRY_CAST(raw AS DOUBLE))") + ", false))"
        for ins, (lo, hi) in ITEM_RANGES.items())
    # the first column is the record id whatever its name; a repeat instance row is not the event's row
    headers = {f: _header(Path(f)) for f in files}
    repeats = any("redcap_repeat_instrument" in h for h in headers.values())
    selects = " UNION ALL BY NAME ".join(
        f"""SELECT "{h[0]}" AS record_id, * EXCLUDE ("{h[0]}") FROM read_csv('{f}', all_varchar = true, filename = true,
                                                                        header = true)""" for f, h in headers.items())
    events = ", ".join(f"('{e}', '{v}')" for e, v in EVENTS.items())
    con.execute(f"""
        CREATE TABLE redcap_rows AS
        SELECT * FROM ({selects or "SELECT NULL AS record_id, NULL AS redcap_event_name, NULL AS filename WHERE false"})
        WHERE record_id IN (SELECT participant_id FROM people)
          AND redcap_event_name IN (SELECT unnest({_sql_list(EVENTS)}))
          {"AND coalesce(redcap_repeat_instrument, '') = ''" if repeats else ""}""")
    con.execute(f"""
        CREATE TABLE answers AS
        WITH all_answers AS (
            SELECT record_id AS participant_id, redcap_event_name, filename, item,
                   CASE WHEN starts_with(item, 'lseq_') THEN replace(trim(raw), ',', '.') ELSE trim(raw) END AS raw
            FROM (UNPIVOT redcap_rows ON COLUMNS('^(isi|lseq|rsq|poms)_[0-9]+$') INTO NAME item VALUE raw)
            WHERE trim(raw) <> ''),
        kept AS (
            SELECT participant_id, redcap_event_name, filename FROM (
                SELECT r.record_id AS participant_id, r.redcap_event_name, r.filename,
                       row_number() OVER (PARTITION BY r.record_id, r.redcap_event_name ORDER BY f.file_rank DESC) AS rn
                FROM redcap_rows r JOIN (VALUES {_file_rank(files)}) f(file, file_rank) ON r.filename = f.file)
            WHERE rn = 1)
        SELECT a.* FROM all_answers a JOIN kept USING (participant_id, redcap_event_name, filename)
        WHERE {item_ok}""")
    con.execute(f"""
        CREATE TABLE scores AS
        WITH scale_key(scale, instrument, item_num, reverse_from, n_items, min_answered, rule) AS (VALUES {', '.join(key_rows)}),
        scored AS (
            SELECT a.participant_id, a.redcap_event_name, k.scale, k.n_items, k.min_answered, k.rule,
                   CASE WHEN k.reverse_from IS NULL THEN CAST(a.raw AS DOUBLE)
                        ELSE k.reverse_from - CAST(a.raw AS DOUBLE) END AS x
            FROM answers a JOIN scale_key k ON a.item = k.instrument || '_' || k.item_num),
        per_scale AS (
            SELECT participant_id, redcap_event_name, scale,
                   CASE WHEN count(x) < any_value(min_answered) THEN NULL
                        WHEN any_value(rule) = 'mean' THEN avg(x)
                        WHEN any_value(rule) = 'rsq' THEN (avg(x) - 1) * 25
                        ELSE avg(x) * any_value(n_items) END AS value
            FROM scored GROUP BY ALL),
        tmd AS (
            SELECT participant_id, redcap_event_name, 'poms_tmd' AS scale,
                   sum(CASE WHEN scale = 'poms_va' THEN -value ELSE value END) AS value
            FROM per_scale WHERE scale IN ('poms_ta', 'poms_dd', 'poms_ah', 'poms_fi', 'poms_cb', 'poms_va')
            GROUP BY ALL HAVING count(value) = 6)
        SELECT s.participant_id, s.scale AS outcome, e.visit, s.value
        FROM (SELECT * FROM per_scale UNION ALL SELECT * FROM tmd) s
        JOIN (VALUES {events}) e(event, visit) ON s.redcap_event_name = e.event""")


def derive(raw: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory database whose table ``derived`` holds aval and base of every analysis row."""
    con = duckdb.connect()
    load_people(con, raw)
    load_oura(con, raw, oura_columns())
    load_diary(con, raw)
    daily_windows(con)
    questionnaire_scores(con, raw)
    outcomes = ", ".join(f"('{o.id}')" for o in OUTCOMES)
    con.execute(f"""
        CREATE TABLE derived AS
        WITH values_ AS (SELECT * FROM windows UNION ALL SELECT * FROM scores),
        grid AS (SELECT r.participant_id, o.outcome, v.visit FROM randomized r
                 CROSS JOIN (VALUES {outcomes}) o(outcome) CROSS JOIN (VALUES ('week_1'), ('week_2'), ('week_3')) v(visit))
        SELECT g.*, a.value AS aval, b.value AS base FROM grid g
        LEFT JOIN values_ a ON a.participant_id = g.participant_id AND a.outcome = g.outcome AND a.visit = g.visit
        LEFT JOIN values_ b ON b.participant_id = g.participant_id AND b.outcome = g.outcome AND b.visit = 'baseline'""")
    return con


def compare(con, warehouse: Path) -> dict:
    """Values compared, largest absolute difference, missingness and row mismatches."""
    con.execute(f"ATTACH '{warehouse}' AS wh (READ_ONLY)")
    con.execute("""
        CREATE TABLE joined AS
        SELECT coalesce(d.participant_id, p.participant_id) AS participant_id, coalesce(d.outcome, p.outcome) AS outcome,
               coalesce(d.visit, p.visit) AS visit, d.aval AS aval_independent, p.aval AS aval_pipeline,
               d.base AS base_independent, p.base AS base_pipeline, d.participant_id IS NULL AS only_pipeline,
               p.participant_id IS NULL AS only_independent
        FROM derived d FULL JOIN wh.main.analysis_dataset p
          ON d.participant_id = p.participant_id AND d.outcome = p.outcome AND d.visit = p.visit""")
    row = con.execute("""
        SELECT count(*) FILTER (WHERE only_pipeline OR only_independent),
               count(aval_pipeline) + count(base_pipeline),
               max(greatest(coalesce(abs(aval_independent - aval_pipeline), 0), coalesce(abs(base_independent - base_pipeline), 0))),
               count(*) FILTER (WHERE NOT only_pipeline AND NOT only_independent AND
                   ((aval_independent IS NULL) <> (aval_pipeline IS NULL) OR (base_independent IS NULL) <> (base_pipeline IS NULL)))
        FROM joined""").fetchone()
    return {"rows_unmatched": row[0], "values_compared": row[1], "max_abs_difference": row[2] or 0.0,
            "missing_mismatches": row[3]}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    root = Path(args[0]).resolve()
    if not (root / "warehouse.duckdb").exists():
        print(f"error: no warehouse.duckdb under {root}: materialize the pipeline first", file=sys.stderr)
        return 2
    con = derive(root / "raw")
    result = compare(con, root / "warehouse.duckdb")
    print(f"values compared (aval and base): {result['values_compared']}")
    print(f"largest absolute difference: {result['max_abs_difference']:.3g}")
    print(f"missing on one side only: {result['missing_mismatches']}; rows on one side only: {result['rows_unmatched']}")
    if result["missing_mismatches"]:
        sample = con.execute("""SELECT * FROM joined WHERE (aval_independent IS NULL) <> (aval_pipeline IS NULL)
                                OR (base_independent IS NULL) <> (base_pipeline IS NULL) LIMIT 10""").df()
        print(sample.to_string(index=False))
    ok = result["max_abs_difference"] <= TOLERANCE and not result["missing_mismatches"] and not result["rows_unmatched"]
    print("OK" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
