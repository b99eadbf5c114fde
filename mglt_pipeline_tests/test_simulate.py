"""The simulator writes every raw file in the formats of DATA_CONTRACT.md (read back with plain
csv/json, not with the simulator's code) and is deterministic for a seed."""
from __future__ import annotations

import csv
import datetime as dt
import json
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from mglt_pipeline.simulate import simulate_trial

EVENTS = {"baseline_arm_1", "day_7_arm_1", "day_14_arm_1", "day_21_arm_1"}
DIARY_COLUMNS = ["participant_id", "date", "energy", "productivity", "mood", "mental_alertness",
                 "grouchiness", "sleep_quality", "took_supplement", "adverse_event"]
PARTICIPANT_COLUMNS = ["participant_id", "site", "age", "sex", "enrolled_on", "first_dose_on", "status",
                       "withdrawn_on", "timezone"]
COLLECTIONS = ("daily_sleep", "sleep", "daily_activity", "daily_readiness")


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.fixture(scope="module")
def trial(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("trial")
    simulate_trial(root, participants=40, seed=7)
    return root


@pytest.fixture(scope="module")
def participants(trial) -> dict[str, dict]:
    return {r["participant_id"]: r for r in read_csv(trial / "raw" / "participants.csv")}


@pytest.fixture(scope="module")
def oura(trial) -> dict[str, dict[str, list[dict]]]:
    """participant -> collection -> records, all pages; also checks the page structure."""
    out: dict[str, dict[str, list[dict]]] = {}
    for folder in sorted((trial / "raw" / "oura").iterdir()):
        out[folder.name] = {}
        for name in COLLECTIONS:
            pages = sorted(folder.glob(f"{name}*.json"))
            docs = [json.loads(p.read_text()) for p in pages]
            assert all(set(doc) == {"data", "next_token"} for doc in docs)
            assert docs[-1]["next_token"] is None
            assert all(isinstance(doc["next_token"], str) for doc in docs[:-1])
            out[folder.name][name] = [r for doc in docs for r in doc["data"]]
    return out


def study_day(first_dose: dt.date, day: dt.date) -> int:
    delta = (day - first_dose).days
    return delta + 1 if delta >= 0 else delta


def test_participants_follow_the_contract(participants):
    rows = list(participants.values())
    assert list(rows[0]) == PARTICIPANT_COLUMNS
    assert len(rows) == 40
    for r in rows:
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,32}", r["participant_id"])
        assert 35 <= int(r["age"]) <= 55 and r["sex"] in {"F", "M", "X"}
        assert r["status"] in {"completed", "withdrawn", "lost_to_follow_up"}
        assert (r["withdrawn_on"] == "") == (r["status"] == "completed")
        ZoneInfo(r["timezone"])
        assert date(r["enrolled_on"]) < date(r["withdrawn_on"] or "2100-01-01")
    assert sum(r["first_dose_on"] == "" for r in rows) == 1
    assert {r["status"] for r in rows} == {"completed", "withdrawn", "lost_to_follow_up"}
    assert len({r["timezone"] for r in rows}) >= 3


def test_randomization_is_one_to_one_and_unblinding_names_both_arms(trial, participants):
    rand = read_csv(trial / "raw" / "randomization.csv")
    assert [r["participant_id"] for r in rand] == list(participants)
    codes = [r["arm_code"] for r in rand]
    assert codes.count("A") == codes.count("B") == 20
    unblinding = read_csv(trial / "raw" / "unblinding.csv")
    assert sorted((r["arm_code"], r["arm"]) for r in unblinding) in (
        [("A", "MgT"), ("B", "placebo")], [("A", "placebo"), ("B", "MgT")])
    truth = json.loads((trial / "truth.json").read_text())
    assert {r["arm_code"]: r["arm"] for r in unblinding}[truth["active_arm_code"]] == "MgT"


def test_sleep_periods_obey_the_stage_identities_and_day_rule(oura, participants):
    types, offsets_seen, next_day_rule_used = set(), {}, False
    for pid, docs in oura.items():
        zone = ZoneInfo(participants[pid]["timezone"])
        for r in docs["sleep"]:
            types.add(r["type"])
            assert r["deep_sleep_duration"] + r["light_sleep_duration"] + r["rem_sleep_duration"] == r["total_sleep_duration"]
            assert r["total_sleep_duration"] + r["awake_time"] == r["time_in_bed"]
            exact = 100 * r["total_sleep_duration"] / r["time_in_bed"]
            assert r["efficiency"] == int(exact + 0.5)
            start, end = (dt.datetime.fromisoformat(r[k]) for k in ("bedtime_start", "bedtime_end"))
            assert (end - start).total_seconds() == r["time_in_bed"]
            for t in (start, end):
                assert t.utcoffset() == t.astimezone(zone).utcoffset()
            expected_day = end.date() + dt.timedelta(days=1 if end.hour >= 18 else 0)
            assert date(r["day"]) == expected_day
            next_day_rule_used |= end.hour >= 18
            offsets_seen.setdefault(pid, set()).add(end.utcoffset())
    assert {"long_sleep", "sleep", "late_nap", "rest"} <= types
    assert next_day_rule_used
    assert any(len(o) == 2 for o in offsets_seen.values()), "no participant crosses a DST change"


def test_oura_has_sentinels_missing_nights_and_two_long_sleeps(oura, participants):
    records = [r for docs in oura.values() for r in docs["sleep"]]
    assert any(r["lowest_heart_rate"] == 255 for r in records)
    assert all(r["lowest_heart_rate"] != 255 for r in records if r["type"] == "long_sleep")
    per_day: dict[tuple, int] = {}
    for pid, docs in oura.items():
        for r in docs["sleep"]:
            if r["type"] == "long_sleep":
                per_day[(pid, r["day"])] = per_day.get((pid, r["day"]), 0) + 1
    assert max(per_day.values()) == 2
    completed = [p for p, r in participants.items() if r["status"] == "completed"]
    nights = sum(len({r["day"] for r in oura[p]["daily_sleep"]}) for p in completed)
    assert nights < 28 * len(completed)


def test_oura_daily_documents_have_scores_in_range_and_extra_fields(oura):
    for docs in oura.values():
        for name in ("daily_sleep", "daily_activity", "daily_readiness"):
            days = [r["day"] for r in docs[name]]
            assert len(days) == len(set(days))
            for r in docs[name]:
                assert 1 <= r["score"] <= 100
                assert all(1 <= v <= 100 for v in r["contributors"].values())
        assert all(r["equivalent_walking_distance"] >= 0 for r in docs["daily_activity"])
        assert all(dt.datetime.fromisoformat(r["timestamp"]).hour == 4 for r in docs["daily_activity"])
    readiness = [r for docs in oura.values() for r in docs["daily_readiness"]]
    assert any("sleep_regularity" in r["contributors"] and "meta" in r for r in readiness)


def test_some_collections_are_split_over_two_pages(trial):
    second_pages = list((trial / "raw" / "oura").glob("*/sleep_2.json"))
    assert second_pages
    first = json.loads((second_pages[0].parent / "sleep.json").read_text())
    assert first["next_token"] and first["data"]


def test_redcap_exports_follow_the_contract(trial, participants):
    files = sorted((trial / "raw" / "redcap").glob("*.csv"))
    assert [f.name for f in files] == ["export_1.csv", "export_2.csv"]
    rows = [r for f in files for r in read_csv(f)]
    items = {"isi": (7, 0, 4), "lseq": (10, 0, 100), "rsq": (9, 1, 5), "poms": (65, 0, 4)}
    expected = {"record_id", "redcap_event_name"}
    for name, (k, _, _) in items.items():
        expected |= {f"{name}_{i}" for i in range(1, k + 1)} | {f"{name}_timestamp", f"{name}_complete"}
    assert set(rows[0]) == expected
    blanks = 0
    for r in rows:
        assert r["record_id"] in participants and r["redcap_event_name"] in EVENTS
        for name, (k, low, high) in items.items():
            assert r[f"{name}_complete"] in {"0", "1", "2"}
            stamp = r[f"{name}_timestamp"]
            assert stamp == "[not completed]" or re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", stamp)
            for i in range(1, k + 1):
                value = r[f"{name}_{i}"]
                blanks += value == ""
                if value and name != "lseq":
                    assert re.fullmatch(r"\d", value) and low <= int(value) <= high
                elif value:
                    assert low <= float(value) <= high
    assert blanks > 0
    keys_1 = {(r["record_id"], r["redcap_event_name"]) for r in read_csv(files[0])}
    keys_2 = {(r["record_id"], r["redcap_event_name"]) for r in read_csv(files[1])}
    assert keys_1 & keys_2, "the later export should re-export some rows"
    assert any("." in r["lseq_1"] and not r["lseq_1"].endswith(".0") for r in rows)


def test_redcap_stops_at_withdrawal(trial, participants):
    rows = [r for f in sorted((trial / "raw" / "redcap").glob("*.csv")) for r in read_csv(f)]
    for r in rows:
        stamp = r["isi_timestamp"]
        left = participants[r["record_id"]]["withdrawn_on"]
        if left and stamp != "[not completed]":
            assert date(stamp[:10]) <= date(left)


def test_diary_covers_day_minus_7_to_21_without_day_0(trial, participants):
    files = sorted((trial / "raw" / "diary").glob("*.csv"))
    rows = [r for f in files for r in read_csv(f)]
    assert list(rows[0]) == DIARY_COLUMNS
    answers, events, days = set(), 0, {}
    for r in rows:
        p = participants[r["participant_id"]]
        planned = date(p["enrolled_on"]) + dt.timedelta(days=8)
        first = date(p["first_dose_on"]) if p["first_dose_on"] else planned
        day = study_day(first, date(r["date"]))
        assert -7 <= day <= 21
        if p["withdrawn_on"]:
            assert date(r["date"]) <= date(p["withdrawn_on"])
        assert all(0 <= float(r[c]) <= 10 for c in DIARY_COLUMNS[2:8])
        assert r["took_supplement"] in ({""} if day < 1 else {"yes", "no"})
        answers.add(r["took_supplement"])
        events += r["adverse_event"] != ""
        days.setdefault(r["participant_id"], set()).add(r["date"])
    assert answers == {"", "yes", "no"} and events > 0
    completed = [p for p, r in participants.items() if r["status"] == "completed"]
    assert sum(len(days[p]) for p in completed) < 28 * len(completed), "no day is missing"
    assert max(len(d) for d in days.values()) == 28


def test_no_direct_identifiers_anywhere(trial):
    header_words = set()
    for path in (trial / "raw").rglob("*.csv"):
        header_words |= set(path.read_text().splitlines()[0].lower().split(","))
    assert not {w for w in header_words if re.search(r"name$|mail|phone|birth|dob", w)} - {"redcap_event_name"}
    assert "@" not in (trial / "raw" / "participants.csv").read_text()


def test_same_seed_gives_identical_files_and_blinded_leaves_out_unblinding(tmp_path):
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        simulate_trial(tmp_path / name, participants=12, seed=seed, blinded=(name == "b"))
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a" / "raw").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b" / "raw").rglob("*") if p.is_file())
    assert set(files_a) - set(files_b) == {Path("raw/unblinding.csv")}
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files_b)
    diary = Path("raw/diary/export_1.csv")
    assert (tmp_path / "a" / diary).read_bytes() != (tmp_path / "c" / diary).read_bytes()


def test_bundled_trial_is_small():
    raw = Path(__file__).resolve().parents[1] / "data" / "raw"
    if not raw.exists():
        pytest.skip("bundled data not generated")
    assert sum(p.stat().st_size for p in raw.rglob("*") if p.is_file()) < 20 * 2**20
