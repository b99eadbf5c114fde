"""``trial_report`` as Dagster runs it: inputs from upstream assets, the file under reports/, metadata."""
from __future__ import annotations

import dagster as dg

from mglt_pipeline.defs.report import REPORT_FILE, trial_report, trial_report_complete
from mglt_pipeline.registry import OUTCOMES
from mglt_pipeline.resources import DataRoot
from mglt_pipeline_tests.test_report import adherence_tables, report_inputs


def upstream_assets(blinded: bool) -> list[dg.AssetsDefinition]:
    """One asset per report input, returning the hand-made tables of ``test_report``."""
    inputs = report_inputs(blinded=blinded, simulated=False)
    tables = {"participants": inputs.participants, "randomization": inputs.randomization,
              "participant_flow": inputs.participant_flow,
              "baseline_characteristics": inputs.baseline_characteristics,
              "adverse_events": inputs.adverse_events,
              "quarantine": inputs.quarantine, "treatment_effects": inputs.treatment_effects,
              "set_aside": inputs.set_aside, "adherence_summary": inputs.adherence_summary,
              "outcome_missingness": inputs.outcome_missingness, "adherence": adherence_tables(blinded)[0]}
    tables |= {f"effect_{o.id}": inputs.effect_tables[o.id] for o in OUTCOMES}

    def make(name, frame):
        @dg.asset(name=name)
        def _table():
            return frame
        return _table

    return [make(name, frame) for name, frame in tables.items()]


def test_trial_report_writes_the_file_and_links_it(tmp_path):
    (tmp_path / "raw").mkdir()
    (tmp_path / "truth.json").write_text("{}")
    result = dg.materialize([*upstream_assets(blinded=True), trial_report, trial_report_complete],
                            resources={"data_root": DataRoot(path=str(tmp_path)), "io_manager": dg.mem_io_manager})
    assert result.success
    path = tmp_path / "reports" / REPORT_FILE
    html = path.read_text(encoding="utf-8")
    metadata = result.asset_materializations_for_node("trial_report")[0].metadata
    assert metadata["path"].value == str(path)
    assert metadata["outcomes"].value == len(OUTCOMES)
    assert metadata["size_bytes"].value == path.stat().st_size
    assert metadata["blinded"].value is True and metadata["simulated_data"].value is True
    assert 'id="simulated-notice"' in html and result.run_id in html
    assert [e.passed for e in result.get_asset_check_evaluations()] == [True]


def test_failing_checks_are_the_latest_failed_evaluations():
    from mglt_pipeline.defs.report import latest_failing_checks

    @dg.asset
    def diary_entries():
        return 1

    @dg.asset_check(asset=diary_entries)
    def no_quarantined_rows():
        return dg.AssetCheckResult(passed=False, description="2 rows quarantined")

    @dg.asset_check(asset=diary_entries)
    def one_row_per_day():
        return dg.AssetCheckResult(passed=True)

    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([diary_entries, no_quarantined_rows, one_row_per_day], instance=instance)
    keys = [dg.AssetCheckKey(dg.AssetKey("diary_entries"), n) for n in ("no_quarantined_rows", "one_row_per_day")]
    failing = latest_failing_checks(instance, keys)
    assert failing[["asset", "check", "severity", "description", "run_id"]].values.tolist() == [
        ["diary_entries", "no_quarantined_rows", "ERROR", "2 rows quarantined", result.run_id]]
