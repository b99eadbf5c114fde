"""End to end: the ingest assets and checks on a small simulated trial and on a hand-made one,
with the real DuckDB IO manager."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from mglt_pipeline.defs import ingest
from mglt_pipeline.resources import build_resources
from mglt_pipeline.simulate import simulate_trial
from mglt_pipeline.validation.quarantine import QUARANTINE_COLUMNS
from mglt_pipeline_tests.ingest_fixtures import write_small_trial

OURA_FILES = {"oura_daily_sleep": "daily_sleep*.json", "oura_sleep_periods": "sleep*.json",
              "oura_daily_activity": "daily_activity*.json", "oura_daily_readiness": "daily_readiness*.json"}


def _csv_rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def expected_counts(raw: Path) -> dict[str, int]:
    """Clean row counts worked out from the raw files directly (distinct keys, valid trial)."""
    counts = {"participants": len(_csv_rows(raw / "participants.csv")),
              "randomization": len(_csv_rows(raw / "randomization.csv"))}
    for table, pattern in OURA_FILES.items():
        ids = {(f.parent.name, r["id"]) for f in (raw / "oura").glob(f"*/{pattern}")
               for r in json.loads(f.read_text())["data"]}
        counts[table] = len(ids)
    redcap = {(r["record_id"], r["redcap_event_name"]) for f in (raw / "redcap").glob("*.csv") for r in _csv_rows(f)}
    counts["questionnaire_items"] = len(redcap) * (7 + 10 + 9 + 65)
    counts["diary_entries"] = len({(r["participant_id"], r["date"]) for f in (raw / "diary").glob("*.csv")
                                   for r in _csv_rows(f)})
    return counts


def _write_trial(kind: str, root: Path) -> dict[str, int] | None:
    """The raw files of a trial; for the hand-made one also its clean counts, worked out by hand."""
    if kind == "handmade":
        return write_small_trial(root)
    simulate_trial(root, participants=4, seed=7)
    return None


@pytest.fixture(scope="module", params=["simulated", "handmade"])
def materialized(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(request.param)
    by_hand = _write_trial(request.param, root)
    if by_hand is not None:
        assert expected_counts(root / "raw") == by_hand
    result = dg.materialize([*ingest.ASSETS, *ingest.CHECKS], resources=build_resources(root),
                            raise_on_error=False)
    return root, result


def test_run_succeeds_and_clean_counts_match_raw_files(materialized):
    root, result = materialized
    assert result.success
    expected = expected_counts(root / "raw")
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        found = {t: con.execute(f"select count(*) from main.{t}").fetchone()[0] for t in expected}
        columns = [r[0] for r in con.execute("describe main.quarantine").fetchall()]
        quarantined = con.execute("select count(*) from main.quarantine").fetchone()[0]
    assert found == expected
    assert columns == list(QUARANTINE_COLUMNS)
    assert quarantined == 0


def test_metadata_counts_add_up_and_checks_pass(materialized):
    _, result = materialized
    for event in result.get_asset_materialization_events():
        meta = event.materialization.metadata
        if "rows_read" in meta:
            assert meta["rows_read"].value == (meta["rows_clean"].value + meta["rows_quarantined"].value
                                               + meta["rows_superseded"].value
                                               + meta["rows_set_aside"].value)
            assert meta["dagster/row_count"].value >= meta["rows_clean"].value > 0
    evaluations = {(e.asset_key.to_user_string(), e.check_name): e.passed for e in result.get_asset_check_evaluations()}
    assert evaluations[("participants", "no_quarantined_rows")]
    assert all(evaluations[(t, "no_quarantined_rows")] for t in OURA_FILES)
