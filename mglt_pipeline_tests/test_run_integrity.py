"""No run half-written, one run at a time, and the trial-wide expectations, on one simulated trial.

A 12-participant simulated trial with one planted cross-table fault (a completer's Oura nights of
week_2 removed from every Oura file: each file stays valid, so no row rule can see it) is run as a
user runs it (``python -m mglt_pipeline.run``, a Dagster home under the test's folder). To keep CI
time, that one finished run serves several acceptance tests: a second ``make run`` started while it
runs, the Great Expectations failure in the Data Docs, the check's metadata and the report. A failed
run is made by a step that raises (monkeypatched in-process). The kill test is in
``test_kill_runs.py``, a file of its own so that it runs beside these on another worker.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from mglt_pipeline.paths import REPORT_FILE, REPORTS_DIR, WAREHOUSE_FILE
from mglt_pipeline.warehouse import lock
from mglt_pipeline.warehouse.consistency import data_root_state

pytestmark = pytest.mark.whole_pipeline(runs=3)

SEED = 7


def drop_oura_week(folder: Path, first_dose: pd.Timestamp, first_day: int = 8, last_day: int = 14) -> list[str]:
    """Remove the records of study days ``first_day``..``last_day`` from every Oura file of a folder."""
    days = {(first_dose + pd.Timedelta(days=d - 1)).strftime("%Y-%m-%d") for d in range(first_day, last_day + 1)}
    for path in folder.glob("*.json"):
        document = json.loads(path.read_text())
        document["data"] = [r for r in document["data"] if r.get("day") not in days]
        path.write_text(json.dumps(document))
    return sorted(days)


@pytest.fixture(scope="module")
def trial(tmp_path_factory) -> tuple[Path, str]:
    """The raw folder of the trial and the participant whose week_2 Oura nights were removed."""
    folder = tmp_path_factory.mktemp("trial")
    subprocess.run([sys.executable, "-m", "mglt_pipeline.simulate", str(folder), "--participants", "12",
                    "--seed", str(SEED)], check=True, capture_output=True)
    people = pd.read_csv(folder / "raw" / "participants.csv")
    randomized = set(pd.read_csv(folder / "raw" / "randomization.csv")["participant_id"])
    victim = people.loc[people["status"].eq("completed") & people["participant_id"].isin(randomized)].iloc[0]
    drop_oura_week(folder / "raw" / "oura" / victim["participant_id"], pd.Timestamp(victim["first_dose_on"]))
    return folder / "raw", victim["participant_id"]


@pytest.fixture(scope="module")
def reference(trial, tmp_path_factory):
    """A run to the end (A) with a second run (B) started on the same data root while A holds it."""
    raw, _ = trial
    root = tmp_path_factory.mktemp("reference")
    shutil.copytree(raw, root / "raw")
    env = dict(os.environ, DAGSTER_HOME=str(tmp_path_factory.mktemp("dagster_home")))
    first = subprocess.Popen([sys.executable, "-m", "mglt_pipeline.run", str(root)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while lock.holder(root).get("pid") != first.pid and first.poll() is None:
        time.sleep(0.05)
    second_started = time.monotonic()
    second = subprocess.run([sys.executable, "-m", "mglt_pipeline.run", str(root)], env=env,
                            capture_output=True, text=True, timeout=120)
    second_seconds = time.monotonic() - second_started
    out, err = first.communicate(timeout=900)
    return {"root": root, "home": Path(env["DAGSTER_HOME"]), "first": (first.returncode, out, err), "first_pid": first.pid,
            "second": second, "second_seconds": second_seconds}


def test_a_second_run_stops_at_once_with_one_line_and_the_first_is_unaffected(reference):
    second = reference["second"]
    assert second.returncode == 3 and second.stdout == ""
    [line] = second.stderr.strip().splitlines()
    assert line.startswith(f"error: another run is writing to {reference['root'].resolve()}:")
    assert f"(pid {reference['first_pid']}, started" in line
    assert reference["second_seconds"] < 10
    code, out, _ = reference["first"]
    assert code == 0, out
    assert f"report:    {reference['root'] / REPORTS_DIR / REPORT_FILE}" in out
    state = data_root_state(reference["root"])
    assert state.problems == [] and len(set(state.table_runs.values())) == 1
    assert state.report_run == state.runs[-1]


def test_the_planted_cross_table_fault_fails_an_expectation_in_data_docs_metadata_and_report(trial, reference):
    _, victim = trial
    reports = reference["root"] / REPORTS_DIR
    [page] = (reports / "validation" / "validations" / "oura_coverage").rglob("*.html")
    assert f"{victim} week_2" in page.read_text(encoding="utf-8")
    with dg.DagsterInstance.from_config(str(reference["home"])) as instance:
        record = instance.get_latest_asset_check_evaluation_record(
            dg.AssetCheckKey(dg.AssetKey("analysis_dataset"), "trial_expectations"))
    evaluation = record.evaluation
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    assert f"{victim} week_2" in evaluation.metadata["failed_expectations"].value
    assert evaluation.metadata["data_docs"].value == str(reports / "validation" / "index.html")
    html = (reports / REPORT_FILE).read_text(encoding="utf-8")
    assert 'href="validation/index.html"' in html


def test_a_failed_run_names_the_step_commits_nothing_and_prints_no_report(reference, tmp_path, monkeypatch, capsys):
    from mglt_pipeline import run
    from mglt_pipeline.defs import analysis

    root = tmp_path / "root"
    shutil.copytree(reference["root"], root, ignore=shutil.ignore_patterns("run.lock"))
    before = data_root_state(root)

    def broken(*args, **kwargs):
        raise ValueError("the windows cannot be derived")

    monkeypatch.setattr(analysis, "derive_oura_nightly", broken)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert run.main([str(root)]) == run.EXIT_FAILED
    printed = capsys.readouterr()
    assert "report:" not in printed.out and "succeeded" not in printed.out
    assert "FAILED" in printed.err
    assert "failed step oura_nightly: ValueError: the windows cannot be derived" in printed.err
    assert f"they hold run {before.runs[-1]}" in printed.err
    after = data_root_state(root)
    assert after.problems == [] and after.table_runs == before.table_runs and after.runs == before.runs
    with duckdb.connect(str(root / WAREHOUSE_FILE), read_only=True) as con:
        assert con.execute("select count(*) from information_schema.tables").fetchone()[0] > 60
