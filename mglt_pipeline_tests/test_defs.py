"""The asset graph as a reviewed snapshot: keys, groups, dependencies, checks, sensors, schedules.

A change to the graph (an asset added, renamed, regrouped or rewired) makes this test fail until the
snapshot is regenerated, so the change shows up in review as a diff of
``snapshots/asset_graph.txt``. Regenerate with ``MGLT_UPDATE_SNAPSHOT=1 pytest mglt_pipeline_tests/test_defs.py``.
"""
from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from mglt_pipeline.definitions import build_definitions
from mglt_pipeline.registry import OUTCOMES

SNAPSHOT = Path(__file__).parent / "snapshots" / "asset_graph.txt"


def graph_snapshot(tmp_root: Path) -> str:
    """One line per asset (group, key, upstream keys; observable sources marked), check (blocking
    ones marked), sensor, schedule and job."""
    defs = build_definitions(tmp_root)
    graph = defs.resolve_asset_graph()
    lines = []
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        parents = ", ".join(sorted(p.to_user_string() for p in node.parent_keys))
        kind = "asset" if node.is_materializable else "observable" if node.is_observable else "external"
        lines.append(f"{kind} [{node.group_name}] {key.to_user_string()} <- {parents}")
    for check in sorted(graph.asset_check_keys, key=lambda c: (c.asset_key.to_user_string(), c.name)):
        blocking = " (blocking)" if graph.get_check_spec(check).blocking else ""
        lines.append(f"check {check.asset_key.to_user_string()}:{check.name}{blocking}")
    lines += [f"sensor {s.name}" for s in defs.sensors or []]
    lines += [f"schedule {s.name} {s.cron_schedule} {s.execution_timezone}" for s in defs.schedules or []]
    lines += [f"job {j.name}" for j in defs.jobs or []]
    return "\n".join(lines) + "\n"


def test_asset_graph_matches_the_reviewed_snapshot(tmp_path):
    current = graph_snapshot(tmp_path)
    if os.environ.get("MGLT_UPDATE_SNAPSHOT"):
        SNAPSHOT.write_text(current)
    assert current == SNAPSHOT.read_text()


def test_every_registry_outcome_has_an_effect_asset_fed_by_the_analysis_dataset(tmp_path):
    graph = build_definitions(tmp_path).resolve_asset_graph()
    for outcome in OUTCOMES:
        node = graph.get(dg.AssetKey(f"effect_{outcome.id}"))
        assert node.group_name == "treatment_effects"
        assert "analysis_dataset" in {p.to_user_string() for p in node.parent_keys}


PACKAGE = Path(__file__).resolve().parents[1] / "mglt_pipeline"
FILE_ASSETS = {"forest_plot", "trial_report", "consort_diagram", "define_xml", "rtf_tables", "redcap_pull"}
"""Assets that write files (reports, submission, raw REDCap exports), not warehouse tables."""


def test_the_package_uses_no_private_dagster_module():
    import re

    private = re.compile(r"\bdagster(_\w+)?\._")
    found = [f"{p.relative_to(PACKAGE)}:{n}: {line.strip()}" for p in sorted(PACKAGE.rglob("*.py"))
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if private.search(line)]
    assert found == []


def test_every_table_the_graph_writes_has_a_contract(tmp_path):
    from mglt_pipeline.warehouse.tables import contract_for

    graph = build_definitions(tmp_path).resolve_asset_graph()
    tables = [k.to_user_string() for k in graph.get_all_asset_keys() if graph.get(k).is_materializable]
    assert len(tables) > 60
    for table in sorted(set(tables) - FILE_ASSETS):
        assert table in contract_for(table).table_names


def test_docs_tables_md_is_generated_from_the_contracts():
    from mglt_pipeline.warehouse.docs import TABLES_MD, tables_markdown

    assert TABLES_MD.read_text(encoding="utf-8") == tables_markdown(), \
        "docs/TABLES.md is not current: python -m mglt_pipeline.warehouse.docs"
