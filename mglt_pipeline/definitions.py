"""The whole graph in one place: assets, checks, resources, sensors and schedules.

This is the module ``workspace.yaml`` (and so ``dagster dev``) loads. Every other module only
defines; a reader starts here.
"""
from __future__ import annotations

from pathlib import Path

import dagster as dg

from mglt_pipeline.defs import ingest, scoring
from mglt_pipeline.resources import build_resources, default_data_root

ROOMS = (ingest, scoring)


def build_definitions(data_root: Path | str | None = None) -> dg.Definitions:
    """Definitions for one data root (default: ``$MGLT_DATA_DIR`` or the repository's ``data/``)."""
    root = Path(data_root) if data_root is not None else default_data_root()
    return dg.Definitions(
        assets=[a for room in ROOMS for a in getattr(room, "ASSETS", [])],
        asset_checks=[c for room in ROOMS for c in getattr(room, "CHECKS", [])],
        sensors=[s for room in ROOMS for s in getattr(room, "SENSORS", [])],
        schedules=[s for room in ROOMS for s in getattr(room, "SCHEDULES", [])],
        jobs=[j for room in ROOMS for j in getattr(room, "JOBS", [])],
        resources=build_resources(root),
        # DuckDB takes one writer: steps of a run execute one after another in one process.
        executor=dg.in_process_executor,
    )


defs = build_definitions()
