"""The trial report (group ``report``): one self-contained HTML file a statistician can send.

``trial_report`` reads the flow, baseline, adverse events, quarantine and effects tables, draws the figures with the
effects room's plot functions and writes ``<data root>/reports/trial_report.html``
(``mglt_pipeline.report.render.build_trial_report``). Failing checks are the latest evaluations the
Dagster instance recorded for the graph's checks (a check of this run that has not yet run shows its
previous evaluation, with that run's id).
"""

from collections.abc import Iterable
from datetime import datetime, timezone

import dagster as dg
import pandas as pd

from mglt_pipeline.automation.fingerprint import data_fingerprint
from mglt_pipeline.effects.plots import adjusted_means_png, forest_plot_png
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
REPORT_FILE = "trial_report.html"
CONSORT_FILE = "consort_diagram.svg"
EFFECT_INPUTS = {f"effect_{o.id}": dg.AssetIn(key=dg.AssetKey(f"effect_{o.id}")) for o in OUTCOMES}


def latest_failing_checks(instance: dg.DagsterInstance, check_keys: "Iterable[dg.AssetCheckKey]") -> pd.DataFrame:
    """The asset checks whose latest recorded evaluation did not pass, one row each."""
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


@dg.asset(
    group_name=GROUP,
    ins=EFFECT_INPUTS,
    kinds={"html"},
    description=(
        "The trial report: study summary, CONSORT participant flow by arm with the flow diagram, Table 1 "
        "(one column per arm and overall), adherence (Oura wear, diary, supplement by arm; nights by "
        "reason; heat map), data quality (quarantine by source and rule, the quarantine and set-aside "
        "listings, failing checks), the week-3 "
        "effects table by family with raw and BH-adjusted p (unconverged models named with their "
        "message) with each outcome's missing values by visit and arm, the sensitivity analyses "
        "(per-protocol, ANCOVA on completers), the forest plot, "
        "safety (participants of the safety set with any treatment-emergent adverse event by arm, "
        "listing of events), "
        "adjusted means by visit and arm per outcome, the blinded notice while blinded, and provenance "
        "(code version, data fingerprint, run id, time). One self-contained HTML file, images "
        "embedded: <data root>/reports/trial_report.html."
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
        forest_png=forest_plot_png(treatment_effects),
        outcome_pngs={o.id: adjusted_means_png(effect_tables[o.id], o.label) for o in OUTCOMES},
        failing_checks=latest_failing_checks(context.instance,
                                             context.job_def.asset_layer.asset_graph.asset_check_keys),
        provenance=build_provenance(data_root.root, data_fingerprint(data_root.raw), context.run.run_id),
        set_aside=set_aside, adherence_summary=adherence_summary, outcome_missingness=outcome_missingness,
        adherence_png=adherence_heatmap_png(adherence), consort_svg=consort_svg(participant_flow),
    )
    html = build_trial_report(inputs)
    path = data_root.reports / REPORT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(str(path)),
        "url": dg.MetadataValue.url(path.as_uri()),
        "size_bytes": dg.MetadataValue.int(path.stat().st_size),
        "outcomes": dg.MetadataValue.int(len(effect_tables)),
        "blinded": dg.MetadataValue.bool(is_blinded(treatment_effects)),
        "simulated_data": dg.MetadataValue.bool(inputs.provenance.simulated),
        "data_fingerprint": dg.MetadataValue.text(inputs.provenance.data_fingerprint),
    })


@dg.asset_check(asset=TRIAL_REPORT, description=(
    "The report file exists, loads nothing from the network (images and styles embedded) and has "
    "a section for every outcome of the registry."))
def trial_report_complete(data_root: DataRoot) -> dg.AssetCheckResult:
    path = data_root.reports / REPORT_FILE
    problems = report_problems(path.read_text(encoding="utf-8"), [o.id for o in OUTCOMES]) \
        if path.exists() else [f"{path} does not exist"]
    return dg.AssetCheckResult(passed=not problems, description="; ".join(problems) or "complete",
                               metadata={"problems": dg.MetadataValue.int(len(problems))})


@dg.asset(group_name=GROUP, name="consort_diagram", kinds={"svg"},
          check_specs=[dg.AssetCheckSpec("counts_equal_participant_flow", asset="consort_diagram", description=(
              "Every count the diagram prints equals the participant_flow table's."))])
def consort_diagram(participant_flow: pd.DataFrame, data_root: DataRoot):
    """The CONSORT flow diagram (enrolment, allocation, follow-up, analysis, with counts and reasons),
    drawn from ``participant_flow``: ``<data root>/reports/consort_diagram.svg``."""
    svg = consort_svg(participant_flow)
    path = data_root.reports / CONSORT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(svg, encoding="utf-8")
    problems = consort_problems(path.read_text(encoding="utf-8"), participant_flow)
    yield dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(path))})
    yield dg.AssetCheckResult(check_name="counts_equal_participant_flow", passed=not problems,
                              description="; ".join(problems[:10]) or "every count equals participant_flow")


ASSETS = [trial_report, consort_diagram]
CHECKS = [trial_report_complete]
