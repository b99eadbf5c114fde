"""``trial_report`` as Dagster runs it: inputs from upstream assets, the file under reports/, metadata."""
from __future__ import annotations

import dagster as dg

from mglt_pipeline.defs.report import CONSORT_FILE, trial_report, trial_report_complete
from mglt_pipeline.paths import FOREST_PLOT_FILE, REPORT_FILE, adjusted_means_file
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


def write_figures(root, inputs) -> None:
    """The figures the effects assets and the CONSORT diagram write under reports/, which the report reads."""
    figures = {FOREST_PLOT_FILE: inputs.forest_png} | {adjusted_means_file(o.id): inputs.outcome_pngs[o.id] for o in OUTCOMES}
    figures[CONSORT_FILE] = (inputs.consort_svg or "<svg xmlns='http://www.w3.org/2000/svg'/>").encode("utf-8")
    for relative, png in figures.items():
        (root / "reports" / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / "reports" / relative).write_bytes(png)


def test_trial_report_writes_the_file_and_links_it(tmp_path):
    (tmp_path / "raw").mkdir()
    (tmp_path / "truth.json").write_text("{}")
    write_figures(tmp_path, report_inputs(blinded=True, simulated=False))
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
    assert inputs_figure(html, report_inputs(blinded=True, simulated=False).forest_png)
    assert [e.passed for e in result.get_asset_check_evaluations()] == [True]


def inputs_figure(html: str, png: bytes) -> bool:
    """The figure read from reports/figures/ is the one embedded in the report."""
    import base64

    return base64.b64encode(png).decode() in html


def test_the_report_says_which_figure_is_missing(tmp_path):
    (tmp_path / "raw").mkdir()
    result = dg.materialize([*upstream_assets(blinded=True), trial_report], raise_on_error=False,
                            resources={"data_root": DataRoot(path=str(tmp_path)), "io_manager": dg.mem_io_manager})
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "reports/figures/forest_plot.png does not exist" in str(failure.event_specific_data.error.cause.message)


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
