"""What a reviewer's tools check on ADaM datasets and define.xml, as functions that name each problem.

- ADSL: one record per participant (USUBJID unique), STUDYID constant;
- BDS: keys unique (USUBJID, PARAMCD, AVISITN), every USUBJID in ADSL, PARAMCD and PARAM one to one,
  PARAMCD at most 8 characters;
- define.xml: well formed, valid against the CDISC Define-XML 2.1 schema (the XSDs as the ``odmlib``
  package ships them), and naming exactly the datasets and variables that exist on disk.
"""
from __future__ import annotations

import functools
import importlib.resources
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
from lxml import etree

from mglt_pipeline.submission.define import DEF, ODM
from mglt_pipeline.submission.metadata import DatasetSpec

DEFINE_XSD = "schemas/define/2.1/define2-1-0.xsd"


def key_problems(frame: pd.DataFrame, spec: DatasetSpec) -> list[str]:
    """Duplicate keys (and, for any dataset, more than one STUDYID)."""
    problems = []
    duplicated = frame.duplicated(list(spec.keys), keep=False)
    if duplicated.any():
        problems.append(f"{spec.name}: {int(duplicated.sum())} records share a key {'/'.join(spec.keys)}")
    if frame["STUDYID"].nunique() > 1:
        problems.append(f"{spec.name}: STUDYID takes {frame['STUDYID'].nunique()} values")
    return problems


def bds_problems(bds: pd.DataFrame, adsl: pd.DataFrame, spec: DatasetSpec) -> list[str]:
    """Subjects missing from ADSL, PARAMCD/PARAM not one to one, PARAMCD longer than 8 characters."""
    problems = key_problems(bds, spec)
    orphans = sorted(set(bds["USUBJID"]) - set(adsl["USUBJID"]))
    if orphans:
        problems.append(f"{spec.name}: {len(orphans)} USUBJID not in ADSL, e.g. {orphans[:3]}")
    pairs = bds[["PARAMCD", "PARAM"]].drop_duplicates()
    for column in ("PARAMCD", "PARAM"):
        repeated = pairs.loc[pairs[column].duplicated(), column].tolist()
        if repeated:
            problems.append(f"{spec.name}: {column} {repeated} paired with more than one "
                            f"{'PARAM' if column == 'PARAMCD' else 'PARAMCD'}")
    long_codes = sorted({c for c in pairs["PARAMCD"] if len(c) > 8})
    if long_codes:
        problems.append(f"{spec.name}: PARAMCD longer than 8 characters: {long_codes}")
    return problems


@functools.cache
def define_schema() -> etree.XMLSchema:
    """The Define-XML 2.1 schema (with the ODM 1.3.2 schemas it extends), loaded once by libxml2
    from the files ``odmlib`` installs; the parser never reaches the network."""
    path = importlib.resources.files("odmlib") / DEFINE_XSD
    return etree.XMLSchema(etree.parse(str(path), etree.XMLParser(no_network=True)))


def schema_problems(define: Path, limit: int = 20) -> list[str]:
    """Where define.xml breaks the Define-XML 2.1 schema (empty when valid)."""
    try:
        document = etree.parse(str(define), etree.XMLParser(no_network=True))
    except etree.XMLSyntaxError as error:
        return [f"define.xml is not well formed: {error}"]
    schema = define_schema()
    if schema.validate(document):
        return []
    return [f"schema, line {e.line}: {e.message}" for e in list(schema.error_log)[:limit]]


def coverage_problems(define: Path, folder: Path, xpt_files: list[Path] | None = None) -> list[str]:
    """Datasets or variables present on disk (``*.xpt`` in ``folder``, or the files ``xpt_files``) and
    not described in define.xml, or described and absent."""
    try:
        root = ET.parse(define).getroot()
    except ET.ParseError as error:
        return [f"define.xml is not well formed: {error}"]
    ns = {"odm": ODM, "def": DEF}
    items = {i.get("OID"): i.get("Name") for i in root.iterfind(".//odm:ItemDef", ns)}
    described = {g.get("Name"): [items.get(r.get("ItemOID")) for r in g.iterfind("odm:ItemRef", ns)]
                 for g in root.iterfind(".//odm:ItemGroupDef", ns)}
    import pyreadstat  # imported when used (slow to import)

    on_disk = {}
    for path in sorted(Path(folder).glob("*.xpt") if xpt_files is None else xpt_files):
        _, meta = pyreadstat.read_xport(str(path), metadataonly=True)
        on_disk[meta.table_name] = list(meta.column_names)
    problems = [f"dataset {name} on disk, not in define.xml" for name in on_disk if name not in described]
    problems += [f"dataset {name} in define.xml, not on disk" for name in described if name not in on_disk]
    for name in set(on_disk) & set(described):
        if on_disk[name] != described[name]:
            missing = [v for v in on_disk[name] if v not in described[name]]
            extra = [v for v in described[name] if v not in on_disk[name]]
            problems.append(f"{name}: variables not described {missing}, described but absent {extra}"
                            if missing or extra else f"{name}: variables described in another order")
    return problems
