"""The validation engine on hand-made frames: no cascade, the smallest unit rejected, conflicts shown.

Every expected entry below is written out by hand from DATA_CONTRACT.md ("What bad input gets").
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from mglt_pipeline.validation.duplicates import (
    FILE_ORDER, collapse_within_files, conflicted_participants, content_hash, supersede_files,
)
from mglt_pipeline.validation.engine import ROW_KEY, CrossFieldRule, validate_rows, with_known_participants
from mglt_pipeline.validation.schemas import PARTICIPANT_RULES, Participants, RedcapExport


class Visit(pa.DataFrameModel):
    participant_id: Series[str] = pa.Field(str_matches=r"^P\d+$", description="must be P and digits", metadata=ROW_KEY)
    score: Series[float] = pa.Field(nullable=True, ge=0, le=4, description="must be empty or a number from 0 to 4")
    status: Series[pd.Int64Dtype] = pa.Field(nullable=True, isin=[0, 1, 2], description="must be 0, 1 or 2")
    source_file: Series[str]


def frame(rows: list[tuple], columns=("participant_id", "score", "status")) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=list(columns), dtype=object)
    out["source_file"] = "raw/x.csv"
    out["_row"] = [str(i) for i in range(1, len(rows) + 1)]
    out["_line"] = [str(i + 1) for i in range(1, len(rows) + 1)]
    return out


def entries(found: pd.DataFrame) -> list[tuple]:
    return [(e["row"], e["line"], e["participant_id"], e["field"], e["value"], e["rule"])
            for e in found.to_dict("records")]


def test_one_bad_cell_of_a_coded_column_rejects_that_cell_only():
    # The cascade of issue 10: one non-numeric "complete" cell once made every row of every file fail
    # "must be 0, 1 or 2". Here only row 2's status is rejected; the other 2s are 2.
    rows = [("P1", "1", "2"), ("P2", "2", "x"), ("P3", "3", "2"), ("P4", "4", "1")]
    valid, found, rejected = validate_rows(frame(rows), Visit.to_schema(), "redcap")
    assert rejected == 0 and valid["participant_id"].tolist() == ["P1", "P2", "P3", "P4"]
    assert valid["status"].tolist() == [2, pd.NA, 2, 1] and valid["score"].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert entries(found) == [("2", "3", "P2", "status", "x", "status must be 0, 1 or 2")]


def test_booleans_non_finite_values_and_text_are_not_numbers():
    rows = [("P1", "true", "1"), ("P2", "Infinity", "1"), ("P3", "NaN", "1"), ("P4", "5", "1.5"),
            ("P5", "", ""), ("P6", "2.5", "2.0")]
    valid, found, rejected = validate_rows(frame(rows), Visit.to_schema(), "diary")
    assert rejected == 0
    assert entries(found) == [
        ("1", "2", "P1", "score", "true", "score must be empty or a number from 0 to 4"),
        ("2", "3", "P2", "score", "Infinity", "score must be empty or a number from 0 to 4"),
        ("3", "4", "P3", "score", "NaN", "score must be empty or a number from 0 to 4"),
        ("4", "5", "P4", "score", "5", "score must be empty or a number from 0 to 4"),
        ("4", "5", "P4", "status", "1.5", "status must be 0, 1 or 2")]
    assert valid["score"].isna().tolist() == [True, True, True, True, True, False]
    assert valid["status"].tolist()[4:] == [pd.NA, 2]


def test_a_bad_key_rejects_the_row_and_a_bad_value_only_its_cell():
    rows = [("P1", "9", "1"), ("Q2", "1", "1"), ("P3", "1", "1")]
    schema = with_known_participants(Visit.to_schema(), ["P1", "Q2"])
    valid, found, rejected = validate_rows(frame(rows), schema, "diary")
    assert rejected == 2 and valid["participant_id"].tolist() == ["P1"]
    assert entries(found) == [
        ("1", "2", "P1", "score", "9", "score must be empty or a number from 0 to 4"),
        ("2", "3", "Q2", "participant_id", "Q2", "participant_id must be P and digits"),
        ("3", "4", "P3", "participant_id", "P3", "participant_id must be a participant listed in participants.csv")]


def test_participant_cross_field_rules_reject_the_field_they_name():
    header = ["participant_id", "site", "age", "sex", "enrolled_on", "first_dose_on", "status", "withdrawn_on",
              "timezone"]
    rows = [
        ("P1", "S", "40", "F", "2025-01-10", "2025-01-05", "completed", "", "UTC"),        # dosed before enrolment
        ("P2", "S", "40", "F", "2025-01-10", "2025-01-12", "completed", "2025-02-01", "UTC"),  # completed + date
        ("P3", "S", "40", "F", "2025-01-10", "2025-01-12", "withdrawn", "2025-01-01", "UTC"),  # withdrawn before
        ("P4", "S", "40", "f", "2025-01-10", "2025-01-12", "withdrawn", "", "UTC"),         # no date; sex f
        ("P5", "S", "40", "F", "2025-02-30", "2025-01-12", "withdrawn", "2025-01-01", "UTC"),  # bad enrolment
    ]
    valid, found, rejected = validate_rows(frame(rows, header), Participants.to_schema(), "participants",
                                           rules=PARTICIPANT_RULES)
    assert rejected == 0 and len(valid) == 5
    assert entries(found) == [
        ("1", "2", "P1", "first_dose_on", "2025-01-05", "first_dose_on must not be before enrolled_on"),
        ("2", "3", "P2", "withdrawn_on", "2025-02-01", "withdrawn_on must be empty exactly when status is "
                                                       "completed (a date when withdrawn or lost to follow-up)"),
        ("3", "4", "P3", "withdrawn_on", "2025-01-01", "withdrawn_on must not be before enrolled_on"),
        ("4", "5", "P4", "sex", "f", "sex must be F, M or X"),
        ("4", "5", "P4", "withdrawn_on", None, "withdrawn_on must be empty exactly when status is "
                                               "completed (a date when withdrawn or lost to follow-up)"),
        ("5", "6", "P5", "enrolled_on", "2025-02-30", "enrolled_on is required: a real date written YYYY-MM-DD")]
    # P5's withdrawal cannot be judged against an enrolment date that is itself rejected.
    assert valid.set_index("participant_id").loc["P5", "withdrawn_on"] == pd.Timestamp("2025-01-01")
    assert pd.isna(valid.set_index("participant_id").loc["P4", "sex"])


def test_a_cross_field_rule_on_a_key_rejects_the_row():
    rule = CrossFieldRule("participant_id", ("score",), lambda f: f["score"].isna() | (f["score"] < 3), "score too high")
    valid, found, rejected = validate_rows(frame([("P1", "1", "1"), ("P2", "3", "1")]), Visit.to_schema(), "x",
                                           rules=(rule,))
    assert rejected == 1 and valid["participant_id"].tolist() == ["P1"]
    assert entries(found)[0][3:] == ("participant_id", "P2", "participant_id score too high")


def test_redcap_items_decimal_comma_and_event_as_key():
    export = pd.DataFrame({"record_id": ["P1", "P1", "P2"], "redcap_event_name": ["baseline_arm_1", "day_7_arm_1", "x"],
                           "lseq_1": ["41,6", "41.6", "4,1,6"], "isi_1": ["1", "5", "1"]}, dtype=object)
    export["source_file"], export["_row"] = "raw/redcap/a.csv", ["1", "2", "3"]
    valid, found, rejected = validate_rows(export, RedcapExport.to_schema(), "redcap", participant_column="record_id",
                                           key_column="redcap_event_name")
    assert rejected == 1 and valid["lseq_1"].tolist() == [41.6, 41.6]
    assert [(e["row"], e["key"], e["field"], e["value"]) for e in found.to_dict("records")] == [
        ("2", "day_7_arm_1", "isi_1", "5"), ("3", "x", "redcap_event_name", "x"), ("3", "x", "lseq_1", "4,1,6")]


def _keyed(rows: list[tuple]) -> pd.DataFrame:
    """Typed rows (file order, participant, value) with row and line."""
    out = pd.DataFrame(rows, columns=[FILE_ORDER, "participant_id", "value"])
    out["source_file"] = [f"raw/f{o}.csv" for o in out[FILE_ORDER]]
    out["_row"] = [str(i) for i in range(1, len(out) + 1)]
    out["_line"] = [str(i + 1) for i in range(1, len(out) + 1)]
    return out


def test_identical_copies_collapse_and_different_ones_are_a_conflict():
    valid = _keyed([(0, "P1", 1.0), (0, "P1", 1.0), (0, "P2", 1.0), (0, "P2", 2.0), (0, "P3", 5.0)])
    kept, found, markers, conflicted, copies = collapse_within_files(valid, ["participant_id"], "randomization")
    assert kept["participant_id"].tolist() == ["P1", "P3"] and (conflicted, copies) == (2, 1)
    assert entries(found) == [
        ("3", "4", "P2", "value", "1", "conflict: row 4 (line 5) of the same file has the same participant_id with "
                                       "a different value; all are quarantined and the value stays missing until "
                                       "the conflict is resolved"),
        ("4", "5", "P2", "value", "2", "conflict: row 3 (line 4) of the same file has the same participant_id with "
                                       "a different value; all are quarantined and the value stays missing until "
                                       "the conflict is resolved")]
    assert conflicted_participants(found) == ["P2"]


def test_later_files_supersede_and_a_later_conflict_leaves_the_key_missing():
    valid = _keyed([(0, "P1", 1.0), (0, "P2", 1.0), (0, "P3", 1.0), (1, "P1", 7.0), (1, "P2", 8.0), (1, "P2", 9.0),
                    (2, "P3", 3.0)])
    kept, _, markers, conflicted, copies = collapse_within_files(valid, ["participant_id"], "diary")
    clean, superseded = supersede_files(kept, markers, ["participant_id"])
    assert dict(zip(clean["participant_id"], clean["value"])) == {"P1": 7.0, "P3": 3.0}
    assert (conflicted, copies, superseded) == (2, 0, 3)
    assert len(valid) == len(clean) + conflicted + copies + superseded


def test_hashes_tell_identical_rows_apart_from_different_ones():
    rows = pd.DataFrame({"a": ["1", "1", "1", None, None], "b": ["x", "x", "y", None, "x"]}, dtype=object)
    hashes = content_hash(rows, ["a", "b"])
    assert hashes[0] == hashes[1] and hashes[0] != hashes[2] and len(np.unique(hashes)) == 4
