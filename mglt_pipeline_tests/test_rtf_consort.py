"""RTF tables and the CONSORT diagram, read back by readers that share nothing with their writers.

The RTF files are parsed by ``submission.rtf.read_rtf`` (the RTF grammar: groups, control words,
escapes, rows with as many cells as they declare), never by rtflite; the CONSORT SVG by an XML parser.
The tables come from the hand-made inputs of ``test_report`` (expected cells worked out there).
"""
from __future__ import annotations

import pytest

from mglt_pipeline.registry import OUTCOMES
from mglt_pipeline.report.consort import consort_counts, consort_problems, consort_svg
from mglt_pipeline.submission import rtf
from mglt_pipeline_tests.test_report import PATTERNS, UNCONVERGED, report_inputs


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    inputs = report_inputs(blinded=True, simulated=True)
    folder = tmp_path_factory.mktemp("rtf")
    paths = rtf.write_rtf_tables(inputs.baseline_characteristics, inputs.participant_flow,
                                 inputs.treatment_effects, folder, simulated=True)
    return inputs, {name: rtf.read_rtf(path.read_text(encoding="ascii")) for name, path in paths.items()}, paths


def test_every_rtf_file_parses_and_holds_every_outcome_row(tables):
    _, parsed, paths = tables
    assert {name: rtf.rtf_problems(path) for name, path in paths.items()} == {name: [] for name in paths}
    for name in (rtf.EFFECTS, rtf.SENSITIVITY):
        assert rtf.missing_rows(paths[name], [o.label for o in OUTCOMES]) == []
    rows = {r[0]: r for r in parsed[rtf.EFFECTS][1]}
    for i, outcome in enumerate(OUTCOMES):
        if outcome is UNCONVERGED:
            assert rows[outcome.label][4] == "not converged"
            continue
        estimate, ci, p, p_adj = PATTERNS[i % len(PATTERNS)][1]
        assert rows[outcome.label][:10] == [outcome.label, outcome.better, "38", "39", estimate, ci,
                                            "75.3 (normal)" if i == 1 else "75.3", p, p_adj, "0.25"]
    header = next(r for r in parsed[rtf.EFFECTS][1] if r[0] == "Outcome")
    assert header[2:4] == ["B", "A"]                                    # blinded: n of B then A
    text = parsed[rtf.EFFECTS][0]
    assert "Table 14.2.1" in text and "Benjamini-Hochberg" in text and "Simulated data" in text


def test_flow_and_table_1_rtf_hold_the_counts(tables):
    _, parsed, _ = tables
    flow = {r[0]: r[1:] for r in parsed[rtf.FLOW][1]}
    assert flow["Enrolled"] == ["2", "2", "1", "5"] and flow["Dosed (Study Day 1 recorded)"] == ["1", "2", "0", "3"]
    baseline = parsed[rtf.BASELINE][1]
    assert baseline[0] == ["Characteristic", "A (N = 2)", "B (N = 2)", "Overall (N = 4)"]


def test_the_rtf_reader_rejects_broken_files():
    good = "{\\rtf1\\ansi{\\fonttbl{\\f0 Arial;}}\\trowd\\cellx100\\cellx200 a\\cell b\\cell\\row}"
    assert rtf.read_rtf(good)[1] == [["a", "b"]]
    for broken, reason in ((good[:-1], "left open"), (good + "}", "not opened"),
                           (good.replace("b\\cell", "b"), "declares 2"), ("{\\rtf2 x}", "start")):
        with pytest.raises(rtf.RtfSyntaxError, match=reason):
            rtf.read_rtf(broken)


def test_consort_numbers_equal_participant_flow(tables):
    inputs, _, _ = tables
    flow = inputs.participant_flow
    svg = consort_svg(flow)
    counts = consort_counts(svg)
    n = flow.set_index(["stage", "arm"])["n"]
    shown = {key: value for key, value in counts.items() if key in n.index}
    assert shown == {key: int(n[key]) for key in shown}
    assert len(shown) == 1 + 1 + 2 * (5 + 3)   # enrolled, randomized; per arm 5 stages and 3 FAS
    # The differences the diagram states, by hand: 5 enrolled - 4 randomized; A: 2 randomized, 1 dosed.
    assert counts[("not_randomized", "total")] == 1 and counts[("not_dosed", "A")] == 1
    assert counts[("excluded_fas_isi_total", "A")] == 1 and counts[("excluded_fas_isi_total", "B")] == 0
    assert consort_problems(svg, flow) == []
    tampered = svg.replace('data-n="2">Allocated to A (n = 2)', 'data-n="3">Allocated to A (n = 3)')
    assert consort_problems(tampered, flow) == ["randomized/A: diagram 3, participant_flow 2"]
