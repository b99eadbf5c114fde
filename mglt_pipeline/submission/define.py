"""define.xml (CDISC Define-XML 2.1) for the ADaM datasets as written.

It describes what is on disk, not what was meant to be: each dataset's variables, their lengths and
significant digits are measured on the data written, every parameter of a BDS dataset gets value
level metadata for ``AVAL`` with its derivation from the outcome registry, and the codelists hold
the values that occur. While blinded, the treatment variables and the study description say so.
"""
from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Mapping

import pandas as pd

from mglt_pipeline.submission.metadata import (
    ADAMIG, AVISITS, BDS, STUDY_DESCRIPTION, STUDY_ID, STUDY_NAME, TREATMENTS, DatasetSpec, Variable,
    family_outcomes, parameter_derivation)
from mglt_pipeline.submission.profile import number_shape
from mglt_pipeline.submission.transport import METADATA_VERSION_OID, max_text_bytes

ODM = "http://www.cdisc.org/ns/odm/v1.3"
DEF = "http://www.cdisc.org/ns/def/v2.1"
XLINK = "http://www.w3.org/1999/xlink"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
ET.register_namespace("", ODM)
ET.register_namespace("def", DEF)
ET.register_namespace("xlink", XLINK)
DECODES = {"NY": {"Y": "Yes", "N": "No"}, "SEX": {"F": "Female", "M": "Male", "X": "Other (as collected)"}}
EXTENDED = {("SEX", "X")}
"""Values a CDISC codelist does not have (Define-XML ``def:ExtendedValue``): SEX X is collected as is."""
BLINDED_NOTE = ("Blinded run: unblinding.csv was absent, so the treatments are named by their codes A and B and "
                "no treatment is named anywhere in these datasets.")


def _o(tag: str) -> str:
    return f"{{{ODM}}}{tag}"


def _d(tag: str) -> str:
    return f"{{{DEF}}}{tag}"


def _text(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, tag)
    translated = ET.SubElement(element, _o("TranslatedText"), {XML_LANG: "en"})
    translated.text = text
    return element


def _item_oid(spec: DatasetSpec, variable: Variable) -> str:
    return f"IT.{spec.name}.{variable.name}"


def _codelist_oid(spec: DatasetSpec, variable: Variable) -> str:
    shared = variable.codelist not in ("PARAMCD", "PARAM", "PARCAT1")
    return f"CL.{variable.codelist}" if shared else f"CL.{spec.name}.{variable.codelist}"


def _digits(values: pd.Series, data_type: str) -> tuple[int, int | None]:
    """(Length, SignificantDigits) of a column as written: characters (bytes) of text, digits of
    numbers (significant digits: decimals of the value written with 15 significant digits)."""
    if data_type == "date":
        return 8, None
    if data_type == "text":
        return max(1, max_text_bytes(values)), None
    shapes = [number_shape(v) for v in pd.unique(values.dropna())]
    whole = max([1, *(w for w, _ in shapes)])
    decimals = max([0, *(d for _, d in shapes)])
    return whole + decimals, (decimals if data_type == "float" else None)


def _item_def(parent: ET.Element, spec: DatasetSpec, variable: Variable, values: pd.Series, blinded: bool,
              value_list: str | None = None, oid: str | None = None, name: str | None = None) -> None:
    data_type = "integer" if variable.data_type == "date" else variable.data_type
    length, digits = _digits(values, variable.data_type)
    attributes = {"OID": oid or _item_oid(spec, variable), "Name": name or variable.name,
                  "SASFieldName": variable.name, "DataType": data_type, "Length": str(length)}
    if digits is not None:
        attributes["SignificantDigits"] = str(digits)
    if variable.data_type == "date":
        attributes[_d("DisplayFormat")] = "DATE9."
    if blinded and variable.codelist in ("TRT", "TRTN", "ARM", "ARMCD"):
        attributes[_d("CommentOID")] = "COM.BLINDED"
    item = ET.SubElement(parent, _o("ItemDef"), attributes)
    _text(item, _o("Description"), variable.label)
    if variable.codelist:
        ET.SubElement(item, _o("CodeListRef"), {"CodeListOID": _codelist_oid(spec, variable)})
    origin = ET.SubElement(item, _d("Origin"), {"Type": variable.origin})
    if variable.origin != "Derived":
        _text(origin, _o("Description"), variable.method)
    if value_list:
        ET.SubElement(item, _d("ValueListRef"), {"ValueListOID": value_list})


def _codelist(parent: ET.Element, oid: str, name: str, values: pd.Series, data_type: str,
              decodes: Mapping | None = None) -> None:
    present = sorted((v for v in pd.unique(values.dropna()) if str(v) != ""), key=str)
    codelist = ET.SubElement(parent, _o("CodeList"), {"OID": oid, "Name": name, "DataType": data_type})
    for value in present:
        coded = str(int(value)) if data_type == "integer" else str(value)
        extended = {_d("ExtendedValue"): "Yes"} if (name, coded) in EXTENDED else {}
        if decodes is None:
            ET.SubElement(codelist, _o("EnumeratedItem"), {"CodedValue": coded, **extended})
            continue
        item = ET.SubElement(codelist, _o("CodeListItem"), {"CodedValue": coded, **extended})
        _text(item, _o("Decode"), str(decodes.get(value, decodes.get(coded, coded))))


def _pairs(frames: Mapping[str, pd.DataFrame], code: str, decode: str) -> dict:
    pairs = pd.concat([f[[code, decode]] for f in frames.values() if code in f and decode in f]).drop_duplicates()
    return dict(zip(pairs[code], pairs[decode]))


def _codelists(parent: ET.Element, frames: Mapping[str, pd.DataFrame], specs: list[DatasetSpec]) -> None:
    shared: dict[str, list[pd.Series]] = {}
    for spec in specs:
        frame = frames[spec.name]
        for variable in spec.variables:
            if variable.codelist in ("PARAMCD", "PARAM", "PARCAT1"):
                decodes = _pairs({spec.name: frame}, "PARAMCD", "PARAM") if variable.codelist == "PARAMCD" else None
                _codelist(parent, _codelist_oid(spec, variable), f"{spec.name} {variable.codelist}",
                          frame[variable.name], "text", decodes)
            elif variable.codelist:
                shared.setdefault(variable.codelist, []).append(frame[variable.name])
    decodes = {**DECODES, "ARMCD": _pairs(frames, "ARMCD", "ARM"), "TRTN": _pairs(frames, "TRT01PN", "TRT01P"),
               "AVISITN": {float(k): v for k, v in AVISITS.items()}}
    for name, columns in shared.items():
        data_type = "integer" if name in ("TRTN", "AVISITN") else "text"
        _codelist(parent, f"CL.{name}", name, pd.concat(columns), data_type, decodes.get(name))


def _value_list(parent: ET.Element, spec: DatasetSpec, family: str) -> list[tuple[str, str, str]]:
    """``def:ValueListDef`` of AVAL by PARAMCD; returns (item OID, method OID, PARAMCD) per parameter."""
    entries = []
    value_list = ET.SubElement(parent, _d("ValueListDef"), {"OID": f"VL.{spec.name}.AVAL"})
    for order, outcome in enumerate(family_outcomes(family), start=1):
        item_oid, method_oid = f"IT.{spec.name}.AVAL.{outcome.paramcd}", f"MT.{spec.name}.AVAL.{outcome.paramcd}"
        ref = ET.SubElement(value_list, _o("ItemRef"), {"ItemOID": item_oid, "OrderNumber": str(order),
                                                        "Mandatory": "No", "MethodOID": method_oid})
        ET.SubElement(ref, _d("WhereClauseRef"), {"WhereClauseOID": f"WC.{spec.name}.{outcome.paramcd}"})
        entries.append((item_oid, method_oid, outcome.paramcd))
    return entries


def define_xml(frames: Mapping[str, pd.DataFrame], specs: list[DatasetSpec], blinded: bool,
               created: dt.datetime) -> bytes:
    """The define.xml of ``frames`` (dataset name -> frame as written), one ItemGroupDef per spec."""
    root = ET.Element(_o("ODM"), {"ODMVersion": "1.3.2", "FileType": "Snapshot",
                                  "FileOID": f"DEF.{STUDY_ID}.ADAM", "CreationDateTime": created.strftime("%Y-%m-%dT%H:%M:%S"),
                                  "Originator": "mglt_pipeline", "SourceSystem": "mglt_pipeline",
                                  "SourceSystemVersion": "0.1.0", _d("Context"): "Submission"})
    study = ET.SubElement(root, _o("Study"), {"OID": f"STUDY.{STUDY_ID}"})
    globals_ = ET.SubElement(study, _o("GlobalVariables"))
    description = f"{STUDY_DESCRIPTION}. " + (BLINDED_NOTE if blinded else f"{TREATMENTS}.")
    for tag, text in (("StudyName", STUDY_NAME), ("StudyDescription", description), ("ProtocolName", STUDY_ID)):
        ET.SubElement(globals_, _o(tag)).text = text
    mdv = ET.SubElement(study, _o("MetaDataVersion"), {
        "OID": METADATA_VERSION_OID, "Name": f"{STUDY_ID} ADaM" + (" (blinded)" if blinded else ""),
        "Description": "ADaM datasets of the trial" + (", blinded" if blinded else ""), _d("DefineVersion"): "2.1.0"})
    standards = ET.SubElement(mdv, _d("Standards"))
    ET.SubElement(standards, _d("Standard"), {"OID": "STD.ADAMIG", "Name": ADAMIG[0], "Type": "IG",
                                              "Version": ADAMIG[1], "Status": "Final"})
    families = {spec.name: family for family, spec in BDS.items()}
    value_lists = {spec.name: _value_list(mdv, spec, families[spec.name]) for spec in specs if spec.name in families}
    for name, entries in value_lists.items():
        for _, _, paramcd in entries:
            where = ET.SubElement(mdv, _d("WhereClauseDef"), {"OID": f"WC.{name}.{paramcd}"})
            check = ET.SubElement(where, _o("RangeCheck"), {"SoftHard": "Soft", _d("ItemOID"): f"IT.{name}.PARAMCD",
                                                            "Comparator": "EQ"})
            ET.SubElement(check, _o("CheckValue")).text = paramcd
    for spec in specs:
        group = ET.SubElement(mdv, _o("ItemGroupDef"), {
            "OID": f"IG.{spec.name}", "Name": spec.name, "SASDatasetName": spec.name, "Repeating": "No" if spec.name == "ADSL" else "Yes",
            "IsReferenceData": "No", "Purpose": "Analysis", _d("Structure"): spec.structure,
            _d("StandardOID"): "STD.ADAMIG", _d("ArchiveLocationID"): f"LF.{spec.name}"})
        _text(group, _o("Description"), spec.label)
        for order, variable in enumerate(spec.variables, start=1):
            attributes = {"ItemOID": _item_oid(spec, variable), "OrderNumber": str(order),
                          "Mandatory": "Yes" if variable.name in spec.keys else "No"}
            if variable.name in spec.keys:
                attributes["KeySequence"] = str(spec.keys.index(variable.name) + 1)
            if variable.origin == "Derived":
                attributes["MethodOID"] = f"MT.{spec.name}.{variable.name}"
            ET.SubElement(group, _o("ItemRef"), attributes)
        ET.SubElement(group, _d("Class"), {"Name": spec.adam_class})
        leaf = ET.SubElement(group, _d("leaf"), {"ID": f"LF.{spec.name}", f"{{{XLINK}}}href": f"{spec.file_stem}.xpt"})
        ET.SubElement(leaf, _d("title")).text = f"{spec.file_stem}.xpt"
    for spec in specs:
        frame = frames[spec.name]
        for variable in spec.variables:
            value_list = f"VL.{spec.name}.AVAL" if variable.name == "AVAL" and spec.name in value_lists else None
            _item_def(mdv, spec, variable, frame[variable.name], blinded, value_list)
        for item_oid, _, paramcd in value_lists.get(spec.name, []):
            values = frame.loc[frame["PARAMCD"] == paramcd, "AVAL"]
            _item_def(mdv, spec, spec.variable("AVAL"), values, blinded, oid=item_oid, name="AVAL")
    _codelists(mdv, frames, specs)
    for spec in specs:
        for variable in spec.variables:
            if variable.origin == "Derived":
                method = ET.SubElement(mdv, _o("MethodDef"), {"OID": f"MT.{spec.name}.{variable.name}",
                                                              "Name": f"Derivation of {spec.name}.{variable.name}",
                                                              "Type": "Computation"})
                _text(method, _o("Description"), variable.method)
        for outcome in family_outcomes(families.get(spec.name, "")) if spec.name in families else ():
            method = ET.SubElement(mdv, _o("MethodDef"), {"OID": f"MT.{spec.name}.AVAL.{outcome.paramcd}",
                                                          "Name": f"AVAL of {outcome.paramcd}", "Type": "Computation"})
            _text(method, _o("Description"), parameter_derivation(outcome))
    if blinded:
        _text(ET.SubElement(mdv, _d("CommentDef"), {"OID": "COM.BLINDED"}), _o("Description"), BLINDED_NOTE)
    ET.indent(root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8")
