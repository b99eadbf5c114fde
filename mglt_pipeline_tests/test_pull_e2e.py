"""Acceptance of issue 15: a 10-participant trial pulled through Dagster from the stand-in APIs.

The Oura API serves the recorded responses to 10 participants, in pages of 10 records, with 429s
(``Retry-After: 1``), a 500, a truncated body and a slow reply on the way, and one participant's
token expired; the REDCap API serves the trial's project (rate-limited once). The pull assets run
with the real IO manager on a real instance whose files lie under the data root. Checked: the
files are the contract's and equal what the server held and sent; the waits were honoured; the
expired participant is isolated with ``token_expired``; the pipeline's readers take the files
without quarantine; the automation's next tick reruns the Oura and REDCap branches; a second pull
with nothing new writes no file and triggers no run; no token appears in any file under the data
root (but the token file), in the run logs or in the warehouse.
"""
from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from mglt_pipeline.defs.pull import ASSETS as PULL_ASSETS
from mglt_pipeline.definitions import build_definitions
from mglt_pipeline.pull.resources import OuraApi, RedcapApi
from mglt_pipeline.resources import build_resources
from mglt_pipeline.sources.oura import read_oura
from mglt_pipeline.sources.redcap import read_redcap
from mglt_pipeline_tests.automation_probe import automation_would_run
from mglt_pipeline_tests.pull_fixtures import pull_trial, raw_listing, settle, write_token_file
from mglt_pipeline_tests.recorded_api import ApiServer, Fault, recorded_oura_records

pytestmark = pytest.mark.whole_pipeline(runs=1)

FAULTS = {"P002": [Fault("429"), Fault("429", when="daily_readiness")], "P003": [Fault("500")],
          "P004": [Fault("truncate", when="sleep")], "P005": [Fault("slow", delay_s=1.0)], "P007": [Fault("expired")]}


def expected_window(row: pd.Series) -> tuple[str, str]:
    """The SAP's Day -7..21 with the contract's 14-day margins, ending at withdrawal (by hand)."""
    enrolled = date.fromisoformat(row.enrolled_on)
    dose = date.fromisoformat(row.first_dose_on) if isinstance(row.first_dose_on, str) else None
    start = min(enrolled, dose - timedelta(7)) if dose else enrolled
    end = dose + timedelta(20 + 14) if dose else date.today()
    if isinstance(row.withdrawn_on, str):
        end = min(end, date.fromisoformat(row.withdrawn_on))
    return (start - timedelta(14)).isoformat(), end.isoformat()


def materialize_pulls(root: Path, server: ApiServer, token_file: Path, instance) -> dg.ExecuteInProcessResult:
    resources = {**build_resources(root),
                 "oura_api": OuraApi(base_url=server.url, token_file=str(token_file), timeout_s=0.5, backoff_s=0.05,
                                     workers=4),
                 "redcap_api": RedcapApi(url=server.url + "/api/", token=dg.EnvVar("REDCAP_API_TOKEN"), project="mglt",
                                         backoff_s=0.05, timeout_s=5)}
    return dg.materialize(PULL_ASSETS, resources=resources, instance=instance)


def metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    event = next(e for e in result.get_asset_materialization_events()
                 if e.event_specific_data.materialization.asset_key.to_user_string() == asset)
    return {k: v.value for k, v in event.event_specific_data.materialization.metadata.items()}


def secret_pattern(secrets: list[str], width: int = 16) -> re.Pattern:
    """Any ``width`` characters in a row of any secret: a token cut in half still leaks."""
    pieces = {s[i:i + width] for s in secrets for i in range(len(s) - width + 1)}
    return re.compile("|".join(re.escape(p) for p in sorted(pieces)))


def tokens_found(root: Path, secrets: list[str], instance: dg.DagsterInstance, run_ids: list[str]) -> list[str]:
    """Where any piece of a secret appears: files under the root (but the token file), the runs'
    event logs (what the UI shows as the run's logs), and every text cell of the warehouse."""
    pattern = secret_pattern(secrets)
    found = [p.relative_to(root).as_posix() for p in root.rglob("*")
             if p.is_file() and p != root / "secrets" / "oura_tokens.csv"
             and pattern.search(p.read_bytes().decode("latin-1"))]
    for run_id in run_ids:
        found += [f"event log of run {run_id}" for entry in instance.all_logs(run_id)
                  if pattern.search(dg.serialize_value(entry))]
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        columns = con.execute("select table_name, column_name from information_schema.columns "
                              "where data_type = 'VARCHAR'").fetchall()
        for table, column in columns:
            values = con.execute(f'select distinct "{column}" from "{table}" where "{column}" is not null').fetchall()
            found += [f"warehouse {table}.{column}" for (value,) in values if pattern.search(value)]
    return found


def test_a_trial_is_pulled_isolating_the_expired_token_and_the_automation_reruns_only_what_changed(
        tmp_path, monkeypatch, capfd):
    root = tmp_path / "trial"
    api, tokens = pull_trial(root)
    for pid, faults in FAULTS.items():
        api.faults[tokens[pid]] = list(faults)
    api.faults[api.redcap_token] = [Fault("429", when="record")]
    monkeypatch.setenv("REDCAP_API_TOKEN", api.redcap_token)
    token_file = write_token_file(root, tokens)
    participants = pd.read_csv(root / "raw" / "participants.csv", dtype=str, keep_default_na=False).replace("", None)
    defs = build_definitions(root)
    # the instance's files (captured logs) lie under the data root, as `make pull` puts DAGSTER_HOME there
    instance = dg.DagsterInstance.ephemeral(tempdir=str(root / "dagster_home"))
    settle(root)
    automation_would_run(defs, root, instance)  # the trial before the pull: observed, as a first run would

    with ApiServer(api) as server:
        first = materialize_pulls(root, server, token_file, instance)
        assert first.success
        served_first = list(api.log)
        settle(root)
        tick = automation_would_run(defs, root, instance)
        listing = raw_listing(root)
        second = materialize_pulls(root, server, token_file, instance)
        assert second.success
        unchanged = raw_listing(root) == listing
        settle(root)
        idle = automation_would_run(defs, root, instance)

    # the expired token is one participant's status; everyone else was pulled
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        status = con.execute("select participant_id, status, since, reason, http_status from oura_pull_status "
                             "order by participant_id").df()
    assert status["status"].tolist() == ["ok"] * 6 + ["token_expired"] + ["ok"] * 3
    expired = status.set_index("participant_id").loc["P007"]
    assert (expired["since"].date(), expired["http_status"]) == (datetime.now(timezone.utc).date(), 401)
    assert expired["reason"] == "HTTP 401: Expired Token: Token has expired."
    assert not (root / "raw" / "oura" / "P007").exists()
    facts = metadata(first, "oura_pull_status")
    assert (facts["participants_in_token_file"], facts["participants_pulled"]) == (10, 9)
    assert facts["failures_by_kind"] == {"token_expired": 1}
    assert facts["retries_by_kind"] == {"rate_limited": 2, "server_error": 1, "truncated_or_broken_body": 1,
                                        "timeout": 1}

    # every file is a page the server sent whole, and the records are exactly the window's
    recorded = recorded_oura_records()
    for row in participants.itertuples():
        if row.participant_id == "P007":
            continue
        start, end = expected_window(row)
        folder = root / "raw" / "oura" / row.participant_id
        for collection, records in recorded.items():
            files = sorted(folder.glob(f"{collection}*.json"), key=lambda p: (len(p.name), p.name))
            files = [p for p in files if p.name == f"{collection}.json" or p.stem.removeprefix(collection + "_").isdigit()]
            sent = [s.body for s in served_first if s.participant == row.participant_id
                    and s.path.endswith(f"/{collection}") and s.body is not None]
            held = [r for r in records if start <= r["day"] <= end]
            assert [p.read_bytes() for p in files] == (sent if held else []), (row.participant_id, collection)
            assert [r for p in files for r in json.loads(p.read_bytes())["data"]] == held
    for pid in ("P002",):
        log = api.served(pid)
        for index, served in enumerate(log[:-1]):
            if served.status == 429:
                follow = next(s for s in log[index + 1:] if s.path == served.path)
                assert follow.started - served.finished >= 1.0

    # the pipeline's readers take what landed without quarantining any of it
    known = participants["participant_id"]
    read = read_oura(root / "raw", root, known)
    assert read.quarantine.empty
    for name, table in read.tables.items():
        assert len(table.quarantine) == 0, name
        assert table.rows_clean > 0
    redcap = read_redcap(root / "raw", root, known)
    export = metadata(first, "redcap_pull")["export_file"]
    assert (root / "raw" / "redcap" / export).read_bytes() == api.redcap_records
    # the current REDCap reader still reads data_dictionary.csv as an export (issue 10 teaches it
    # the dictionary); nothing of the pulled export is quarantined
    assert redcap.quarantine[redcap.quarantine["file"] != "raw/redcap/data_dictionary.csv"].empty
    assert redcap.rows_clean == api.redcap_records.count(b"\n") - 1

    # the next tick reruns the Oura and REDCap branches; after a pull with nothing new, nothing
    assert tick.sources == {"oura", "redcap"}
    assert {"oura_daily_sleep", "oura_sleep_periods", "questionnaire_items", "isi_scores",
            "treatment_effects"} <= tick.assets
    assert not tick.assets & {"participants", "randomization", "diary_entries", "oura_pull_status", "redcap_pull"}
    assert unchanged
    assert metadata(second, "oura_pull_status")["pages_written"] == 0
    assert metadata(second, "redcap_pull")["export_file"].startswith("none")
    assert idle.sources == set() and idle.assets == set()

    # no token anywhere but in the token file: files, event logs, warehouse, and the console logs
    secrets = [*tokens.values(), api.redcap_token]
    assert tokens_found(root, secrets, instance, [first.run_id, second.run_id]) == []
    console = "".join(capfd.readouterr())
    assert "P007: token_expired" in console
    assert secret_pattern(secrets).search(console) is None
    instance.dispose()
