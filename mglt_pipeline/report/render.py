"""The trial report as one self-contained HTML page: tables by great-tables, page by Jinja2.

Self-contained means a statistician can e-mail the file: figures are PNG data URIs, styles are
inline, nothing is fetched from the network.
"""
from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field

import great_tables as gt
import jinja2
import pandas as pd
from markupsafe import Markup

from mglt_pipeline.report import sections
from mglt_pipeline.report.provenance import Provenance

TEMPLATE = "trial_report.html.j2"
FAMILY_TITLES = {"oura_sleep": "Oura sleep", "oura_day": "Oura activity and readiness",
                 "sleep_questionnaires": "Sleep questionnaires", "mood": "Mood (POMS)", "diary": "Daily diary"}


@dataclass(frozen=True)
class ReportInputs:
    """Everything the report shows: warehouse tables, figures (PNG bytes) and provenance."""

    participants: pd.DataFrame
    randomization: pd.DataFrame
    participant_flow: pd.DataFrame
    baseline_characteristics: pd.DataFrame
    quarantine: pd.DataFrame
    treatment_effects: pd.DataFrame
    effect_tables: Mapping[str, pd.DataFrame]
    forest_png: bytes
    outcome_pngs: Mapping[str, bytes]
    provenance: Provenance
    failing_checks: pd.DataFrame = field(default_factory=pd.DataFrame)


def png_data_uri(png: bytes) -> str:
    """A PNG image as a ``data:`` URI, so that it travels inside the HTML file."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def table_html(frame: pd.DataFrame, table_id: str, title: str | None = None,
               note: str | None = None) -> Markup:
    """A DataFrame of display text as a great-tables HTML table (inline styles, no web fonts)."""
    if frame.empty:
        return Markup('<p class="empty" id="{}">None.</p>').format(table_id)
    table = gt.GT(frame.astype(str), id=table_id)
    if title:
        table = table.tab_header(title=title)
    if note:
        table = table.tab_source_note(note)
    return Markup(table.as_raw_html())


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader("mglt_pipeline.report", "templates"),
                              autoescape=jinja2.select_autoescape(["html", "j2"]),
                              undefined=jinja2.StrictUndefined)


def build_trial_report(inputs: ReportInputs) -> str:
    """The HTML text of the trial report."""
    blinded = sections.is_blinded(inputs.treatment_effects)
    active, placebo = sections.arm_names(blinded)
    outcomes = sections.outcome_sections(inputs.effect_tables, inputs.outcome_pngs, blinded)
    families = []
    for family, title in FAMILY_TITLES.items():
        members = [dict(o, visits=table_html(o["visits"], f"visits-{o['id']}"),
                        figure=png_data_uri(o["figure"]) if o["figure"] else None)
                   for o in outcomes if o["family"] == family]
        if members:
            families.append({"id": family, "title": title, "outcomes": members})
    effects_note = (f"Estimate: adjusted mean difference {active} minus {placebo} at week_3 from the "
                    "mixed model (SAP); p (BH): Benjamini-Hochberg within family; Hedges g at week_3.")
    return _environment().get_template(TEMPLATE).render(
        blinded=blinded, active=active, placebo=placebo, provenance=inputs.provenance,
        summary=table_html(sections.study_summary(inputs.participants, inputs.randomization,
                                                  inputs.treatment_effects), "study-summary"),
        flow=table_html(inputs.participant_flow, "participant-flow"),
        baseline=table_html(inputs.baseline_characteristics, "baseline-characteristics"),
        quarantine=table_html(sections.quarantine_summary(inputs.quarantine), "quarantine-summary"),
        quarantine_entries=len(inputs.quarantine),
        failing_checks=table_html(sections.failing_checks_display(inputs.failing_checks), "failing-checks"),
        effects=table_html(sections.effects_display(inputs.treatment_effects), "effects-table",
                           note=effects_note),
        forest=png_data_uri(inputs.forest_png), families=families,
    )
