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

from mglt_pipeline.report import adherence, listings, safety, sections, tables
from mglt_pipeline.report.formatting import MISSING
from mglt_pipeline.report.provenance import Provenance
from mglt_pipeline.report.tables import FAMILY_TITLES, GROUP, SPANNER

TEMPLATE = "trial_report.html.j2"
OUTCOME_CELL = Markup('{}<br><small class="outcome-id">{}</small>')


@dataclass(frozen=True)
class ReportInputs:
    """Everything the report shows: warehouse tables, figures (PNG bytes) and provenance."""

    participants: pd.DataFrame
    randomization: pd.DataFrame
    participant_flow: pd.DataFrame
    baseline_characteristics: pd.DataFrame
    adverse_events: pd.DataFrame
    quarantine: pd.DataFrame
    treatment_effects: pd.DataFrame
    effect_tables: Mapping[str, pd.DataFrame]
    forest_png: bytes
    outcome_pngs: Mapping[str, bytes]
    provenance: Provenance
    failing_checks: pd.DataFrame = field(default_factory=pd.DataFrame)
    validation_docs: str | None = None
    """Link (relative to the report) to the Great Expectations Data Docs of the run, if rendered."""
    set_aside: pd.DataFrame = field(default_factory=pd.DataFrame)
    adherence_summary: pd.DataFrame = field(default_factory=pd.DataFrame)
    outcome_missingness: pd.DataFrame = field(default_factory=pd.DataFrame)
    adherence_png: bytes | None = None
    consort_svg: str | None = None


def png_data_uri(png: bytes) -> str:
    """A PNG image as a ``data:`` URI, so that it travels inside the HTML file."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def display_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as text, a missing one written ``n/a`` (never ``nan``, ``None`` or ``<NA>``)."""
    return frame.astype(object).where(frame.notna(), MISSING).astype(str)


def table_html(frame: pd.DataFrame, table_id: str, title: str | None = None,
               note: str | None = None) -> Markup:
    """A DataFrame of display text as a great-tables HTML table (inline styles, no web fonts)."""
    if frame.empty:
        return Markup('<p class="empty" id="{}">No entries.</p>').format(table_id)
    table = gt.GT(display_text(frame), id=table_id)
    if any(SPANNER in str(c) for c in frame.columns):
        table = table.tab_spanner_delim(SPANNER)
    if title:
        table = table.tab_header(title=title)
    if note:
        table = table.tab_source_note(note)
    return Markup(table.as_raw_html())


def outcome_table_html(frame: pd.DataFrame, table_id: str, notes: list[str]) -> Markup:
    """An outcome-per-row table: rows grouped by family, the outcome id in small type under its label,
    ``spanner|label`` columns under a spanner, numbers right-aligned, ``notes`` as footnotes."""
    if frame.empty:
        return Markup('<p class="empty" id="{}">No entries.</p>').format(table_id)
    cells = display_text(frame)
    cells["Outcome"] = [str(OUTCOME_CELL.format(label, oid)) for label, oid in zip(cells["Outcome"], cells["id"])]
    cells = cells.drop(columns="id")
    numbers = [c for c in cells.columns if c not in (GROUP, "Outcome", "Better")]
    table = (gt.GT(cells, id=table_id, groupname_col=GROUP)
             .tab_spanner_delim(SPANNER)
             .fmt(lambda html: html, columns="Outcome")  # the cell is built escaped above
             .cols_align("right", columns=numbers)
             .tab_options(table_font_size="13px", data_row_padding="3px", row_group_padding="4px",
                          row_group_font_weight="bold"))
    for note in notes:
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
    effects = inputs.treatment_effects
    families = []
    for family, title in FAMILY_TITLES.items():
        members = [dict(o, visits=table_html(o["visits"], f"visits-{o['id']}"),
                        figure=png_data_uri(o["figure"]) if o["figure"] else None)
                   for o in outcomes if o["family"] == family]
        if members:
            families.append({"id": family, "title": title, "outcomes": members})
    baseline_note = tables.baseline_missing_note(inputs.baseline_characteristics)
    safety_summary = safety.safety_summary(inputs.adverse_events, inputs.participants, inputs.randomization, blinded)
    return _environment().get_template(TEMPLATE).render(
        **_data_sections(inputs),
        blinded=blinded, active=active, placebo=placebo, provenance=inputs.provenance,
        summary=table_html(sections.study_summary(inputs.participants, inputs.randomization,
                                                  inputs.treatment_effects, safety.safety_set_size(safety_summary)),
                           "study-summary"),
        flow=table_html(tables.flow_display(inputs.participant_flow), "participant-flow"),
        baseline=table_html(tables.baseline_display(inputs.baseline_characteristics), "baseline-characteristics",
                            note=baseline_note),
        quarantine=table_html(sections.quarantine_summary(inputs.quarantine).rename(columns=str.capitalize),
                              "quarantine-summary"),
        quarantine_entries=len(inputs.quarantine),
        consort=Markup(inputs.consort_svg) if inputs.consort_svg else None,
        failing_checks=table_html(sections.failing_checks_display(inputs.failing_checks)
                                  .rename(columns=lambda c: c.replace("_", " ").capitalize()), "failing-checks"),
        effects=outcome_table_html(tables.effects_display(effects, active, placebo), "effects-table",
                                   tables.effects_notes(effects, active, placebo)),
        sensitivity=outcome_table_html(tables.sensitivity_display(effects), "sensitivity-table",
                                       tables.sensitivity_notes(effects, active, placebo)),
        model_notes=tables.model_notes(effects),
        forest=png_data_uri(inputs.forest_png), families=families,
        safety_summary=table_html(safety.safety_summary_display(safety_summary), "adverse-event-summary"),
        adverse_events=table_html(safety.adverse_event_listing(inputs.adverse_events, inputs.randomization,
                                                               blinded), "adverse-event-listing"),
        adverse_event_count=len(inputs.adverse_events),
        validation_docs=inputs.validation_docs,
    )


def _data_sections(inputs: ReportInputs) -> dict:
    """The listings (quarantine, set aside) and the adherence and missingness section, rendered."""
    listed = {}
    for name, frame, listing in (("quarantine_listing", inputs.quarantine, listings.quarantine_listing),
                                 ("set_aside_listing", inputs.set_aside, listings.set_aside_listing)):
        table = "quarantine" if name.startswith("quarantine") else "set_aside"
        listed[name] = table_html(listing(frame), name.replace("_", "-"))
        listed[f"{name}_note"] = listings.listing_note(len(frame), table)
    listed["set_aside_entries"] = len(inputs.set_aside)
    summary, missing = inputs.adherence_summary, inputs.outcome_missingness
    listed["adherence"] = table_html(adherence.adherence_display(summary), "adherence-summary") \
        if not summary.empty else None
    listed["missing_nights"] = table_html(adherence.missing_nights_display(summary), "missing-nights") \
        if not summary.empty else None
    listed["missingness"] = outcome_table_html(adherence.missingness_display(missing), "outcome-missingness", [
        "n/N: participants with a value at the visit / participants in the outcome's full analysis set."]) \
        if not missing.empty else None
    listed["adherence_heatmap"] = png_data_uri(inputs.adherence_png) if inputs.adherence_png else None
    return listed
