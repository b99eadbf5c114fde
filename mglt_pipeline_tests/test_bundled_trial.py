"""Acceptance on the bundled trial: the simulator's planted effects show in the raw data.

The week_3 values are derived from the raw files by the independent SQL route of
``scripts/independent_derivation.py`` (not by the pipeline), the arms from randomization.csv and
unblinding.csv, and the planted effects from ``data/truth.json``.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from mglt_pipeline.registry import OUTCOMES
from mglt_pipeline_tests.derivation_support import script_module

DATA = Path(__file__).resolve().parents[1] / "data"


def _csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def week_3_differences() -> dict[str, float]:
    """Mean week_3 value MgT minus placebo per outcome (participants with a value)."""
    arm_of_code = {r["arm_code"]: r["arm"] for r in _csv(DATA / "raw" / "unblinding.csv")}
    arms = {r["participant_id"]: arm_of_code[r["arm_code"]] for r in _csv(DATA / "raw" / "randomization.csv")}
    con = script_module().derive(DATA / "raw")
    con.execute("create table arms (participant_id varchar, arm varchar)")
    con.executemany("insert into arms values (?, ?)", list(arms.items()))
    rows = con.execute("""
        select outcome,
               avg(aval) filter (where arm = 'MgT') - avg(aval) filter (where arm = 'placebo')
        from derived join arms using (participant_id)
        where visit = 'week_3' and aval is not null
        group by outcome""").fetchall()
    return dict(rows)


def test_every_planted_effect_has_its_sign_in_the_raw_data(week_3_differences):
    truth = json.loads((DATA / "truth.json").read_text())["effects"]["week_3"]
    planted = {o.id: truth[o.id] for o in OUTCOMES if truth[o.id] != 0}
    assert len(planted) >= 16  # the reference study's findings (STUDY.md)
    wrong_sign = {k: (v, week_3_differences[k]) for k, v in planted.items()
                  if (week_3_differences[k] > 0) != (v > 0)}
    assert wrong_sign == {}


def test_truth_covers_the_registry_and_says_simulated():
    truth = json.loads((DATA / "truth.json").read_text())
    assert truth["simulated"] is True
    assert set(truth["effects"]["week_3"]) == {o.id for o in OUTCOMES}
