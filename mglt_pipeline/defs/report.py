"""The trial report (group ``report``): one self-contained HTML file a statistician can send.

``trial_report`` reads the flow, baseline, adverse events, quarantine and effects tables and the
figures their assets wrote under ``reports/figures/``, and writes ``<data root>/reports/trial_report.html``
(``mglt_pipeline.report.render.build_trial_report``), aside until the run commits. Failing checks are the latest evaluations the
Dagster instance recorded for the graph's checks (a check of this run that has not yet run shows its
previous evaluation, with that run's id).
"""

from collections.abc import Iterable
from datetime import datetime, timezone

import dagster as dg
import pandas as pd

from mglt_pipeline.automation.fingerprint import data_fingerprint
from mglt_pipeline.defs.expectations import DATA_DOCS_INDEX
from mglt_pipeline.paths import FOREST_PLOT_FILE, REPORT_FILE, adjusted_means_file
from mglt_pipeline.registry import OUTCOMES
from mglt_pipeline.report.provenance import build_provenance
from mglt_pipeline.report.audit import report_problems
from mglt_pipeline.report.consort import consort_problems, consort_svg
from mglt_pipeline.report.heatmap import adherence_heatmap_png
from mglt_pipeline.report.render import ReportInputs, build_trial_report
from mglt_pipeline.report.sections import is_blinded
from mglt_pipeline.resources import DataRoot

GROUP = "report"
TRIAL_REPORT = dg.AssetKey("trial_report")
FOREST_PLOT = dg.AssetKey("forest_plot")
CONSORT_DIAGRAM = dg.AssetKey("consort_diagram")
CONSORT_FILE = "consort_diagram.svg"
EFFECT_INPUTS = {f"effect_{o.id}": dg.AssetIn(key=dg.AssetKey(f"effect_{o.id}")) for o in OUTCOMES}


def latest_failing_checks(instance: dg.DagsterInstance, check_keys: "Iterable[dg.AssetCheckKey]") -> pd.DataFrame:
    """The asset checks whose latest recorded evaluation did not pass, one row each.

    Dagster 1.x has no documented reader of check evaluations; ``get_latest_asset_check_evaluation_record``
    is the instance's own (no private module, no underscore), used here and nowhere else."""
    rows = []
    for key in sorted(check_keys, key=lambda k: k.to_user_string()):
        record = instance.get_latest_asset_check_evaluation_record(key)
        if record is None or record.status.value != "FAILED":  # planned (not yet run) or passed
            continue
        evaluation = record.evaluation
        rows.append({"asset": key.asset_key.to_user_string(), "check": key.name,
                     "severity": evaluation.severity.value, "description": evaluation.description or "",
                     "run_id": record.run_id,
                     "evaluated_at": datetime.fromtimestamp(record.create_timestamp, timezone.utc)
                     .strftime("%Y-%m-%d %H:%M:%S UTC")})
    return pd.DataFrame(rows)


def graph_check_keys() -> list[dg.AssetCheckKey]:
    """Every asset check of the pipeline: the check specs of every room's assets and checks."""
    from mglt_pipeline.definitions import ROOMS  # the rooms, this one included, are imported by then

    definitions = [d for room in ROOMS for d in (*getattr(room, "ASSETS", ()), *getattr(room, "CHECKS", ()))]
    return sorted({spec.key for d in definitions for spec in d.check_specs}, key=lambda k: k.to_user_string())


@dg.asset(
    group_name=GROUP,
    ins=EFFECT_INPUTS,
    deps=[FOREST_PLOT, CONSORT_DIAGRAM],
    kinds={"html"},
    description=(
        "The trial report: study summary, CONSORT participant flow by arm with the flow diagram, Table 1 "
        "(one column per arm and overall), adherence (Oura wear, diary, supplement by arm; nights by "
        "reason; heat map), data quality (quarantine by source and rule, the quarantine and set-aside "
        "listings, failing checks, a link to the Great Expectations Data Docs), the week-3 "
        "effects table by family with raw and BH-adjusted p (unconverged models named with their "
        "message) with each outcome's missing values by visit and arm, the sensitivity analyses "
        "(per-protocol, ANCOVA on completers), the forest plot, "
        "safety (participants of the safety set with any treatment-emergent adverse event by arm, "
        "listing of events), "
        "adjusted means by visit and arm per outcome, the blinded notice while blinded, and provenance "
        "(code version, data fingerprint, run id, time). One self-contained HTML file, images "
        "embedded (read from reports/figures/, where their assets wrote them): "
        "<data root>/reports/trial_report.html, published when the run commits."
    ),
)
def trial_report(context: dg.AssetExecutionContext, data_root: DataRoot, participants: pd.DataFrame,
                 randomization: pd.DataFrame, participant_flow: pd.DataFrame,
                 baseline_characteristics: pd.DataFrame, adverse_events: pd.DataFrame, quarantine: pd.DataFrame,
                 set_aside: pd.DataFrame, adherence: pd.DataFrame, adherence_summary: pd.DataFrame,
                 outcome_missingness: pd.DataFrame, treatment_effects: pd.DataFrame,
                 **effects: pd.DataFrame) -> dg.MaterializeResult:
    effect_tables = {o.id: effects[f"effect_{o.id}"] for o in OUTCOMES}
    inputs = ReportInputs(
        participants=participants, randomization=randomization, participant_flow=participant_flow,
        baseline_characteristics=baseline_characteristics, adverse_events=adverse_events, quarantine=quarantine,
        treatment_effects=treatment_effects, effect_tables=effect_tables,
        forest_png=data_root.read_report_file(FOREST_PLOT_FILE),
        outcome_pngs={o.id: data_root.read_report_file(adjusted_means_file(o.id)) for o in OUTCOMES},
        failing_checks=latest_failing_checks(context.instance, graph_check_keys()),
        validation_docs=DATA_DOCS_INDEX if data_root.current_path(DATA_DOCS_INDEX).exists() else None,
        provenance=build_provenance(data_root.root, data_fingerprint(data_root.raw), context.run.run_id),
        set_aside=set_aside, adherence_summary=adherence_summary, outcome_missingness=outcome_missingness,
        adherence_png=adherence_heatmap_png(adherence), consort_svg=data_root.read_report_file(CONSORT_FILE).decode("utf-8"),
    )
    written = data_root.write_report_file(REPORT_FILE, build_trial_report(inputs))
    path = data_root.reports / REPORT_FILE
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(str(path)),
        "url": dg.MetadataValue.url(path.as_uri()),
        "size_bytes": dg.MetadataValue.int(written.stat().st_size),
        "outcomes": dg.MetadataValue.int(len(effect_tables)),
        "blinded": dg.MetadataValue.bool(is_blinded(treatment_effects)),
        "simulated_data": dg.MetadataValue.bool(inputs.provenance.simulated),
        "data_fingerprint": dg.MetadataValue.text(inputs.provenance.data_fingerprint),
    })


@dg.asset_check(asset=TRIAL_REPORT, description=(
    "The report file exists, loads nothing from the network (images and styles embedded) and has "
    "a section for every outcome of the registry."))
def trial_report_complete(data_root: DataRoot) -> dg.AssetCheckResult:
    path = data_root.current_path(REPORT_FILE)
    problems = report_problems(path.read_text(encoding="utf-8"), [o.id for o in OUTCOMES]) \
        if path.exists() else [f"{path} does not exist"]
    return dg.AssetCheckResult(passed=not problems, description="; ".join(problems) or "complete",
                               metadata={"problems": dg.MetadataValue.int(len(problems))})


@dg.asset(group_name=GROUP, name="consort_diagram", kinds={"svg"},
          check_specs=[dg.AssetCheckSpec("counts_equal_participant_flow", asset="consort_diagram", description=(
              "Every count the diagram prints equals the participant_flow table's."))])
def consort_diagram(participant_flow: pd.DataFrame, data_root: DataRoot):
    """The CONSORT flow diagram (enrolment, allocation, follow-up, analysis, with counts and reasons),
    drawn from ``participant_flow``: ``<data root>/reports/consort_diagram.svg``, which the report embeds."""
    svg = consort_svg(participant_flow)
    written = data_root.write_report_file(CONSORT_FILE, svg)
    path = data_root.reports / CONSORT_FILE
    problems = consort_problems(written.read_text(encoding="utf-8"), participant_flow)
    yield dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(path))})
    yield dg.AssetCheckResult(check_name="counts_equal_participant_flow", passed=not problems,
                              description="; ".join(problems[:10]) or "every count equals participant_flow")


ASSETS = [trial_report, consort_diagram]
CHECKS = [trial_report_complete]
