"""Blinded mode end to end (SAP): without unblinding.csv everything runs with arms A/B and says so;
adding the file and re-running unblinds, with the estimate's sign following the arm assignment."""
from __future__ import annotations

import csv
import re

import duckdb
import pyreadstat
import pytest

from mglt_pipeline.registry import OUTCOMES
from mglt_pipeline.run import materialize_all
from mglt_pipeline.simulate import simulate_trial

pytestmark = pytest.mark.whole_pipeline(runs=1)


def _report_text(root) -> str:
    """The report's HTML without its embedded images (base64 may spell anything)."""
    html = (root / "reports" / "trial_report.html").read_text()
    return re.sub(r"data:image/[a-z]+;base64,[A-Za-z0-9+/=]+", "", html)


def _effects(root):
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        effects = con.execute("select outcome, estimate, blinded from treatment_effects").fetchdf()
        arms = set(con.execute("select distinct arm from analysis_dataset").fetchdf()["arm"])
    return effects.set_index("outcome"), arms


@pytest.fixture(scope="module")
def blinded_then_unblinded(tmp_path_factory):
    root = tmp_path_factory.mktemp("blinded")
    truth = simulate_trial(root, participants=24, seed=5, blinded=True)
    assert not (root / "raw" / "unblinding.csv").exists()
    assert materialize_all(root).success
    blinded = _effects(root)
    report_blinded = _report_text(root)
    submission_blinded = _submission(root)
    with open(root / "raw" / "unblinding.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["arm_code", "arm"])
        writer.writerow([truth["active_arm_code"], "MgT"])
        writer.writerow([truth["placebo_arm_code"], "placebo"])
    assert materialize_all(root).success
    return truth, blinded, report_blinded, _effects(root), _report_text(root), submission_blinded, _submission(root)


def _submission(root):
    """ADSL's planned treatments as the XPT file holds them, and define.xml's text."""
    adsl, _ = pyreadstat.read_xport(str(root / "submission" / "adsl.xpt"))
    return set(adsl["TRT01P"]), (root / "submission" / "define.xml").read_text()


def test_blinded_run_names_no_treatment(blinded_then_unblinded):
    _, (effects, arms), report, _, _, _, _ = blinded_then_unblinded
    assert arms == {"A", "B"}
    assert effects["blinded"].all()
    assert "MgT" not in report and "placebo" not in report.lower().replace("placebo-controlled", "")


def test_unblinding_relabels_and_orients_the_contrast(blinded_then_unblinded):
    truth, (blinded, _), _, (unblinded, arms), report, _, _ = blinded_then_unblinded
    assert arms == {"MgT", "placebo"}
    assert not unblinded["blinded"].any()
    assert "MgT" in report
    # Blinded, the contrast is B minus A; unblinded it is MgT minus placebo.
    sign = 1.0 if truth["active_arm_code"] == "B" else -1.0
    both = blinded.join(unblinded, lsuffix="_blinded").dropna(subset=["estimate", "estimate_blinded"])
    assert len(both) == len(OUTCOMES)  # every model converged in both runs
    assert (both["estimate"] - sign * both["estimate_blinded"]).abs().max() < 1e-9


def test_blinded_submission_says_so_and_unblinding_names_the_treatments(blinded_then_unblinded):
    *_, (treatments_blinded, define_blinded), (treatments, define) = blinded_then_unblinded
    assert treatments_blinded <= {"A", "B", ""} and {"A", "B"} <= treatments_blinded
    assert 'def:CommentOID="COM.BLINDED"' in define_blinded and "(blinded)" in define_blinded
    assert "MgT" not in define_blinded
    assert {"MgT", "placebo"} <= treatments and "COM.BLINDED" not in define
