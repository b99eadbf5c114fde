"""The Oura faults of the fault-injection table (issue 10 "Why", DATA_CONTRACT.md "Oura ring" and
"What bad input gets"): each changes one place of a clean API-pulled trial and says what must follow.

Every expected entry is written out here from what was planted (file, record id, participant, day,
field, value as read, the rule's sentence), never taken from the pipeline.
"""
from __future__ import annotations

import csv
import json
from datetime import date, timedelta
from pathlib import Path

from mglt_pipeline.registry import OUTCOMES, OuraField
from mglt_pipeline_tests.fault_injection import Fault, Planted, StartsWith, relative


def oura_outcomes(*collections: str) -> frozenset[str]:
    return frozenset(o.id for o in OUTCOMES if isinstance(o.raw, OuraField) and o.raw.collection in collections)


SLEEP, DAILY_SLEEP = oura_outcomes("sleep"), oura_outcomes("daily_sleep")
ACTIVITY, READINESS = oura_outcomes("daily_activity"), oura_outcomes("daily_readiness")
SCORE = "must be empty or a score from 1 to 100"
DAY_RULE = ("day must be Oura's day of bedtime_end (its local date, plus one day from 18:00 local): the period is "
            "inconsistent and is not used")
LENGTH_RULE = "bedtime_end must be 0 to 24 hours after bedtime_start: a sleep period lasts at most 24 hours"


def analysed(raw: Path) -> list[tuple[str, date]]:
    """(participant, first dose) of the participants who completed the trial, in id order."""
    with open(raw / "participants.csv", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["status"] == "completed" and r["first_dose_on"]]
    return [(r["participant_id"], date.fromisoformat(r["first_dose_on"])) for r in rows]


def pages(raw: Path, pid: str, collection: str) -> list[Path]:
    folder = raw / "oura" / pid
    return sorted((p for p in folder.glob(f"{collection}*.json") if p.stem.split("_")[-1].isdigit()
                   or p.stem == collection), key=lambda p: (len(p.stem), p.stem))


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def dump(path: Path, document: dict) -> None:
    path.write_text(json.dumps(document))


def record(raw: Path, collection: str, who: int = 0, test=lambda r: True):
    """(file, document, position, record, participant) of the first record of the ``who``-th analysed
    participant on Study Day 2..6 (inside the week-1 window) that passes ``test``."""
    pid, first = analysed(raw)[who]
    for study_day in range(2, 7):
        day = (first + timedelta(days=study_day - 1)).isoformat()
        for path in pages(raw, pid, collection):
            document = load(path)
            for position, r in enumerate(document["data"]):
                if r["day"] == day and test(r):
                    return path, document, position, r, pid
    raise LookupError(f"no {collection} record of {pid} in week 1")


def _main_sleep(r: dict) -> bool:
    return r["type"] == "long_sleep" and r["total_sleep_duration"] > 3 * 3600


def _entry(path, r, pid, field, value, rule, key=None) -> dict:
    return {"source": "oura", "file": relative(path), "row": r["id"], "line": None, "participant_id": pid,
            "key": key or r["day"], "field": field, "value": value, "rule": rule}


def set_value(collection: str, field: str, value, text: str, rule: str, touches, who: int = 0,
              test=lambda r: True, record_goes: bool = False):
    """One field of one record: a bad value rejects the field (or the record, ``record_goes``)."""
    def plant(raw: Path) -> Planted:
        path, document, position, r, pid = record(raw, collection, who, test=test)
        r = dict(r)
        target = r.setdefault("contributors", {}) if field.startswith("contributors.") else r
        target[field.removeprefix("contributors.")] = value
        document["data"][position] = r
        dump(path, document)
        name = field.replace(".", "_")
        return Planted([_entry(path, r, pid, name, text, f"{name} {rule}",
                               key=text if field == "day" else None)], touches=touches, must_change=True)
    return plant


def _raw_tokens(path: Path, replacements: dict[str, str]) -> None:
    """Write JSON tokens Python's ``json`` would refuse to emit as given (``NaN`` after a key)."""
    text = path.read_text()
    for placeholder, token in replacements.items():
        text = text.replace(f'"{placeholder}"', token)
    path.write_text(text)


def infinity_score(raw: Path) -> Planted:
    planted = set_value("daily_sleep", "score", "INFINITY_TOKEN", "Infinity", SCORE, DAILY_SLEEP)(raw)
    _raw_tokens(raw / planted.quarantine[0]["file"].removeprefix("raw/"), {"INFINITY_TOKEN": "Infinity"})
    return planted


def nan_hrv(raw: Path) -> Planted:
    planted = set_value("sleep", "average_hrv", "NAN_TOKEN", "NaN", "must be empty or a number of ms, not negative",
                        SLEEP, who=1, test=_main_sleep)(raw)
    _raw_tokens(raw / planted.quarantine[0]["file"].removeprefix("raw/"), {"NAN_TOKEN": "NaN"})
    return planted


def thirty_hour_period(raw: Path) -> Planted:
    path, document, position, r, pid = record(raw, "sleep", 2, test=_main_sleep)
    end = r["bedtime_end"]  # a start two days earlier at 01:00: more than 24 hours before the end
    r = {**r, "bedtime_start": (date.fromisoformat(end[:10]) - timedelta(days=2)).isoformat() + "T01:00:00" + end[19:]}
    document["data"][position] = r
    dump(path, document)
    return Planted([_entry(path, r, pid, "bedtime_end", end, LENGTH_RULE)], touches=SLEEP, must_change=True)


def day_rule_broken(raw: Path) -> Planted:
    path, document, position, r, pid = record(raw, "sleep", 3, test=_main_sleep)
    wrong = (date.fromisoformat(r["day"]) - timedelta(days=1)).isoformat()
    document["data"][position] = {**r, "day": wrong}
    dump(path, document)
    return Planted([_entry(path, r, pid, "day", wrong, DAY_RULE, key=wrong)], touches=SLEEP, must_change=True)


def dangling_next_token(raw: Path) -> Planted:
    pid, _ = analysed(raw)[0]
    last = pages(raw, pid, "daily_activity")[-1]
    document = load(last)
    document["next_token"] = "eyJuZXh0IjogMn0="
    dump(last, document)
    return Planted([{"source": "oura", "file": relative(last), "participant_id": pid,
                     "rule": StartsWith("collection incomplete: the last page of daily_activity has a next_token")}])


def later_page_in_natural_order(raw: Path) -> Planted:
    path, _, _, r, pid = record(raw, "sleep", 4, test=_main_sleep)
    folder = path.parent
    for name, deep in (("sleep_3.json", r["deep_sleep_duration"] + 600), ("sleep_10.json", r["deep_sleep_duration"] + 1200)):
        dump(folder / name, {"data": [{**r, "deep_sleep_duration": deep}], "next_token": None})

    def sleep_10_wins(run) -> None:
        periods = run.ingested["oura_sleep_periods"].clean.set_index("id")
        assert periods.loc[r["id"], "deep_sleep_duration"] == r["deep_sleep_duration"] + 1200
    return Planted(touches=SLEEP, checks=[sleep_10_wins], must_change=True)


def restated_record(raw: Path) -> Planted:
    path, document, position, r, pid = record(raw, "daily_readiness", 0)
    document["data"][position] = {**r, "score": 44, "meta": {"updated_at": "2025-06-02T08:00:00+00:00"}}
    dump(path, document)
    dump(path.parent / "daily_readiness_9.json",
         {"data": [{**r, "score": 77, "meta": {"updated_at": "2025-05-01T08:00:00+00:00"}}], "next_token": None})

    def the_restatement_wins(run) -> None:
        readiness = run.ingested["oura_daily_readiness"].clean.set_index("id")
        assert readiness.loc[r["id"], "score"] == 44
    return Planted(touches=READINESS, checks=[the_restatement_wins], must_change=True)


def copies_that_differ_in_one_file(raw: Path) -> Planted:
    path, document, position, r, pid = record(raw, "daily_readiness", 1)
    copy = {**r, "score": 12 if r["score"] != 12 else 13}
    document["data"].insert(position + 1, copy)
    dump(path, document)
    rule = ("conflict: row {0} of the same file has the same participant_id and key with a different score; all "
            "are quarantined and the value stays missing until the conflict is resolved")
    return Planted([_entry(path, r, pid, "score", str(r["score"]), rule.format(r["id"])),
                    _entry(path, copy, pid, "score", str(copy["score"]), rule.format(r["id"]))],
                   touches=READINESS, must_change=True)


def two_documents_one_day(raw: Path) -> Planted:
    path, document, position, r, pid = record(raw, "daily_activity", 2)
    other = {**r, "id": "ffffffff-0000-4000-8000-000000000001", "steps": r["steps"] + 5000}
    document["data"].append(other)
    dump(path, document)
    ids = ", ".join(sorted([r["id"], other["id"]]))
    rule = (f"conflict: two or more different daily_activity documents for one day ({ids}), none restating "
            "another; all are quarantined and the day's value stays missing")
    return Planted([_entry(path, r, pid, "id", r["id"], rule), _entry(path, other, pid, "id", other["id"], rule)],
                   touches=ACTIVITY, must_change=True)


def unparseable_page(raw: Path) -> Planted:
    pid, _ = analysed(raw)[1]
    path = raw / "oura" / pid / "daily_sleep_9.json"
    path.write_text('{"data": [{"id": "cut", "day": "2025-03-0')
    return Planted([{"source": "oura", "file": relative(path), "participant_id": pid,
                     "rule": StartsWith("daily_sleep_9.json cannot be read as an Oura api JSON file")}])


def not_a_collection_response(raw: Path) -> Planted:
    pid, _ = analysed(raw)[2]
    path = raw / "oura" / pid / "sleep_7.json"
    path.write_text('{"records": []}')
    return Planted([{"source": "oura", "file": relative(path), "participant_id": pid,
                     "rule": StartsWith("sleep_7.json cannot be read as an Oura api JSON file (it is not an Oura API")}])


def unknown_participant_folder(raw: Path) -> Planted:
    _, _, _, r, _ = record(raw, "daily_sleep", 0)
    path = raw / "oura" / "P999" / "daily_sleep.json"
    path.parent.mkdir()
    dump(path, {"data": [r], "next_token": None})
    return Planted([_entry(path, r, "P999", "participant_id", "P999",
                           "participant_id must be a participant listed in participants.csv")])


def folders_and_files_not_read(raw: Path) -> Planted:
    pid, _ = analysed(raw)[3]
    oura = raw / "oura"
    (oura / "..P013").mkdir()
    (oura / pid / "personal_info.json").write_text('{"email": "never read"')
    (oura / pid / "notes.txt").write_text("ring sized 9\n")
    dump(oura / pid / "sleep_time.json", {"data": [{"id": "t1", "day": "2025-03-01"}], "next_token": "more"})
    (oura / pid / "daily_readiness.json").rename(oura / pid / "daily_readiness.JSON")
    folder = f"raw/oura/{pid}"
    return Planted(set_aside=[
        {"source": "oura", "file": "raw/oura/..P013", "reason": StartsWith("the folder name is not a valid participant_id")},
        {"source": "oura", "file": f"{folder}/personal_info.json", "participant_id": pid,
         "reason": "personal information (e-mail, age, weight, height): never opened"},
        {"source": "oura", "file": f"{folder}/notes.txt", "participant_id": pid,
         "reason": StartsWith("not an Oura file the pipeline knows")},
        {"source": "oura", "file": f"{folder}/sleep_time.json", "participant_id": pid,
         "reason": "sleep_time: an Oura collection the analysis does not use (1 records read and set aside)"}])


def other_ways_of_api_nights(raw: Path) -> Planted:
    """An account export and a Trends CSV of nights the API delivered: the API's copies are used."""
    path, document, _, r, pid = record(raw, "daily_sleep", 4)
    folder = path.parent
    exported = [{k: v for k, v in d.items() if k not in ("id", "timestamp")} | {"score": 11} for d in document["data"]]
    (folder / "oura_daily-sleep_2025-05-01T10-00-00.json").write_text(json.dumps({"daily_sleep": exported}, indent=2))
    days = [d["day"] for d in document["data"]]
    (folder / "oura_trends.csv").write_text("date,Sleep Score,Deep Sleep Score,REM Sleep Score\n"
                                            + "".join(f"{d},12,13,14\n" for d in days))

    def api_wins(run) -> None:
        daily = run.ingested["oura_daily_sleep"]
        assert 11 not in set(daily.clean["score"]) and 12 not in set(daily.clean["score"])
        assert daily.rows_superseded == 2 * len(days)
    return Planted(checks=[api_wins])


OURA_FAULTS = [
    Fault("oura_infinity_score", infinity_score),
    Fault("oura_boolean_score", set_value("daily_readiness", "score", True, "true", SCORE, READINESS, who=1)),
    Fault("oura_nan_hrv", nan_hrv),
    Fault("oura_thirty_hour_period", thirty_hour_period),
    Fault("oura_day_rule_broken", day_rule_broken),
    Fault("oura_duration_beyond_a_day", set_value("sleep", "deep_sleep_duration", 90000, "90000",
                                                  "must be empty or a number of seconds from 0 to 86,400",
                                                  SLEEP, who=2, test=_main_sleep)),
    Fault("oura_impossible_heart_rate", set_value("sleep", "lowest_heart_rate", 300, "300",
                                                  "must be empty or a heart rate from 25 to 220 bpm", SLEEP, who=3,
                                                  test=_main_sleep)),
    Fault("oura_unknown_type", set_value("sleep", "type", "nap", "nap",
                                         "must be empty or one of long_sleep, sleep, late_nap, rest, deleted", SLEEP,
                                         who=0, test=_main_sleep)),
    Fault("oura_impossible_day", set_value("daily_activity", "day", "2025-02-30", "2025-02-30",
                                           "is required: a real date written YYYY-MM-DD", ACTIVITY, who=3)),
    Fault("oura_contributor_out_of_range", set_value("daily_sleep", "contributors.deep_sleep", 140, "140", SCORE,
                                                     DAILY_SLEEP, who=2)),
    Fault("oura_dangling_next_token", dangling_next_token),
    Fault("oura_later_page_in_natural_order", later_page_in_natural_order),
    Fault("oura_restated_record", restated_record),
    Fault("oura_copies_that_differ_in_one_file", copies_that_differ_in_one_file),
    Fault("oura_two_documents_one_day", two_documents_one_day),
    Fault("oura_unparseable_page", unparseable_page),
    Fault("oura_not_a_collection_response", not_a_collection_response),
    Fault("oura_unknown_participant_folder", unknown_participant_folder),
    Fault("oura_folders_and_files_not_read", folders_and_files_not_read),
    Fault("oura_other_ways_of_api_nights", other_ways_of_api_nights),
]
