"""The REDCap reader on real exports and data dictionaries of REDCapR's and redcapAPI's test projects
(``data/real/redcap``, PROVENANCE.md). Their instruments are not ours, so what must hold is how the
files are recognised: the record-id column, other events, other forms and their repeat rows set aside
with reasons, identifiers dropped, label exports recognised, dictionaries parsed.
"""
from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pandas as pd
import pytest

from mglt_pipeline.sources.files import read_csv_text
from mglt_pipeline.sources.redcap import read_redcap
from mglt_pipeline.sources.redcap_dictionary import Coding, check_dictionary, field_coding, read_dictionary
from mglt_pipeline.sources.redcap_layout import RECORD_ID, plan_export, split_export
from mglt_pipeline.sources.redcap import REDCAP

REAL = Path(__file__).parent / "data" / "real" / "redcap"
EXPORTS = sorted(p.name for p in REAL.glob("*.csv") if "dictionary" not in p.name and "metadata" not in p.name)


def header(name: str) -> list[str]:
    return list(read_csv_text(REAL / name).frame.columns[:-2])


def export_frame(name: str) -> pd.DataFrame:
    """A real export as the reader holds it before the layout step: first column ``record_id``."""
    frame = read_csv_text(REAL / name).frame
    frame = frame.rename(columns={frame.columns[0]: RECORD_ID})
    return frame.assign(source_file=f"raw/redcap/{name}")


@pytest.fixture(scope="module")
def read_all(tmp_path_factory):
    """Every real export in one redcap folder, read by the pipeline's reader."""
    root = tmp_path_factory.mktemp("real_redcap")
    (root / "raw/redcap").mkdir(parents=True)
    for name in EXPORTS:
        shutil.copy(REAL / name, root / "raw/redcap" / name)
    logger = logging.getLogger("mglt_pipeline.validation.privacy")
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        result = read_redcap(root / "raw", root, pd.Series([], dtype=object))
    finally:
        logger.removeHandler(handler)
    return result, [r.getMessage() for r in records]


def test_the_record_id_is_the_first_column_whatever_its_name():
    assert plan_export(REDCAP.schema, header("redcapr_longitudinal_data.csv"), "f", []).rename == {"study_id": RECORD_ID}
    assert plan_export(REDCAP.schema, header("redcapapi_records.csv"), "f", []).rename == {}
    survey = plan_export(REDCAP.schema, header("redcapr_survey_data.csv"), "f", [])
    assert survey.reject == [("redcap_event_name", "the file lacks the required column redcap_event_name")]


def test_other_instruments_checkboxes_and_redcap_columns_are_listed_as_ignored():
    plan = plan_export(REDCAP.schema, header("redcapapi_records.csv"), "f", [])
    assert {"redcap_data_access_group", "treatment", "prereq_checkbox___abc", "record_id_complete"} <= set(plan.ignored)
    assert plan.set_aside == "the export holds none of the analysed instruments (isi, lseq, rsq, poms)"
    longitudinal = plan_export(REDCAP.schema, header("redcapr_longitudinal_data.csv"), "f", [])
    assert {"gym___0", "meds___1", "specify_mood"} <= set(longitudinal.ignored)


def test_other_events_are_set_aside_with_their_event():
    frame = export_frame("redcapr_longitudinal_data.csv")
    kept, set_aside, entries, quarantined = split_export(frame, events=("enrollment_arm_1",))
    assert kept[RECORD_ID].tolist() == ["100", "220", "304", "330", "340", "400", "410"][:len(kept)]
    assert len(kept) + len(set_aside) == len(frame) == 18 and entries == [] and quarantined == 0
    first = set_aside[0]
    assert (first["row"], first["participant_id"], first["key"]) == ("2", "100", "dose_1_arm_1")
    assert first["reason"] == "event dose_1_arm_1 is not one of the analysed events (enrollment_arm_1)"


def test_repeat_rows_of_forms_not_analysed_are_set_aside_and_of_analysed_forms_quarantined():
    frame = export_frame("redcapapi_records.csv")
    kept, set_aside, entries, _ = split_export(frame, events=("event_1_arm_1",))
    assert len(kept) == 20 and len(set_aside) == 20 and not entries
    assert {s["reason"] for s in set_aside} == {
        "instance 1 of the repeating instrument files_notes_descriptions, which is not analysed"}
    assert (kept[RECORD_ID].tolist(), [s["row"] for s in set_aside][:2]) == ([str(i) for i in range(1, 21)], ["2", "4"])
    vignette = export_frame("redcapr_vignette_repeating_data.csv")
    kept, set_aside, entries, quarantined = split_export(vignette, forms=("blood_pressure",))
    assert kept[RECORD_ID].tolist() == ["1", "2"] and quarantined == 6 == len(entries)
    assert entries[0]["rule"].startswith("blood_pressure is exported as a repeating instrument (instance 1)")
    assert {s["reason"].split(" of the repeating instrument ")[1] for s in set_aside} == {
        "laboratory, which is not analysed", "image, which is not analysed"}


def test_every_real_export_is_accounted_for(read_all):
    result, _ = read_all
    assert result.clean.empty
    assert result.rows_read == result.rows_quarantined + result.rows_set_aside + result.rows_clean == 18 + 40 + 6 + 17 + 4 + 3 + 2 + 5 + 5
    whole = result.set_aside_entries[result.set_aside_entries["row"].isna()]
    assert set(whole["file"]) == {"raw/redcap/redcapr_longitudinal_data.csv", "raw/redcap/redcapapi_records.csv"}
    rules = result.quarantine.groupby("file")["rule"].first()
    for name in ("redcapr_repeating_instruments_data.csv", "redcapr_vignette_repeating_data.csv",
                 "redcapr_decimal_comma_data.csv", "redcapr_dag_data.csv", "redcapr_survey_data.csv"):
        assert rules[f"raw/redcap/{name}"] == "the file lacks the required column redcap_event_name"
    assert len(result.quarantine) == 7 and result.quarantine["row"].isna().all()


def test_label_exports_are_recognised(read_all):
    result, _ = read_all
    rules = result.quarantine.set_index("file")["rule"]
    assert rules["raw/redcap/redcapr_simple_label_headers.csv"] == (
        "raw/redcap/redcapr_simple_label_headers.csv is a REDCap label export ('CSV (labels)': headers such as "
        "'Study ID'): answers written as text cannot be scored; export the raw data instead "
        "('CSV / Microsoft Excel (raw data)')")
    assert "label export" in rules["raw/redcap/redcapr_simple_label_values.csv"]
    assert "demographics_complete holds 'Complete'" in rules["raw/redcap/redcapr_simple_label_values.csv"]


def test_identifier_columns_of_real_exports_are_dropped_with_a_log_line(read_all):
    result, messages = read_all
    dropped = result.dropped_identifiers
    assert set(dropped["raw/redcap/redcapr_longitudinal_data.csv"]) == {
        "first_name", "last_name", "telephone_1", "email", "dob", "ec_phone", "next_of_kin_contact_phone",
        "next_of_kin_contact_address", "next_of_kin_contact_name"}
    assert set(dropped["raw/redcap/redcapapi_records.csv"]) >= {"email_test", "phone_test", "zipcode_test"}
    assert any("first_name, last_name, telephone_1, email, dob" in m for m in messages)


# Field counts: the files' non-blank data records, counted with Python's csv module.
@pytest.mark.parametrize("name, fields", [
    ("redcapr_longitudinal_dictionary.csv", 95), ("redcapr_survey_dictionary.csv", 25),
    ("redcapr_vignette_repeating_dictionary.csv", 9), ("redcapr_decimal_comma_dictionary.csv", 5),
    ("redcapapi_data_dictionary.csv", 57), ("redcapapi_metadata.csv", 68)])
def test_real_dictionaries_parse(name, fields):
    rows = read_dictionary(REAL / name)
    assert len(rows) == fields and rows[0]["field"] in ("record_id", "study_id", "participant_id")


def test_codings_read_from_real_dictionaries():
    def coding(name: str, field: str):
        return field_coding(next(r for r in read_dictionary(REAL / name) if r["field"] == field))

    assert coding("redcapr_longitudinal_dictionary.csv", "ethnicity") == Coding(0, 2, True)
    assert coding("redcapr_longitudinal_dictionary.csv", "specify_mood") == Coding(0, 100, False)
    assert coding("redcapr_longitudinal_dictionary.csv", "num_children") == Coding(0, None, True)
    assert coding("redcapr_longitudinal_dictionary.csv", "height") == Coding(130, 215, False)
    assert coding("redcapr_decimal_comma_dictionary.csv", "height") == Coding(0, 3, False)
    assert coding("redcapapi_data_dictionary.csv", "treatment") == Coding(1, 2, True)
    assert coding("redcapapi_data_dictionary.csv", "slider_no_label_test") == Coding(0, 50, False)
    assert coding("redcapapi_metadata.csv", "prereq_radio").startswith("radio with the choices 1, Radio1 |")


def test_a_real_dictionary_of_another_project_fails_the_check_for_every_item(tmp_path):
    entries, failed = check_dictionary(REAL / "redcapr_longitudinal_dictionary.csv", "raw/redcap/data_dictionary.csv",
                                       REDCAP.schema)
    assert failed and len(entries) == 7 + 10 + 9 + 65
    assert entries[0]["rule"] == ("isi_1 is coded as absent from the data dictionary in the data dictionary where "
                                  "the scoring expects whole numbers 0..4 (INSTRUMENTS.md): no REDCap score is "
                                  "computed until they agree")
