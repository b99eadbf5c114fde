"""REDCap as real projects export it (DATA_CONTRACT.md, "REDCap exports"; issue 11 acceptance).

Hand-made exports, each value chosen by hand, and simulated exports written with and without a
repeating instrument and another record-id name.
"""
from __future__ import annotations

import pandas as pd
import pytest

from mglt_pipeline.simulate import simulate_trial
from mglt_pipeline.sources.redcap import read_redcap
from mglt_pipeline_tests.ingest_fixtures import csv_text, redcap_header, redcap_row, write

KNOWN = pd.Series(["P001", "P002", "P003"])
DICTIONARY_HEADER = ('"Variable / Field Name","Form Name","Section Header","Field Type","Field Label",'
                     '"Choices, Calculations, OR Slider Labels","Field Note",'
                     '"Text Validation Type OR Show Slider Number","Text Validation Min","Text Validation Max"')


def items(result) -> pd.Series:
    return result.clean.set_index(["participant_id", "event", "instrument", "item"])["value"]


def counts(result) -> tuple:
    assert result.rows_read == (result.rows_clean + result.rows_quarantined + result.rows_superseded
                                + result.rows_set_aside)
    return result.rows_read, result.rows_clean, result.rows_quarantined, result.rows_superseded, result.rows_set_aside


def test_the_first_column_is_the_record_id_whatever_its_name(tmp_path):
    header = redcap_header().replace("record_id", "study_id", 1)
    write(tmp_path / "raw/redcap/a.csv", csv_text(header, [redcap_row("P001", "baseline_arm_1"),
                                                           redcap_row("P404", "baseline_arm_1")]))
    result = read_redcap(tmp_path / "raw", tmp_path, KNOWN)
    assert set(result.clean["participant_id"]) == {"P001"} and counts(result) == (2, 1, 1, 0, 0)
    unknown = result.quarantine.iloc[0]
    assert (unknown["field"], unknown["participant_id"], unknown["key"], unknown["line"]) == (
        "study_id", "P404", "baseline_arm_1", "3")
    assert unknown["rule"] == "study_id must be a participant listed in participants.csv"


def test_decimal_comma_in_lseq_marks(tmp_path):
    row = redcap_row("P001", "baseline_arm_1").split(",")
    row[2 + 7] = '"41,6"'   # lseq_1, quoted as a CSV with a decimal comma must be
    row[2 + 8] = "41.6"     # lseq_2 with a point
    write(tmp_path / "raw/redcap/a.csv", csv_text(redcap_header(), [",".join(row)]))
    result = read_redcap(tmp_path / "raw", tmp_path, KNOWN)
    assert result.quarantine.empty
    assert items(result)[("P001", "baseline_arm_1", "lseq", 1)] == 41.6 == items(result)[("P001", "baseline_arm_1", "lseq", 2)]


def test_a_label_export_is_one_entry_saying_so(tmp_path):
    header = "Record ID,Event Name,Insomnia 1,Complete?\n"
    write(tmp_path / "raw/redcap/labels.csv", header + "P001,Baseline (Arm 1: Arm 1),Mild,Complete\n"
          "P002,Baseline (Arm 1: Arm 1),None,Complete\n")
    raw_header = "record_id,redcap_event_name," + ",".join(f"isi_{i}" for i in range(1, 8)) + ",isi_complete\n"
    write(tmp_path / "raw/redcap/values.csv", raw_header + "P001,Baseline (Arm 1: Arm 1)," + "Mild," * 7 + "Complete\n")
    result = read_redcap(tmp_path / "raw", tmp_path, KNOWN)
    assert len(result.quarantine) == 2 and result.quarantine["row"].isna().all()
    rules = dict(zip(result.quarantine["file"], result.quarantine["rule"]))
    assert "label export" in rules["raw/redcap/labels.csv"] and "'Record ID'" in rules["raw/redcap/labels.csv"]
    assert "raw data" in rules["raw/redcap/values.csv"] and "redcap_event_name holds 'Baseline (Arm 1: Arm 1)'" in rules["raw/redcap/values.csv"]
    assert counts(result) == (3, 0, 3, 0, 0) and result.clean.empty


def _dictionary_row(field: str, choices: str, kind: str = "radio", validation: str = "", low: str = "",
                    high: str = "") -> str:
    return f'{field},form,,{kind},"label","{choices}",,{validation},{low},{high}'


def write_dictionary(root, isi_codes: range, lseq_max: str = "100") -> None:
    rows = [_dictionary_row("record_id", "", "text")]
    rows += [_dictionary_row(f"isi_{i}", " | ".join(f"{c}, answer {c}" for c in isi_codes)) for i in range(1, 8)]
    rows += [_dictionary_row(f"lseq_{i}", "worse | usual | better", "slider", "number", "0", lseq_max) for i in range(1, 11)]
    rows += [_dictionary_row(f"rsq_{i}", "1, a | 2, b | 3, c | 4, d | 5, e", "dropdown") for i in range(1, 10)]
    rows += [_dictionary_row(f"poms_{i}", "0, a | 1, b | 2, c | 3, d | 4, e") for i in range(1, 66)]
    write(root / "raw/redcap/data_dictionary.csv", csv_text(DICTIONARY_HEADER, rows))


def test_a_dictionary_that_agrees_with_the_scoring_changes_nothing(tmp_path):
    write(tmp_path / "raw/redcap/a.csv", csv_text(redcap_header(), [redcap_row("P001", "baseline_arm_1")]))
    write_dictionary(tmp_path, range(0, 5))
    result = read_redcap(tmp_path / "raw", tmp_path, KNOWN)
    assert result.quarantine.empty and result.error is None and len(result.clean) == 91
    assert "raw/redcap/data_dictionary.csv" not in set(result.set_aside_entries["file"])


def test_a_dictionary_coding_mismatch_fails_the_redcap_source_naming_fields_and_codings(tmp_path):
    write(tmp_path / "raw/redcap/a.csv", csv_text(redcap_header(), [redcap_row("P001", "baseline_arm_1"),
                                                                    redcap_row("P002", "baseline_arm_1")]))
    write_dictionary(tmp_path, range(1, 6), lseq_max="10")
    result = read_redcap(tmp_path / "raw", tmp_path, KNOWN)
    assert result.clean.empty and counts(result) == (2, 0, 2, 0, 0)
    assert "isi_1 (whole numbers 1..5)" in result.error and "lseq_10 (numbers 0..10)" in result.error
    dictionary = result.quarantine[result.quarantine["file"] == "raw/redcap/data_dictionary.csv"]
    assert sorted(dictionary["field"]) == sorted([f"isi_{i}" for i in range(1, 8)] + [f"lseq_{i}" for i in range(1, 11)])
    isi_1 = dictionary.set_index("field").loc["isi_1"]
    assert (isi_1["row"], isi_1["line"]) == ("2", "3")
    assert isi_1["rule"] == ("isi_1 is coded as whole numbers 1..5 in the data dictionary where the scoring expects "
                             "whole numbers 0..4 (INSTRUMENTS.md): no REDCap score is computed until they agree")
    assert "numbers 0..10" in dictionary.set_index("field").loc["lseq_3", "rule"]
    export = result.quarantine[result.quarantine["file"] == "raw/redcap/a.csv"]
    assert len(export) == 1 and "data dictionary" in export["rule"].iloc[0]


def test_other_events_other_forms_and_repeat_rows(tmp_path):
    header = redcap_header().replace("redcap_event_name,", "redcap_event_name,redcap_repeat_instrument,"
                                     "redcap_repeat_instance,redcap_data_access_group,redcap_survey_identifier,", 1)
    header += ",cm_drug,meds___1,meds___2,concomitant_medication_complete"
    main = lambda pid, event, **kw: redcap_row(pid, event, **kw).replace(f"{pid},{event},", f"{pid},{event},,,site_a,,", 1) + ",,,,"  # noqa: E731
    blank = "," * (7 + 10 + 9 + 65 + 2)
    rows = [main("P001", "baseline_arm_1"),
            f"P001,baseline_arm_1,concomitant_medication,1,,{blank},ibuprofen,1,0,2",
            f"P001,baseline_arm_1,concomitant_medication,2,,{blank},melatonin,0,1,2",
            main("P001", "screening_arm_1"),
            main("P404", "screening_arm_1"),  # a screen failure: not in participants.csv, not a fault
            f"P002,day_7_arm_1,isi,1,,{','.join(['2'] * 7)}{blank[6:]},,,,",
            main("P002", "day_7_arm_1", isi=["1"] * 7)]
    write(tmp_path / "raw/redcap/a.csv", csv_text(header, rows))
    result = read_redcap(tmp_path / "raw", tmp_path, KNOWN)
    assert counts(result) == (7, 2, 1, 0, 4)
    reasons = result.set_aside_entries.set_index("row")["reason"].to_dict()
    assert reasons["2"] == "instance 1 of the repeating instrument concomitant_medication, which is not analysed"
    assert reasons["4"].startswith("event screening_arm_1 is not one of the analysed events")
    assert set(reasons) == {"2", "3", "4", "5"}
    repeat = result.quarantine.iloc[0]
    assert (repeat["row"], repeat["field"], repeat["value"], repeat["participant_id"]) == (
        "6", "redcap_repeat_instrument", "isi", "P002")
    assert repeat["rule"].startswith("isi is exported as a repeating instrument (instance 1)")
    # The instance rows never replace the event's own row: week 1 ISI stays 1, not the instance's 2.
    assert items(result)[("P002", "day_7_arm_1", "isi", 1)] == 1.0
    assert set(result.columns_ignored["raw/redcap/a.csv"]) == {
        "redcap_data_access_group", "redcap_survey_identifier", "cm_drug", "meds___1", "meds___2",
        "concomitant_medication_complete"}


def test_one_record_and_event_twice_with_different_answers_is_a_conflict(tmp_path):
    write(tmp_path / "raw/redcap/export_1.csv", csv_text(redcap_header(), [
        redcap_row("P001", "baseline_arm_1", isi=["3"] * 7), redcap_row("P002", "baseline_arm_1")]))
    write(tmp_path / "raw/redcap/export_2.csv", csv_text(redcap_header(), [
        redcap_row("P001", "baseline_arm_1", isi=["1"] * 7), redcap_row("P002", "baseline_arm_1"),
        redcap_row("P001", "baseline_arm_1", isi=["2"] * 7), redcap_row("P002", "baseline_arm_1")]))
    result = read_redcap(tmp_path / "raw", tmp_path, KNOWN)
    # export_2 holds P001 twice with different ISI answers: a conflict, so P001's baseline is
    # missing (export_1's older copy is superseded, not resurrected); P002's identical copies collapse.
    assert set(result.clean["participant_id"]) == {"P002"}
    assert counts(result) == (6, 1, 2, 3, 0)
    conflict = result.quarantine.sort_values("row")
    assert conflict["row"].tolist() == ["1", "3"] and conflict["field"].tolist() == ["isi_1", "isi_1"]
    assert conflict["rule"].iloc[0].startswith("conflict: row 3 (line 4) of the same file has the same record_id "
                                               "and redcap_event_name with a different isi_1, isi_2")


def test_a_later_export_of_some_forms_only_supersedes_those_forms(tmp_path):
    write(tmp_path / "raw/redcap/export_2.csv", csv_text(redcap_header(), [redcap_row("P001", "baseline_arm_1")]))
    isi_only = "record_id,redcap_event_name," + ",".join(f"isi_{i}" for i in range(1, 8)) + ",isi_complete"
    write(tmp_path / "raw/redcap/export_10.csv", csv_text(isi_only, ["P001,baseline_arm_1,4,4,4,4,4,4,4,2"]))
    result = read_redcap(tmp_path / "raw", tmp_path, KNOWN)
    values = items(result)
    assert values[("P001", "baseline_arm_1", "isi", 1)] == 4.0     # export_10 comes after export_2
    assert values[("P001", "baseline_arm_1", "lseq", 1)] == 50.0   # and does not blank the LSEQ
    assert len(result.clean) == 91 and counts(result) == (2, 2, 0, 0, 0)


def test_a_file_holding_part_of_an_instrument_is_one_entry(tmp_path):
    header = redcap_header().replace(",isi_7,", ",", 1)
    row = redcap_row("P001", "baseline_arm_1").split(",")
    del row[8]
    write(tmp_path / "raw/redcap/a.csv", csv_text(header, [",".join(row)]))
    result = read_redcap(tmp_path / "raw", tmp_path, KNOWN)
    entry = result.quarantine.iloc[0]
    assert (entry["field"], pd.isna(entry["row"])) == ("isi_7", True)
    assert "holds only some isi items" in entry["rule"]
    assert set(result.clean["instrument"]) == {"lseq", "rsq", "poms"}


@pytest.fixture(scope="module")
def simulated_pair(tmp_path_factory):
    """The same simulated trial twice: plain exports, and with a repeating instrument and study_id."""
    plain, project = tmp_path_factory.mktemp("plain"), tmp_path_factory.mktemp("project")
    simulate_trial(plain, participants=6, seed=4)
    simulate_trial(project, participants=6, seed=4, redcap_record_id="study_id", redcap_repeating=True)
    known = pd.read_csv(plain / "raw/participants.csv", dtype=str)["participant_id"]
    return read_redcap(plain / "raw", plain, known), read_redcap(project / "raw", project, known), project


def test_exports_with_a_repeating_instrument_give_identical_questionnaire_values(simulated_pair):
    plain, project, root = simulated_pair
    pd.testing.assert_frame_equal(plain.clean, project.clean)
    assert plain.quarantine.empty and project.quarantine.empty
    instance_rows = sum((pd.read_csv(f, dtype=str)["redcap_repeat_instrument"].notna()).sum()
                        for f in (root / "raw/redcap").glob("*.csv"))
    assert instance_rows > 0 and project.rows_set_aside == instance_rows
    assert project.rows_read == plain.rows_read + instance_rows
    assert (project.rows_clean, project.rows_superseded) == (plain.rows_clean, plain.rows_superseded)
    assert set(project.columns_ignored["raw/redcap/export_1.csv"]) == {
        "cm_drug", "cm_dose_mg", "concomitant_medication_complete"}
