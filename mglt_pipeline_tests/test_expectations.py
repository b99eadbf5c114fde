"""The Great Expectations suites across rows and tables, on a hand-made three-participant trial.

P1 and P2 complete the study, P3 withdraws; P2 has no Oura night in week_2 and the analysis dataset
holds P9, who was never randomized: two cross-table faults no row schema can see. The suites must
name exactly those, in their outcomes and in the Data Docs they render.
"""
from __future__ import annotations

import pandas as pd
import pytest

from mglt_pipeline.registry import OUTCOMES
from mglt_pipeline.validation.expectations import (
    PLAUSIBLE_BASELINE_MEANS, WINDOW_DAYS, completers, trial_frames, trial_suites, validate_trial, window_nights,
)
from mglt_pipeline.visits import VISIT_WINDOWS

PARTICIPANTS = pd.DataFrame({"participant_id": ["P1", "P2", "P3"], "status": ["completed", "completed", "withdrawn"],
                             "first_dose_on": pd.to_datetime(["2025-01-08"] * 3)})
RANDOMIZATION = pd.DataFrame({"participant_id": ["P1", "P2", "P3"], "arm_code": ["A", "B", "A"]})


def nightly() -> pd.DataFrame:
    """Every night of every window for P1 and P2, but none of P2's week_2; P3 until week_1."""
    rows = [{"participant_id": p, "study_day": d, "visit": w.visit}
            for p in ("P1", "P2", "P3") for w in VISIT_WINDOWS for d in range(w.first_day, w.last_day + 1)
            if not (p == "P2" and w.visit == "week_2") and not (p == "P3" and w.visit in ("week_2", "week_3"))]
    return pd.DataFrame(rows)


def analysis_dataset() -> pd.DataFrame:
    """Baselines spread inside every outcome's plausible bounds, for P1, P2, P3 and the stray P9."""
    rows = []
    for o in OUTCOMES:
        low, high = PLAUSIBLE_BASELINE_MEANS[o.id]
        for i, p in enumerate(("P1", "P2", "P3", "P9")):
            rows.append({"participant_id": p, "outcome": o.id, "visit": "week_1",
                         "base": low + (high - low) * (0.3 + 0.1 * i)})
    return pd.DataFrame(rows)


def test_windows_without_nights_are_named_for_completers_only():
    done = completers(PARTICIPANTS, RANDOMIZATION)
    assert done.tolist() == ["P1", "P2"]
    frame = window_nights(nightly(), done)
    assert frame["window_without_nights"].dropna().tolist() == ["P2 week_2"]
    assert frame.loc[frame["participant_id"] == "P1", "nights"].sum() == WINDOW_DAYS


def test_every_outcome_has_plausible_baseline_bounds():
    assert set(PLAUSIBLE_BASELINE_MEANS) == {o.id for o in OUTCOMES}
    assert all(low < high for low, high in PLAUSIBLE_BASELINE_MEANS.values())


@pytest.fixture(scope="module")
def validated(tmp_path_factory):
    docs = tmp_path_factory.mktemp("validation")
    frames = trial_frames(PARTICIPANTS, RANDOMIZATION, nightly(), nightly(), analysis_dataset())
    return validate_trial(frames, trial_suites(PARTICIPANTS, RANDOMIZATION), docs), docs


def test_the_planted_cross_table_faults_fail_and_nothing_else(validated):
    outcomes, _ = validated
    failed = {(o.suite, o.severity): o for o in outcomes if not o.success}
    assert set(failed) == {("analysis_participants", "ERROR"), ("oura_coverage", "WARN")}
    assert failed[("oura_coverage", "WARN")].unexpected == ("P2 week_2",)
    assert failed[("analysis_participants", "ERROR")].unexpected == ("P9",)
    assert len(outcomes) == 4 + 2 * len(OUTCOMES)


def test_data_docs_show_the_failing_expectations(validated):
    _, docs = validated
    index = (docs / "index.html").read_text(encoding="utf-8")
    assert all(suite in index for suite in ("oura_coverage", "analysis_participants", "baseline_distributions"))
    [page] = (docs / "validations" / "oura_coverage").rglob("*.html")
    html = page.read_text(encoding="utf-8")
    assert "P2 week_2" in html and "Failed" in html
