"""The submission room as Dagster assets (group ``submission``): ADaM datasets, define.xml, RTF tables.

- ``adsl`` and one BDS dataset per outcome family (``adsleep``, ``adactiv``, ``adqsslp``,
  ``adqspoms``, ``addiary``; one multi-asset, ``adam_bds``): warehouse tables, and files under
  ``<data root>/submission/`` as SAS transport v5 (``.xpt``) and Dataset-JSON v1.1 (``.json``). Each
  asset reads its files back and reports, as asset checks, the exact round trip, the V5 limits and
  its keys;
- ``define_xml``: ``submission/define.xml`` describing the files on disk, checked against the
  Define-XML 2.1 schema;
- ``rtf_tables``: Table 1, the participant flow, the effects and sensitivity tables as RTF under
  ``<data root>/reports/tables/``.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pandas as pd

from mglt_pipeline.analysis.dataset import is_blinded
from mglt_pipeline.registry import OUTCOMES
from mglt_pipeline.report.provenance import is_simulated
from mglt_pipeline.resources import REPORTS_DIR, DataRoot
from mglt_pipeline.submission import adam, checks, rtf
from mglt_pipeline.submission.define import define_xml
from mglt_pipeline.submission.metadata import ADSL, BDS, DATASETS, DatasetSpec
from mglt_pipeline.submission.profile import profile_xpt
from mglt_pipeline.submission.transport import (
    json_differences, limit_problems, write_dataset_json, write_xpt, xpt_differences, xpt_path)

GROUP = "submission"
SUBMISSION_DIR = "submission"
TABLES_DIR = "tables"
DEFINE_FILE = "define.xml"
ROUND_TRIP = "xpt_and_json_round_trip_exact"
V5_LIMITS = "within_xpt_v5_limits"
KEYS = "keys_unique_and_consistent"
DEFINE_VALID = "define_xml_valid_and_complete"
RTF_COMPLETE = "rtf_tables_open_and_hold_every_outcome"


def submission_folder(data_root: DataRoot) -> Path:
    """Where this run writes the ADaM files: aside until the run commits, then each file replaces its
    copy in ``<data root>/submission/`` (the files of the datasets the run did not write stay)."""
    return data_root.output_path("", under=SUBMISSION_DIR)


def current_xpt(data_root: DataRoot, spec: DatasetSpec) -> Path:
    """The dataset's .xpt as this run sees it: written in this run, else the published one."""
    return data_root.current_path(xpt_path(Path(), spec).name, under=SUBMISSION_DIR)


def published(data_root: DataRoot, path: Path, under: str = SUBMISSION_DIR) -> dg.MetadataValue:
    """Where a file this run wrote is found once the run has committed."""
    return dg.MetadataValue.path(str(data_root.root / under / path.name))


def _asset_name(spec: DatasetSpec) -> str:
    return spec.file_stem


def _dataset_checks(spec: DatasetSpec) -> list[dg.AssetCheckSpec]:
    return [dg.AssetCheckSpec(name, asset=_asset_name(spec), description=text) for name, text in (
        (ROUND_TRIP, "The .xpt and .json files read back equal the dataset, value for value."),
        (V5_LIMITS, "Names of at most 8 characters, labels of at most 40, text of at most 200 bytes."),
        (KEYS, "Keys unique; for BDS datasets every USUBJID in ADSL and PARAMCD one to one with PARAM."))]


def _publish(frame: pd.DataFrame, spec: DatasetSpec, data_root: DataRoot, key_problems: list[str],
             created: dt.datetime):
    """Write the dataset's files, read them back, and yield the table and its three checks."""
    folder = submission_folder(data_root)
    xpt = write_xpt(frame, spec, folder)
    document = write_dataset_json(frame, spec, folder, created)
    round_trip = xpt_differences(frame, spec, xpt) + json_differences(frame, spec, document)
    limits = limit_problems(frame, spec)
    name = _asset_name(spec)
    yield dg.Output(frame, output_name=name, metadata={
        "dagster/row_count": dg.MetadataValue.int(len(frame)), "xpt": published(data_root, xpt),
        "dataset_json": published(data_root, document), "xpt_bytes": dg.MetadataValue.int(xpt.stat().st_size)})
    for check, problems in ((ROUND_TRIP, round_trip), (V5_LIMITS, limits), (KEYS, key_problems)):
        yield dg.AssetCheckResult(asset_key=name, check_name=check, passed=not problems,
                                  description="; ".join(problems[:10]) or "ok",
                                  metadata={"problems": dg.MetadataValue.int(len(problems))})


@dg.multi_asset(name="adam_adsl", group_name=GROUP,
                outs={_asset_name(ADSL): dg.AssetOut(description=ADSL.label, kinds={"xpt", "json"})},
                check_specs=_dataset_checks(ADSL))
def adsl_asset(participants: pd.DataFrame, randomization: pd.DataFrame, analysis_dataset: pd.DataFrame,
               participant_adherence: pd.DataFrame, diary_daily: pd.DataFrame, data_root: DataRoot):
    """ADSL: one record per enrolled participant (arms, dates, population flags, end of study, adherence)."""
    frame = adam.derive_adsl(participants, randomization, analysis_dataset, participant_adherence, diary_daily)
    yield from _publish(frame, ADSL, data_root, checks.key_problems(frame, ADSL),
                        dt.datetime.now(dt.timezone.utc))


@dg.multi_asset(name="adam_bds", group_name=GROUP,
                outs={_asset_name(spec): dg.AssetOut(description=f"{spec.label}: one record per participant, "
                                                     "parameter and analysis visit", kinds={"xpt", "json"})
                      for spec in BDS.values()},
                check_specs=[c for spec in BDS.values() for c in _dataset_checks(spec)])
def bds_assets(analysis_dataset: pd.DataFrame, adsl: pd.DataFrame, data_root: DataRoot):
    """One BDS dataset per outcome family, its parameters the family's registry outcomes; one family
    in memory at a time."""
    created = dt.datetime.now(dt.timezone.utc)
    for family, spec in BDS.items():
        frame = adam.derive_bds(analysis_dataset, adsl, family)
        yield from _publish(frame, spec, data_root, checks.bds_problems(frame, adsl, spec), created)


def _read_back(data_root: DataRoot) -> dict[str, pd.DataFrame]:
    """Of each XPT file, the records define.xml needs (``profile_xpt``: read in batches)."""
    return {spec.name: profile_xpt(current_xpt(data_root, spec), spec) for spec in DATASETS}


@dg.asset(name="define_xml", group_name=GROUP, kinds={"xml"},
          deps=[_asset_name(ADSL), *(_asset_name(s) for s in BDS.values())],
          check_specs=[dg.AssetCheckSpec(DEFINE_VALID, asset="define_xml", description=(
              "Well formed, valid against the Define-XML 2.1 schema, and naming exactly the datasets and "
              "variables of the .xpt files on disk."))])
def define_xml_asset(randomization: pd.DataFrame, data_root: DataRoot):
    """Define-XML 2.1 of the ADaM files as written: datasets, variables, codelists, each parameter's
    derivation from the outcome registry; says so while blinded."""
    folder = submission_folder(data_root)
    blinded = is_blinded(randomization)
    path = folder / DEFINE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(define_xml(_read_back(data_root), list(DATASETS), blinded, dt.datetime.now(dt.timezone.utc)))
    problems = checks.schema_problems(path) + checks.coverage_problems(
        path, folder, [p for p in (current_xpt(data_root, spec) for spec in DATASETS) if p.exists()])
    yield dg.MaterializeResult(metadata={"path": published(data_root, path),
                                         "blinded": dg.MetadataValue.bool(blinded),
                                         "size_bytes": dg.MetadataValue.int(path.stat().st_size)})
    yield dg.AssetCheckResult(check_name=DEFINE_VALID, passed=not problems,
                              description="; ".join(problems[:10]) or "valid (Define-XML 2.1 schema) and complete",
                              metadata={"problems": dg.MetadataValue.int(len(problems))})


@dg.asset(name="rtf_tables", group_name=GROUP, kinds={"rtf"},
          check_specs=[dg.AssetCheckSpec(RTF_COMPLETE, asset="rtf_tables", description=(
              "Every RTF file parses (balanced groups, an rtf1 header) and the effects and sensitivity "
              "tables hold a row for every registry outcome."))])
def rtf_tables_asset(baseline_characteristics: pd.DataFrame, participant_flow: pd.DataFrame,
                     treatment_effects: pd.DataFrame, data_root: DataRoot):
    """Table 1, the participant flow, the week-3 effects and the sensitivity analyses as RTF tables,
    as a clinical study report's appendix holds them."""
    folder = data_root.output_path(TABLES_DIR, whole_directory=True)
    paths = rtf.write_rtf_tables(baseline_characteristics, participant_flow, treatment_effects, folder,
                                 simulated=is_simulated(data_root.root))
    problems = [p for path in paths.values() for p in rtf.rtf_problems(path)]
    labels = [o.label for o in OUTCOMES if o.id in set(treatment_effects["outcome"])]
    for name in (rtf.EFFECTS, rtf.SENSITIVITY):
        problems += [f"{name}: no row for {label}" for label in rtf.missing_rows(paths[name], labels)]
    yield dg.MaterializeResult(metadata={name: published(data_root, p, f"{REPORTS_DIR}/{TABLES_DIR}")
                                         for name, p in paths.items()})
    yield dg.AssetCheckResult(check_name=RTF_COMPLETE, passed=not problems,
                              description="; ".join(problems[:10]) or "ok",
                              metadata={"problems": dg.MetadataValue.int(len(problems))})


ASSETS = [adsl_asset, bds_assets, define_xml_asset, rtf_tables_asset]
