"""The pulls against a local stand-in of each API serving recorded responses (``recorded_api``).

The files a pull writes are compared with what the server held and served, byte for byte; the
waits a 429 asked for are measured at the server; and what lands is read by the pipeline's own
readers (``sources.oura.read_oura``, ``sources.redcap``), which must not quarantine any of it.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path

import pandas as pd
import pytest

from mglt_pipeline.pull.http import Budget, PullError, RetryPolicy
from mglt_pipeline.pull.oura_api import OuraClient
from mglt_pipeline.pull.oura_pull import StudyWindow, pull_participant
from mglt_pipeline.pull.redcap_api import DICTIONARY_COLUMNS, RedcapClient, pull_redcap
from mglt_pipeline.sources.oura import read_oura
from mglt_pipeline_tests.pull_fixtures import new_token, raw_listing
from mglt_pipeline_tests.recorded_api import (REDCAP_RECORDED, ApiServer, Fault, RecordedApi,
                                              recorded_oura_records)

WINDOW = StudyWindow(date(2024, 9, 20), date(2024, 11, 20))
TODAY = date(2026, 1, 15)
FAST = RetryPolicy(attempts=4, backoff_s=0.05, timeout_s=0.5)


def one_participant(tmp_path: Path, faults: list[Fault] | None = None) -> tuple[RecordedApi, str, Path]:
    token = new_token()
    api = RecordedApi(page_size=10)
    api.oura[token] = ("P001", recorded_oura_records())
    api.faults[token] = list(faults or [])
    raw = tmp_path / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    (raw / "participants.csv").write_text(
        "participant_id,site,age,sex,enrolled_on,first_dose_on,status,withdrawn_on,timezone\n"
        "P001,AMS,41,F,2024-10-03,2024-10-11,completed,,Europe/Amsterdam\n")
    return api, token, raw / "oura" / "P001"


def pull(server: ApiServer, folder: Path, token: str):
    return pull_participant(OuraClient(server.url, FAST), folder, "P001", token, WINDOW, TODAY, 3, Budget(100))


def served_bodies(api: RecordedApi, collection: str) -> list[bytes]:
    return [s.body for s in api.served("P001", f"/{collection}") if s.body is not None]


def test_a_pull_follows_the_pages_survives_every_fault_and_writes_what_was_served(tmp_path):
    faults = [Fault("429", retry_after=1.0, when="sleep"), Fault("500", when="sleep"),
              Fault("truncate", when="sleep"), Fault("slow", delay_s=1.0, when="daily_sleep")]
    api, token, folder = one_participant(tmp_path, faults)
    with ApiServer(api) as server:
        outcome = pull(server, folder, token)
    assert (outcome.status, outcome.reason) == ("ok", "")
    assert dict(outcome.stats.retries) == {"rate_limited": 1, "server_error": 1, "truncated_or_broken_body": 1,
                                           "timeout": 1}
    # every record of the window, on 5 + 1 + 1 + 1 pages, each file exactly a body the server sent whole
    assert sorted(p.name for p in folder.iterdir()) == [
        "daily_activity.json", "daily_readiness.json", "daily_sleep.json",
        "sleep.json", "sleep_2.json", "sleep_3.json", "sleep_4.json", "sleep_5.json"]
    recorded = recorded_oura_records()
    for collection in ("sleep", "daily_sleep", "daily_activity", "daily_readiness"):
        files = sorted(folder.glob(f"{collection}*.json"), key=lambda p: (len(p.name), p.name))
        assert [p.read_bytes() for p in files] == served_bodies(api, collection)
        held = [r for r in recorded[collection] if WINDOW.start.isoformat() <= r["day"] <= WINDOW.end.isoformat()]
        assert [r for p in files for r in json.loads(p.read_bytes())["data"]] == held
    pages = [json.loads(p.read_bytes()) for p in sorted(folder.glob("sleep*.json"), key=lambda p: (len(p.name), p.name))]
    assert [p["next_token"] is None for p in pages] == [False] * 4 + [True]
    # the client waited as long as the 429 said, measured at the server
    sleep_log = api.served("P001", "/sleep")
    after = sleep_log.index(next(s for s in sleep_log if s.status == 429)) + 1
    assert sleep_log[after].started - sleep_log[after - 1].finished >= 1.0
    assert (outcome.pages_fetched, outcome.pages_written, outcome.last_pulled_day) == (8, 8, WINDOW.end)
    assert outcome.last_day_with_data == date(2024, 11, 12)


@pytest.mark.parametrize("kind, status", [("expired", "token_expired"), ("membership", "membership_ended")])
def test_a_refused_token_is_that_participants_status_and_writes_nothing(tmp_path, kind, status):
    api, token, folder = one_participant(tmp_path, [Fault(kind)])
    with ApiServer(api) as server:
        outcome = pull(server, folder, token)
    assert (outcome.status, outcome.http_status, outcome.pages_written) == (status, 401 if kind == "expired" else 403, 0)
    assert outcome.reason.startswith(f"HTTP {outcome.http_status}: ")
    assert not folder.exists()
    assert len(api.served("P001")) == 1  # a refusal is not retried


def test_a_server_that_keeps_failing_is_reported_and_what_arrived_whole_stays(tmp_path):
    api, token, folder = one_participant(tmp_path, [Fault("500", when="sleep")] * FAST.attempts)
    with ApiServer(api) as server:
        outcome = pull(server, folder, token)
    assert (outcome.status, outcome.http_status) == ("failed", None)
    assert outcome.reason == "gave up after 4 attempts; last: HTTP 500 from the server"
    assert sorted(p.name for p in folder.iterdir()) == ["daily_sleep.json"]  # pulled before sleep failed
    assert outcome.last_pulled_day is None and outcome.stats.retries == {"server_error": 4}


def test_repulls_write_nothing_new_and_a_restated_record_supersedes_through_the_reader(tmp_path):
    api, token, folder = one_participant(tmp_path)
    root = tmp_path
    with ApiServer(api) as server:
        first = pull(server, folder, token)
        after_first = raw_listing(root)
        second = pull(server, folder, token)
        assert raw_listing(root) == after_first
        assert (second.pages_fetched, second.pages_written, second.records_new, second.days_new) == (4, 0, 0, 0)
        # Oura rescored the readiness of 2024-11-12: that collection's pages land after the others
        readiness = api.oura[token][1]["daily_readiness"]
        restated = next(r for r in readiness if r["day"] == "2024-11-12")
        restated["score"] += 3
        third = pull(server, folder, token)
    assert (third.records_restated, third.pages_written) == (1, 1)
    assert set(raw_listing(root)) - set(after_first) == {"raw/oura/P001/daily_readiness_2.json"}
    # asked again: the last 3 days with data (2024-11-10 ..), the API holds 11-11 and 11-12 there
    asked = api.served("P001", "/daily_readiness")[-1].query
    assert (asked["start_date"], asked["end_date"]) == ("2024-11-10", "2024-11-20")
    asked = api.served("P001", "/daily_activity")[-1].query  # the API's end_date is exclusive there
    assert (asked["start_date"], asked["end_date"]) == ("2024-11-09", "2024-11-21")
    known = pd.Series(["P001"])
    read = read_oura(root / "raw", root, known)
    tables = read.tables
    assert read.quarantine.empty and all(len(t.quarantine) == 0 for t in tables.values())
    assert {name: t.rows_clean for name, t in tables.items()} == {
        "oura_daily_sleep": 2, "oura_sleep_periods": 48, "oura_daily_activity": 1, "oura_daily_readiness": 2}
    readiness_table = tables["oura_daily_readiness"]
    assert readiness_table.rows_superseded == 2
    clean = readiness_table.clean.set_index("day")
    assert clean.loc[pd.Timestamp("2024-11-12"), "score"] == restated["score"]
    assert clean.loc[pd.Timestamp("2024-11-12"), "source_file"] == "raw/oura/P001/daily_readiness_2.json"
    assert first.records_new == 53


# --- REDCap ---------------------------------------------------------------------------------------

def redcap_project(records: bytes | None = None) -> RecordedApi:
    return RecordedApi(redcap_token=new_token(), redcap_metadata=(REDCAP_RECORDED / "metadata.csv").read_bytes(),
                       redcap_records=records or (REDCAP_RECORDED / "repeating_instruments_records.csv").read_bytes())


def redcap_pull(server: ApiServer, api: RecordedApi, folder: Path, when: datetime, token: str | None = None):
    client = RedcapClient(server.url + "/api/", token or api.redcap_token, FAST)
    return pull_redcap(folder, client, "mglt", when, Budget(20))


def test_redcap_pull_writes_the_export_and_the_dictionary_only_when_they_change(tmp_path):
    api, folder = redcap_project(), tmp_path / "raw" / "redcap"
    with ApiServer(api) as server:
        first = redcap_pull(server, api, folder, datetime(2026, 1, 15, 14, 5, 1, tzinfo=timezone.utc))
        assert (first.export_file, first.export_rows, first.dictionary_written) == ("mglt_20260115_140501.csv", 6, True)
        assert (folder / first.export_file).read_bytes() == api.redcap_records
        dictionary = (folder / "data_dictionary.csv").read_text().splitlines()
        assert dictionary[0] == ",".join(f'"{c}"' if "," in c else c for c in DICTIONARY_COLUMNS.values())
        listing = raw_listing(tmp_path)
        second = redcap_pull(server, api, folder, datetime(2026, 1, 15, 15, 0, 0, tzinfo=timezone.utc))
        assert (second.export_file, second.compared_with, second.dictionary_written) == (
            None, "mglt_20260115_140501.csv", False)
        assert raw_listing(tmp_path) == listing
        api.redcap_records += b"3,,,2020-01-01,ccc,2011-01-01,9.0,1,2,0,2,,,,\n"
        third = redcap_pull(server, api, folder, datetime(2026, 1, 16, 9, 0, 0, tzinfo=timezone.utc))
    assert third.export_file == "mglt_20260116_090000.csv" and third.export_rows == 7
    assert sorted(p.name for p in folder.iterdir()) == ["data_dictionary.csv", "mglt_20260115_140501.csv",
                                                         "mglt_20260116_090000.csv"]
    forms = [s.query for s in api.served("redcap")]
    assert forms[1] == {"content": "record", "action": "export", "format": "csv", "type": "flat", "csvDelimiter": ",",
                        "rawOrLabel": "raw", "rawOrLabelHeaders": "raw", "exportCheckboxLabel": "false",
                        "exportSurveyFields": "true", "exportDataAccessGroups": "true", "returnFormat": "json"}


def test_redcap_refusal_truncation_and_an_export_that_would_not_sort_last(tmp_path):
    api, folder = redcap_project(), tmp_path / "raw" / "redcap"
    when = datetime(2026, 1, 15, 14, 5, 1, tzinfo=timezone.utc)
    api.faults[api.redcap_token] = [Fault("truncate", when="record")]
    with ApiServer(api) as server:
        with pytest.raises(PullError, match="HTTP 403 from REDCap: .*permissions to use the API") as refused:
            redcap_pull(server, api, folder, when, token=new_token())
        assert refused.value.http_status == 403 and not folder.exists()
        pulled = redcap_pull(server, api, folder, when)
        assert pulled.stats.retries == {"truncated_or_broken_body": 1}
        assert (folder / pulled.export_file).read_bytes() == api.redcap_records
        assert not list(folder.glob("*.part"))
        api.redcap_records += b"3,,,2020-01-01,ccc,2011-01-01,9.0,1,2,0,2,,,,\n"
        with pytest.raises(PullError, match="already there"):  # changed within the same second
            redcap_pull(server, api, folder, when)
        (folder / "zz_manual_export.csv").write_bytes(api.redcap_records)
        with pytest.raises(PullError, match="would not sort after zz_manual_export.csv"):
            redcap_pull(server, api, folder, datetime(2026, 2, 1, tzinfo=timezone.utc))
