"""The simulator writes the Oura data in each way a trial receives them, with the same values.

The file layouts are checked against DATA_CONTRACT.md directly (names, top-level keys, twins, the
two Trends headers); the values are checked by reading the same trial written two ways.
"""
from __future__ import annotations

import csv
import json

import pandas as pd
import pytest

from mglt_pipeline.analysis.nightly import derive_oura_nightly
from mglt_pipeline.simulate import simulate_trial
from mglt_pipeline.simulate.oura_files import NEWER_LAYOUT, OLDER_LAYOUT
from mglt_pipeline.sources.oura import read_oura

N, SEED = 12, 5


@pytest.fixture(scope="module")
def trials(tmp_path_factory):
    roots = {}
    for way in ("api", "export", "trends", "mixed"):
        roots[way] = tmp_path_factory.mktemp(way)
        simulate_trial(roots[way], participants=N, seed=SEED, oura_format=way)
    return roots


def test_export_files_as_downloaded(trials):
    folder = trials["export"] / "raw/oura/P001"
    names = sorted(p.name for p in folder.iterdir())
    types = ("daily-activity", "daily-readiness", "daily-sleep", "daily-spo2", "sleep")
    assert [n.split("_")[1] for n in names] == [t for t in types for _ in (0, 1)]
    for path in folder.glob("*.json"):
        document = json.loads(path.read_text())
        (collection,) = document
        assert collection == path.name.split("_")[1].replace("-", "_")
        records = document[collection]
        twin = next(folder.glob(f"oura_{path.name.split('_')[1]}_*.csv"))
        with twin.open(newline="") as handle:
            assert sum(1 for _ in csv.DictReader(handle)) == len(records)
        assert all("id" not in r for r in records)
        if collection != "sleep":
            assert all("timestamp" not in r for r in records)
    periods = json.loads(next(folder.glob("oura_sleep_*.json")).read_text())["sleep"]
    assert all("timezone" in p for p in periods)
    with next(folder.glob("oura_daily-sleep_*.csv")).open(newline="") as handle:
        assert "contributors_deep_sleep" in next(csv.reader(handle))


def test_trends_files_use_the_two_dashboard_layouts(trials):
    headers = set()
    for folder in (trials["trends"] / "raw/oura").iterdir():
        (path,) = folder.iterdir()
        assert path.name.startswith("oura_") and path.name.endswith("_trends.csv")
        with path.open(newline="") as handle:
            headers.add(tuple(next(csv.reader(handle))))
    assert headers == {tuple(n for n, _ in NEWER_LAYOUT), tuple(n for n, _ in OLDER_LAYOUT)}


def test_mixed_trial_counts_each_way(trials):
    ways = json.loads((trials["mixed"] / "truth.json").read_text())["oura_records"]["participants_by_way"]
    assert ways == {"api": 9, "export": 2, "trends": 1, "api_and_trends": 2}


def test_every_way_gives_the_same_nightly_values(trials):
    nightly = {}
    for way, root in trials.items():
        people = pd.read_csv(root / "raw/participants.csv", parse_dates=["first_dose_on"])
        read = read_oura(root / "raw", root, people["participant_id"])
        assert read.quarantine.empty and all(t.quarantine.empty for t in read.tables.values())
        t = read.tables
        nightly[way] = derive_oura_nightly(t["oura_daily_sleep"].clean, t["oura_sleep_periods"].clean,
                                           t["oura_daily_activity"].clean, t["oura_daily_readiness"].clean, people)
    assert len(nightly["api"]) > 300
    for way in ("export", "trends", "mixed"):
        pd.testing.assert_frame_equal(nightly[way], nightly["api"], check_dtype=False)
