"""The whole graph in one place: assets, checks, resources, sensors and schedules.

This is the module ``workspace.yaml`` (and so ``dagster dev``) loads. Every other module only
defines; a reader starts here. The rooms, in the order the data flows:

- ``ingest``: raw files of each source -> clean tables (groups participants, randomization, oura,
  redcap, diary) and the quarantine (group data_quality);
- ``scoring``: questionnaire items -> ISI, LSEQ, RSQ-W and POMS scores (group scored);
- ``analysis``: study days, weekly windows (group windows), the analysis dataset, Table 1, the
  participant flow and adverse events (group analysis);
- ``adherence``: Oura wear night by night with the reason a night is missing, diary completion,
  supplement adherence and each outcome's missingness (group adherence);
- ``expectations``: Great Expectations across rows and tables, with Data Docs (a check);
- ``effects``: one mixed model per registry outcome, the effects table and forest plot
  (group treatment_effects);
- ``submission``: CDISC ADaM datasets as SAS transport and Dataset-JSON files with define.xml, and the
  RTF tables of the study report (group submission);
- ``report``: the self-contained HTML trial report and the CONSORT diagram (group report);
- ``automation``: the raw-data sensor, the daily schedule and the job they launch;
- ``pull``: the Oura API and REDCap API pulls into ``raw/`` (group pull), their job and hourly
  schedule; what they write is picked up by the raw-data sensor like any other file.
"""
from __future__ import annotations

from pathlib import Path

import dagster as dg

from mglt_pipeline.automation.versions import with_code_versions
from mglt_pipeline.defs import (adherence, analysis, automation, effects, expectations, ingest, pull, report,
                                scoring, submission)
from mglt_pipeline.pull.resources import pull_resources
from mglt_pipeline.resources import build_resources, default_data_root, roll_back_failed_runs

ROOMS = (ingest, scoring, analysis, adherence, expectations, effects, submission, report, automation, pull)


def _rolled_back_on_failure(definitions: list) -> list:
    """Every asset and check with the hook that rolls its run's writes back when a step fails."""
    return [d.with_hooks({roll_back_failed_runs}) if isinstance(d, dg.AssetsDefinition) else d for d in definitions]


def build_definitions(data_root: Path | str | None = None) -> dg.Definitions:
    """Definitions for one data root (default: ``$MGLT_DATA_DIR`` or the repository's ``data/``)."""
    root = Path(data_root) if data_root is not None else default_data_root()
    return dg.Definitions(
        assets=[*ingest.RAW_SOURCES, *_rolled_back_on_failure(
            with_code_versions([a for room in ROOMS for a in getattr(room, "ASSETS", [])], ROOMS))],
        asset_checks=_rolled_back_on_failure([c for room in ROOMS for c in getattr(room, "CHECKS", [])]),
        sensors=[s for room in ROOMS for s in getattr(room, "SENSORS", [])],
        schedules=[s for room in ROOMS for s in getattr(room, "SCHEDULES", [])],
        jobs=[j for room in ROOMS for j in getattr(room, "JOBS", [])],
        resources={**build_resources(root), **pull_resources(root)},
        # DuckDB takes one writer: steps of a run execute one after another in one process.
        executor=dg.in_process_executor,
    )


defs = build_definitions()
