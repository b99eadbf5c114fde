"""The pull's rules one at a time: token file, study window, incremental days, retries, refusals,
file names, the REDCap dictionary and export checks, and the status's ``since``.

Expected values are worked out by hand from the rules (DATA_CONTRACT.md, SAP.md, Oura's and
REDCap's documentation), or come from REDCap's own files (REDCapR's test projects).
"""
from __future__ import annotations

import csv
import json
import random
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from mglt_pipeline.pull.files import PullRunning, atomic_write, next_page_names, page_files, pull_lock
from mglt_pipeline.pull.http import (RATE_LIMITED, SERVER_ERROR, Budget, CallStats, PullError, Retryable, RetryPolicy,
                                     retry_after_seconds, with_retries)
from mglt_pipeline.pull.oura_api import ANALYSED_COLLECTIONS, Page, parse_page, refusal
from mglt_pipeline.pull.oura_pull import (ParticipantPull, StoredCollection, StudyWindow, canonical,
                                          collection_window, compare, request_days, study_window)
from mglt_pipeline.pull.redcap_api import DICTIONARY_COLUMNS, check_flat_export, dictionary_csv
from mglt_pipeline.pull.state import next_status
from mglt_pipeline.pull.tokens import TokenFileRefused, read_token_file, redact, token_file_path
from mglt_pipeline.sources.files import natural_key
from mglt_pipeline.sources.oura_collections import ANALYSED

REDCAP_REAL = Path(__file__).parent / "data" / "real" / "redcap_api_responses"


def token_file(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "secrets" / "oura_tokens.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


# --- token file ---------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644])
def test_a_token_file_others_can_read_is_refused(tmp_path, mode):
    path = token_file(tmp_path, "participant_id,token\nP001,tok-a\n", mode)
    with pytest.raises(TokenFileRefused, match="chmod 600"):
        read_token_file(path)


def test_token_file_path_comes_from_the_environment_else_the_data_root(tmp_path):
    assert token_file_path(tmp_path, {}) == tmp_path / "secrets" / "oura_tokens.csv"
    assert token_file_path(tmp_path, {"MGLT_OURA_TOKENS": "/etc/x.csv"}) == Path("/etc/x.csv")


def test_conflicts_in_the_token_file_are_refused_for_everyone_concerned(tmp_path):
    text = ("participant_id,token,refresh_token\n"
            "P001,secret-one,r1\n"
            "P002,secret-two,r2\n"
            "P002,secret-two-b,r3\n"      # two tokens for one participant
            "P003,secret-three,\n"
            "P004,secret-three,\n"        # one token for two participants
            "P005,secret-five,\n"
            "P005,secret-five,\n"         # the same line twice: one token, fine
            "bad id!,secret-six,\n"       # no valid participant_id
            "P007,,\n"
            "\n")
    tokens = read_token_file(token_file(tmp_path, text))
    assert tokens.tokens == {"P001": "secret-one", "P005": "secret-five"}
    assert set(tokens.refused) == {"P002", "P003", "P004", "P007"}
    assert "lines 3, 4" in tokens.refused["P002"]
    assert "P003, P004" in tokens.refused["P003"] and "P004, P003" in tokens.refused["P004"]
    assert tokens.unusable_lines == ["line 9: no valid participant_id"]
    words = json.dumps([tokens.refused, tokens.unusable_lines, repr(tokens)])
    assert "secret" not in words
    assert set(tokens.secrets()) == {"secret-one", "secret-five", "secret-two", "secret-two-b", "secret-three",
                                     "secret-six"}
    assert redact("failed with secret-two-b and secret-one", tokens.secrets()) == "failed with [token] and [token]"


def test_a_token_file_without_the_columns_is_refused(tmp_path):
    with pytest.raises(TokenFileRefused, match="participant_id,token"):
        read_token_file(token_file(tmp_path, "id,access\nP001,x\n"))


# --- study window and incremental days -----------------------------------------------------------

def test_study_window_is_day_minus_7_to_21_with_the_contract_margins():
    # Day 1 = 2025-03-09, so Day -7 = 03-02 and Day 21 = 03-29; enrolled 03-01 (before Day -7).
    window = study_window(date(2025, 3, 1), date(2025, 3, 9), None, today=date(2026, 1, 1))
    assert window == StudyWindow(date(2025, 2, 15), date(2025, 4, 12))  # 03-01 - 14, 03-29 + 14
    # enrolled after Day -7 (dosed 3 days after enrolment): the window still covers Day -7
    assert study_window(date(2025, 3, 7), date(2025, 3, 9), None, date(2026, 1, 1)).start == date(2025, 2, 16)
    # withdrawn: nothing after withdrawn_on; before the end of the study: not after today
    assert study_window(date(2025, 3, 1), date(2025, 3, 9), date(2025, 3, 20), date(2026, 1, 1)).end == date(2025, 3, 20)
    assert study_window(date(2025, 3, 1), date(2025, 3, 9), None, date(2025, 3, 15)).end == date(2025, 3, 15)
    # never dosed: open until today (or withdrawal)
    assert study_window(date(2025, 3, 1), None, None, date(2025, 3, 5)) == StudyWindow(date(2025, 2, 15), date(2025, 3, 5))
    assert study_window(date(2025, 3, 1), None, date(2025, 3, 3), date(2025, 6, 1)).end == date(2025, 3, 3)


def test_incremental_days_ask_again_the_last_restate_days_only():
    window = StudyWindow(date(2025, 2, 15), date(2025, 4, 12))
    assert request_days(window, None, 3) == window
    assert request_days(window, date(2025, 3, 10), 3) == StudyWindow(date(2025, 3, 8), date(2025, 4, 12))
    assert request_days(window, date(2025, 2, 15), 3) == window  # never before the window
    # data past the window's end (copied in by hand): the window's last days are re-asked
    assert request_days(window, date(2025, 5, 1), 3) == StudyWindow(date(2025, 4, 10), date(2025, 4, 12))
    assert request_days(StudyWindow(date(2025, 3, 2), date(2025, 3, 1)), None, 3) is None


def test_the_activity_of_a_day_not_over_is_pulled_once_the_day_has_ended():
    today = date(2025, 3, 20)
    window = StudyWindow(date(2025, 2, 15), today)
    assert collection_window(window, "daily_activity", today) == StudyWindow(date(2025, 2, 15), date(2025, 3, 19))
    assert all(collection_window(window, c, today) == window for c in ("sleep", "daily_sleep", "daily_readiness"))
    closed = StudyWindow(date(2025, 2, 15), date(2025, 3, 10))  # ended before today: untouched
    assert collection_window(closed, "daily_activity", today) == closed


def test_compare_counts_new_restated_and_no_longer_served_records():
    stored = StoredCollection()
    for key, day, score in [("a", "2025-03-01", 70), ("b", "2025-03-02", 71), ("c", "2025-03-03", 72)]:
        stored.records[key] = canonical({"id": key, "day": day, "score": score})
        stored.days[key] = day
    pages = [Page(b"", [{"score": 70, "day": "2025-03-01", "id": "a"},  # same content, other key order
                        {"id": "b", "day": "2025-03-02", "score": 75}], "t"),  # restated
             Page(b"", [{"id": "d", "day": "2025-03-04", "score": 60},   # new day
                        {"id": "e", "day": "2025-03-02", "score": 20}], None)]  # new record, known day
    delta = compare(pages, stored, StudyWindow(date(2025, 3, 1), date(2025, 3, 5)))
    assert (delta.records_new, delta.records_restated, delta.days_new, delta.records_absent) == (2, 1, {"2025-03-04"}, 1)
    assert delta.changed
    same = compare([Page(b"", [{"id": "a", "day": "2025-03-01", "score": 70}], None)], stored,
                   StudyWindow(date(2025, 3, 1), date(2025, 3, 1)))
    assert not same.changed and same.records_absent == 0


def test_the_pull_asks_for_exactly_the_collections_the_reader_analyses():
    assert set(ANALYSED_COLLECTIONS) == {"daily_sleep", "sleep", "daily_activity", "daily_readiness"}
    assert ANALYSED_COLLECTIONS == tuple(c.name for c in ANALYSED)


# --- page files ------------------------------------------------------------------------------------

def test_new_pages_are_numbered_after_every_page_there_and_sort_last(tmp_path):
    folder = tmp_path / "P001"
    for name in ["sleep.json", "sleep_2.json", "sleep_9.json", "sleep_time.json", "daily_sleep_4.json"]:
        atomic_write(folder / name, b'{"data":[],"next_token":null}')
    (folder / "sleep_10.json.part").write_bytes(b"{")  # a pull that died mid-write
    assert next_page_names(folder, "sleep", 2) == ["sleep_11.json", "sleep_12.json"]
    assert next_page_names(folder, "daily_activity", 1) == ["daily_activity.json"]
    assert [p.name for p in page_files(folder, "sleep")] == ["sleep.json", "sleep_2.json", "sleep_9.json"]
    names = ["sleep.json", "sleep_2.json", "sleep_9.json", "sleep_11.json"]
    assert sorted(names, key=natural_key) == names  # the newer pull is the later file


def test_atomic_write_leaves_no_file_when_writing_fails(tmp_path):
    def chunks():
        yield b'{"data": ['
        raise OSError("disk full")

    with pytest.raises(OSError):
        atomic_write(tmp_path / "sleep.json", chunks())
    assert list(tmp_path.iterdir()) == []


def test_a_second_pull_of_the_same_kind_is_refused_while_the_first_runs(tmp_path):
    with pull_lock(tmp_path, "oura"):
        with pytest.raises(PullRunning, match="another oura pull is running"):
            with pull_lock(tmp_path, "oura"):
                pass
        with pull_lock(tmp_path, "redcap"):  # another kind may run beside it
            pass
    with pull_lock(tmp_path, "oura"):  # released
        pass


# --- retries, waits, budget -------------------------------------------------------------------------

def test_retries_wait_as_told_then_back_off_with_jitter_then_give_up():
    waits: list[float] = []
    failures = iter([Retryable(RATE_LIMITED, "429", retry_after=2.0), Retryable(SERVER_ERROR, "500"),
                     Retryable(SERVER_ERROR, "500")])

    def attempt():
        raise next(failures, None) or Retryable(SERVER_ERROR, "500")

    policy = RetryPolicy(attempts=4, backoff_s=0.5, max_backoff_s=60)
    stats = CallStats()
    with pytest.raises(PullError, match="gave up after 4 attempts") as error:
        with_retries(attempt, policy, Budget(10), stats, sleep=waits.append, rng=random.Random(1))
    assert error.value.status == "failed"
    assert len(waits) == 3
    assert 2.0 <= waits[0] <= 2.5            # Retry-After plus at most min(backoff, 1) s of jitter
    assert 0 <= waits[1] <= 0.5 * 2 ** 1     # full jitter: up to backoff * 2**attempt
    assert 0 <= waits[2] <= 0.5 * 2 ** 2
    assert stats.retries == {RATE_LIMITED: 1, SERVER_ERROR: 3} and stats.waited_s == pytest.approx(sum(waits))


def test_success_after_a_retry_and_the_budget_and_an_overlong_retry_after():
    calls = iter([Retryable(SERVER_ERROR, "500"), "page"])

    def attempt():
        value = next(calls)
        if isinstance(value, Exception):
            raise value
        return value

    budget = Budget(5)
    assert with_retries(attempt, RetryPolicy(), budget, CallStats(), sleep=lambda s: None) == "page"
    assert budget.used == 2
    with pytest.raises(PullError, match="budget of 2"):
        with_retries(lambda: (_ for _ in ()).throw(Retryable(SERVER_ERROR, "x")), RetryPolicy(attempts=5),
                     Budget(2), CallStats(), sleep=lambda s: None)
    waits: list[float] = []
    with pytest.raises(PullError, match="wait 900 s"):
        with_retries(lambda: (_ for _ in ()).throw(Retryable(RATE_LIMITED, "429", retry_after=900)),
                     RetryPolicy(max_retry_after_s=300), Budget(9), CallStats(), sleep=waits.append)
    assert waits == []


def test_retry_after_is_seconds_or_an_http_date():
    now = datetime(2026, 1, 15, 12, 0, 0, tzinfo=timezone.utc)
    assert retry_after_seconds("120", now) == 120
    assert retry_after_seconds("Thu, 15 Jan 2026 12:00:30 GMT", now) == 30
    assert retry_after_seconds("soon", now) is None and retry_after_seconds(None, now) is None


def _response(status: int, body: dict | str) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = (json.dumps(body) if isinstance(body, dict) else body).encode()
    return response


@pytest.mark.parametrize("status, body, meaning", [
    (401, {"status": 401, "title": "Expired Token", "detail": "Token has expired."}, "token_expired"),
    (401, {"status": 401, "title": "Token Already Used Or Revoked"}, "token_revoked"),
    (401, {"detail": "Unauthorized"}, "token_expired"),
    (403, {"detail": "Forbidden"}, "membership_ended"),
    (403, {"title": "Missing Scopes", "detail": "Missing required scopes: daily"}, "failed"),
    (400, {"detail": "start_date is after end_date"}, "failed"),
    (426, "Upgrade Required", "failed"),
])
def test_what_a_refusal_means(status, body, meaning):
    error = refusal(_response(status, body))
    assert (error.status, error.http_status) == (meaning, status)
    assert error.detail.startswith(f"HTTP {status}")


def test_a_page_must_arrive_whole():
    page = parse_page(b'{"data":[{"id":"x","day":"2025-03-01"}],"next_token":"abc"}')
    assert (len(page.records), page.next_token) == (1, "abc")
    assert parse_page(b'{"data":[],"next_token":null}').next_token is None
    for broken in [b'{"data":[{"id":"x","da', b'[]', b'{"data":{}}', b'{"data":[]}', b'{"data":[1],"next_token":null}']:
        with pytest.raises(Retryable):
            parse_page(broken)


# --- REDCap: dictionary and export checks ----------------------------------------------------------

def _rows(text: str) -> list[list[str]]:
    return [row for row in csv.reader(text.splitlines()) if row]


def test_the_api_metadata_becomes_redcaps_own_data_dictionary_file():
    """REDCap's metadata export and its "Download the Data Dictionary" file of the same project
    (REDCapR): same rows, the file's column names, which our conversion must reproduce."""
    ours = _rows(dictionary_csv((REDCAP_REAL / "metadata.csv").read_bytes()).decode())
    redcaps = _rows((REDCAP_REAL / "dictionary.csv").read_text())
    api = _rows((REDCAP_REAL / "metadata.csv").read_text())
    assert ours[0] == redcaps[0] == list(DICTIONARY_COLUMNS.values())
    assert ours[1:] == api[1:]
    differing = [(a[0], i) for a, b in zip(ours[1:], redcaps[1:]) for i, (x, y) in enumerate(zip(a, b)) if x != y]
    assert differing == [("height_comma", 8), ("height_comma", 9)]  # saved at different times (PROVENANCE.md)
    with pytest.raises(PullError):
        dictionary_csv(b"Variable / Field Name,Form Name\nrecord_id,demographics\n")


def test_a_flat_export_is_checked_before_it_is_kept(tmp_path):
    real = REDCAP_REAL / "repeating_instruments_records.csv"
    assert check_flat_export(real, "record_id") == 6
    with pytest.raises(PullError, match="record-id field study_id"):
        check_flat_export(real, "study_id")
    label = tmp_path / "labels.csv"
    label.write_text("Record ID,Event Name,Complete?\n1,Baseline,Complete\n")
    with pytest.raises(PullError, match="label export"):
        check_flat_export(label, "record_id")
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("record_id,isi_1,isi_2\n1,2,3\n2,4\n")
    with pytest.raises(PullError, match="line 3 has 2 cells"):
        check_flat_export(ragged, "record_id")


# --- status ----------------------------------------------------------------------------------------

def test_since_is_the_first_day_of_a_status_and_known_days_are_kept():
    day1, day2 = date(2026, 1, 10), date(2026, 1, 11)
    at = datetime(2026, 1, 10, 8, tzinfo=timezone.utc)
    first = next_status({}, [ParticipantPull("P1", last_pulled_day=date(2026, 1, 9), last_day_with_data=date(2026, 1, 8)),
                             ParticipantPull("P2", status="token_expired", reason="HTTP 401", http_status=401)],
                        day1, at)
    assert first["P1"]["since"] == first["P2"]["since"] == "2026-01-10"
    second = next_status(first, [ParticipantPull("P1", status="token_expired", reason="HTTP 401"),
                                 ParticipantPull("P2", status="token_expired", reason="HTTP 401")],
                         day2, at + timedelta(days=1))
    assert second["P1"]["since"] == "2026-01-11" and second["P2"]["since"] == "2026-01-10"
    assert second["P1"]["last_pulled_day"] == "2026-01-09" and second["P1"]["last_day_with_data"] == "2026-01-08"
    third = next_status(second, [ParticipantPull("P2", last_pulled_day=day2)], day2, at)
    assert third["P1"] == second["P1"]  # no longer in the token file: the last row stays
    assert third["P2"]["status"] == "ok" and third["P2"]["since"] == "2026-01-11"
