"""The CONSORT 2010 flow diagram of the trial as SVG, drawn from the ``participant_flow`` table.

Four rows of boxes, as the CONSORT statement lays them out: enrolment (enrolled, and those not
randomized beside it), allocation (per arm: allocated, received the intervention, did not), follow-up
(completed, withdrew, lost to follow-up) and analysis (each key outcome's full analysis set and those
excluded from it). Every count is an element carrying ``data-stage``, ``data-arm`` and ``data-n``,
so the numbers can be checked against the table they come from. No number is computed here except
the differences the diagram states (not randomized, not dosed, excluded from analysis).
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape, quoteattr

import pandas as pd

from mglt_pipeline.analysis.tables import NOT_RANDOMIZED, TOTAL, flow_wide
from mglt_pipeline.report.tables import FAS_STAGE_PREFIX, stage_label

WIDTH, BOX_WIDTH, LINE, PAD, GAP = 860, 360, 17, 10, 34
FONT = "font-family:Arial,Helvetica,sans-serif;font-size:13px"
PHASES = ("Enrolment", "Allocation", "Follow-up", "Analysis")


def _count(flow: pd.DataFrame, stage: str, arm: str) -> int:
    return int(flow.loc[flow["stage"] == stage, arm].sum()) if stage in set(flow["stage"]) else 0


def _line(text: str, stage: str | None = None, arm: str | None = None, n: int | None = None) -> dict:
    return {"text": text, "stage": stage, "arm": arm, "n": n}


def _counted(text: str, stage: str, arm: str, n: int) -> dict:
    return _line(f"{text} (n = {n})", stage, arm, n)


def arm_boxes(flow: pd.DataFrame, arm: str) -> list[list[dict]]:
    """The allocation, follow-up and analysis boxes of one arm, as lines of text."""
    randomized, dosed = _count(flow, "randomized", arm), _count(flow, "dosed", arm)
    allocation = [_counted(f"Allocated to {arm}", "randomized", arm, randomized),
                  _counted("Received the allocated intervention (dosed)", "dosed", arm, dosed),
                  _counted("Did not receive it (never dosed)", "not_dosed", arm, randomized - dosed)]
    follow_up = [_counted("Completed the study", "completed", arm, _count(flow, "completed", arm)),
                 _counted("Withdrew", "withdrawn", arm, _count(flow, "withdrawn", arm)),
                 _counted("Lost to follow-up", "lost_to_follow_up", arm, _count(flow, "lost_to_follow_up", arm))]
    analysis = []
    for stage in [s for s in flow["stage"] if s.startswith(FAS_STAGE_PREFIX)]:
        n = _count(flow, stage, arm)
        outcome = stage_label(stage).split(": ", 1)[-1]
        analysis.append(_counted(f"Analysed for {outcome} (full analysis set)", stage, arm, n))
        analysis.append(_counted("\u2013 not analysed", f"excluded_{stage}", arm, randomized - n))
    return [allocation, follow_up, analysis]


def _box(x: float, y: float, width: float, lines: list[dict], title: str | None = None) -> tuple[str, float]:
    """A box of text lines at (x, y); returns its SVG and its height."""
    rows = ([_line(title)] if title else []) + lines
    height = 2 * PAD + LINE * len(rows)
    parts = [f'<rect x="{x}" y="{y}" width="{width}" height="{height}" fill="#fff" stroke="#333"/>']
    for i, row in enumerate(rows):
        attributes = "".join(f" data-{k}={quoteattr(str(row[k]))}" for k in ("stage", "arm", "n") if row[k] is not None)
        weight = ' font-weight="bold"' if title and i == 0 else ""
        parts.append(f'<text x="{x + PAD}" y="{y + PAD + LINE * (i + 1) - 4}"{weight}{attributes}>'
                     f"{escape(row['text'])}</text>")
    return "\n".join(parts), height


def _arrow(x1: float, y1: float, x2: float, y2: float) -> str:
    return f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#333" marker-end="url(#arrow)"/>'


def consort_svg(participant_flow: pd.DataFrame) -> str:
    """The diagram as a standalone SVG document (also valid inline in HTML)."""
    flow = flow_wide(participant_flow)
    arms = [c for c in flow.columns if c not in ("stage", NOT_RANDOMIZED, TOTAL)]
    enrolled, randomized = _count(flow, "enrolled", TOTAL), _count(flow, "randomized", TOTAL)
    parts, y = [], 20.0
    centre, narrow = WIDTH / 2, BOX_WIDTH - 60
    top, h = _box(centre - narrow / 2, y, narrow, [_counted("Enrolled", "enrolled", TOTAL, enrolled)])
    side, side_h = _box(WIDTH - 20 - 250, y + h + GAP / 2, 250, [_counted(
        "Not randomized", "not_randomized", TOTAL, enrolled - randomized)])
    parts += [top, side, _arrow(centre, y + h, centre, y + h + GAP + side_h),
              _arrow(centre, y + h + GAP / 2 + side_h / 2, WIDTH - 20 - 250, y + h + GAP / 2 + side_h / 2)]
    y += h + GAP + side_h
    box, h = _box(centre - narrow / 2, y, narrow, [_counted("Randomized", "randomized", TOTAL, randomized)])
    parts.append(box)
    y += h + GAP
    columns = [(20 + i * (WIDTH - 40 - BOX_WIDTH) / max(len(arms) - 1, 1), arm) for i, arm in enumerate(arms)]
    for x, _ in columns:
        parts.append(_arrow(centre, y - GAP, x + BOX_WIDTH / 2, y))
    boxes = {arm: arm_boxes(flow, arm) for arm in arms}
    for phase_index, phase in enumerate(PHASES[1:]):
        heights = []
        for x, arm in columns:
            box, h = _box(x, y, BOX_WIDTH, boxes[arm][phase_index], title=phase)
            parts.append(box)
            heights.append(h)
        y += max(heights, default=0)
        if phase_index < 2:
            parts += [_arrow(x + BOX_WIDTH / 2, y, x + BOX_WIDTH / 2, y + GAP) for x, _ in columns]
            y += GAP
    note = ("Not analysed: randomized but never dosed, or without a baseline or any post-baseline value of "
            "that outcome (SAP full analysis set).")
    parts.append(f'<text x="20" y="{y + 24}" font-size="11">{escape(note)}</text>')
    height = y + 40
    marker = ('<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
              'orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#333"/></marker></defs>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" width="{WIDTH}" '
            f'height="{height:.0f}" role="img" aria-label="CONSORT flow diagram" style="{FONT}">\n'
            f"<title>CONSORT flow diagram</title>\n{marker}\n" + "\n".join(parts) + "\n</svg>\n")


def consort_counts(svg: str) -> dict[tuple[str, str], int]:
    """Every count the diagram prints, by (stage, arm), read back from the SVG text."""
    root = ET.fromstring(svg)
    return {(t.get("data-stage"), t.get("data-arm")): int(t.get("data-n"))
            for t in root.iter("{http://www.w3.org/2000/svg}text") if t.get("data-n") is not None}


def consort_problems(svg: str, participant_flow: pd.DataFrame) -> list[str]:
    """Counts of the diagram that differ from ``participant_flow`` (or from the text printed beside them)."""
    flow = participant_flow.set_index(["stage", "arm"])["n"]
    problems = []
    root = ET.fromstring(svg)
    for text in root.iter("{http://www.w3.org/2000/svg}text"):
        stage, arm, n = text.get("data-stage"), text.get("data-arm"), text.get("data-n")
        if n is not None and f"(n = {n})" not in (text.text or ""):
            problems.append(f"{stage}/{arm}: prints {text.text!r}, carries n = {n}")
        if n is not None and (stage, arm) in flow.index and int(flow[(stage, arm)]) != int(n):
            problems.append(f"{stage}/{arm}: diagram {n}, participant_flow {int(flow[(stage, arm)])}")
    return problems
