"""REDCap faults of the fault-injection table (issue 10 "Why", DATA_CONTRACT.md "REDCap exports").

Each plant function changes one thing in ``raw/redcap`` of a copy of the clean trial and returns what
must follow (``fault_injection.Planted``): every expected quarantine and set-aside entry written out
from the cell it planted, and the outcomes it may touch.
"""
from __future__ import annotations

from pathlib import Path

from mglt_pipeline_tests.fault_injection import (
    QUESTIONNAIRES, Fault, Planted, StartsWith, append_rows, entry, outcomes_of, read_csv, relative, row_cells,
    set_cell, write_csv,
)

EVENTS = "baseline_arm_1, day_7_arm_1, day_14_arm_1, day_21_arm_1"
OTHER_EVENT = f"event screening_arm_1 is not one of the analysed events ({EVENTS})"


def export(raw: Path, n: int = 1) -> Path:
    return raw / "redcap" / f"export_{n}.csv"


def _cell_fault(column: str, value: str, rule: str, touches, row: int = 2):
    """One cell of the latest export (whose rows are final, so a bad item reaches the scores)."""
    def plant(raw: Path) -> Planted:
        path = export(raw, 2)
        cells = row_cells(path, row)
        set_cell(path, row, column, value)
        return Planted([entry("redcap", path, row, column, value, rule, cells["record_id"],
                              cells["redcap_event_name"])], touches=frozenset(touches), must_change=bool(touches))
    return plant


def repeated_header(raw: Path) -> Planted:
    path = export(raw)
    header, rows = read_csv(path)
    write_csv(path, header, rows[:3] + [list(header)] + rows[3:])
    return Planted([entry("redcap", path, 4, None, None,
                          "the line repeats the header (two exports joined?), so it holds no data")])


def _misshapen(cut: bool):
    def plant(raw: Path) -> Planted:
        path, row = export(raw, 2), 5 if cut else 6
        header, rows = read_csv(path)
        pid, event = rows[row - 1][:2]
        rows[row - 1] = rows[row - 1][:50] if cut else rows[row - 1] + ["extra"]
        write_csv(path, header, rows)
        n = len(rows[row - 1])
        return Planted([entry("redcap", path, row, None, None, f"the line has {n} cells where the header has "
                              f"{len(header)}, so its cells cannot be matched to columns", pid, event)],
                       touches=QUESTIONNAIRES, must_change=True)
    return plant


def conflict(raw: Path) -> Planted:
    path, row = export(raw, 2), 7
    header, rows = read_csv(path)
    copy = list(rows[row - 1])
    position = header.index("isi_1")
    before = copy[position]
    copy[position] = "0" if before != "0" else "1"
    other = append_rows(path, [copy])
    pid, event = copy[:2]
    rule = ("conflict: row {} (line {}) of the same file has the same record_id and redcap_event_name with a "
            "different isi_1; all are quarantined and the value stays missing until the conflict is resolved")
    return Planted([entry("redcap", path, row, "isi_1", before, rule.format(other, other + 1), pid, event),
                    entry("redcap", path, other, "isi_1", copy[position], rule.format(row, row + 1), pid, event)],
                   touches=QUESTIONNAIRES, must_change=True)


def identical_copy(raw: Path) -> Planted:
    path = export(raw)
    append_rows(path, [read_csv(path)[1][7]])

    def superseded(run) -> None:
        assert run.ingested["redcap"].rows_superseded >= 1
    return Planted(checks=[superseded])


def label_export(raw: Path) -> Planted:
    path = raw / "redcap" / "export_3_labels.csv"
    path.write_text("Record ID,Event Name,Insomnia item 1,Complete?\nP001,Baseline (Arm 1: Arm 1),Mild,Complete\n")
    rule = (f"{relative(path)} is a REDCap label export ('CSV (labels)': headers such as 'Record ID'): answers "
            "written as text cannot be scored; export the raw data instead ('CSV / Microsoft Excel (raw data)')")
    return Planted([entry("redcap", path, None, None, None, rule)])


def other_event(raw: Path) -> Planted:
    path = export(raw)
    copy = read_csv(path)[1][1]
    copy[1] = "screening_arm_1"
    row = append_rows(path, [copy])
    return Planted(set_aside=[{"source": "redcap", "file": relative(path), "row": row, "participant_id": copy[0],
                               "key": "screening_arm_1", "reason": OTHER_EVENT}])


def _with_repeat_columns(path: Path, form: str, extra: dict[str, str]) -> tuple[int, list[str]]:
    """The export with the repeat columns and one instance row of ``form`` after row 1."""
    header, rows = read_csv(path)
    header = header[:2] + ["redcap_repeat_instrument", "redcap_repeat_instance"] + header[2:] + list(extra)
    main = [r[:2] + ["", ""] + r[2:] + [""] * len(extra) for r in rows]
    instance = [main[0][0], main[0][1], form, "1"] + [""] * (len(header) - 4)
    for column, value in extra.items():
        instance[header.index(column)] = value
    write_csv(path, header, main[:1] + [instance] + main[1:])
    return 2, instance


def analysed_form_repeating(raw: Path) -> Planted:
    path = export(raw, 2)
    header, _ = read_csv(path)
    row, instance = _with_repeat_columns(path, "isi", {})
    rule = ("isi is exported as a repeating instrument (instance 1): the analysis takes one isi per participant "
            "and event, so its instance rows are not used; make isi a non-repeating instrument")
    return Planted([entry("redcap", path, row, "redcap_repeat_instrument", "isi", rule, instance[0], instance[1])])


def other_form_repeating(raw: Path) -> Planted:
    path = export(raw, 2)
    row, instance = _with_repeat_columns(path, "concomitant_medication",
                                         {"cm_drug": "melatonin", "concomitant_medication_complete": "2"})
    return Planted(set_aside=[{"source": "redcap", "file": relative(path), "row": row, "participant_id": instance[0],
                               "key": instance[1], "reason": "instance 1 of the repeating instrument "
                                                             "concomitant_medication, which is not analysed"}])


def study_id(raw: Path) -> Planted:
    for path in (export(raw), export(raw, 2)):
        header, rows = read_csv(path)
        write_csv(path, ["study_id", *header[1:]], rows)
    return Planted()


def decimal_comma(raw: Path) -> Planted:
    path = export(raw)
    header, rows = read_csv(path)
    position = header.index("lseq_4")
    row = next(i for i, r in enumerate(rows, 1) if "." in r[position])
    set_cell(path, row, "lseq_4", rows[row - 1][position].replace(".", ","))
    return Planted()


def dictionary_mismatch(raw: Path) -> Planted:
    path = raw / "redcap" / "data_dictionary.csv"
    header = ["Variable / Field Name", "Form Name", "Field Type", "Field Label", "Choices, Calculations, OR Slider Labels"]
    rows = [["record_id", "enrolment", "text", "Record ID", ""]]
    rows += [[f"isi_{i}", "isi", "radio", f"ISI {i}", "1, a | 2, b | 3, c | 4, d | 5, e"] for i in range(1, 8)]
    rows += [[f"lseq_{i}", "lseq", "slider", f"LSEQ {i}", "worse | usual | better"] for i in range(1, 11)]
    rows += [[f"rsq_{i}", "rsq", "radio", f"RSQ {i}", "1, a | 2, b | 3, c | 4, d | 5, e"] for i in range(1, 10)]
    rows += [[f"poms_{i}", "poms", "radio", f"POMS {i}", "0, a | 1, b | 2, c | 3, d | 4, e"] for i in range(1, 66)]
    write_csv(path, header, rows)
    entries = [entry("redcap", path, i + 1, f"isi_{i}", "whole numbers 1..5",
                     f"isi_{i} is coded as whole numbers 1..5 in the data dictionary where the scoring expects whole "
                     "numbers 0..4 (INSTRUMENTS.md): no REDCap score is computed until they agree") for i in range(1, 8)]
    entries += [entry("redcap", export(raw, n), None, None, None, StartsWith("not used: the REDCap data dictionary"))
                for n in (1, 2)]

    def failed(run) -> None:
        assert "isi_1 (whole numbers 1..5)" in run.ingested["redcap"].error and run.ingested["redcap"].clean.empty
    return Planted(entries, touches=QUESTIONNAIRES, checks=[failed], must_change=True)


def natural_order(raw: Path) -> Planted:
    """export_1 -> export_2 and export_2 -> export_10: in text order export_10 would sort first."""
    export(raw, 2).rename(raw / "redcap" / "export_10.csv")
    export(raw, 1).rename(raw / "redcap" / "export_2.csv")
    return Planted()


def unknown_participant(raw: Path) -> Planted:
    path = export(raw)
    copy = read_csv(path)[1][2]
    copy[0] = "P999"
    row = append_rows(path, [copy])
    return Planted([entry("redcap", path, row, "record_id", "P999",
                          "record_id must be a participant listed in participants.csv", "P999", copy[1])])


def not_utf8(raw: Path) -> Planted:
    path = raw / "redcap" / "export_3.csv"
    path.write_bytes(b"record_id,redcap_event_name,isi_1\nP001,baseline_arm_1,\xff\nP002,baseline_arm_1,1\n")
    return Planted([entry("redcap", path, None, None, None,
                          StartsWith("export_3.csv cannot be read as a UTF-8 CSV file ("))])


def upper_case_extension(raw: Path) -> Planted:
    export(raw, 2).rename(raw / "redcap" / "export_2.CSV")
    return Planted()


def file_not_read(raw: Path) -> Planted:
    (raw / "redcap" / "notes.txt").write_text("exports of 2025-03\n")
    (raw / "redcap" / "export_3.csv.part").write_text("record_id,redcap_event_name\nP001,")
    return Planted(set_aside=[{"source": "redcap", "file": "raw/redcap/notes.txt", "reason": "a file the pipeline does "
                               "not read here (it reads *.csv exports and data_dictionary.csv)"}])


def column_named_twice(raw: Path) -> Planted:
    path = raw / "redcap" / "export_3.csv"
    header, rows = read_csv(export(raw))
    header[header.index("isi_2")] = "isi_1"
    write_csv(path, header, rows[:2])
    return Planted([entry("redcap", path, None, None, None,
                          "the header names the column isi_1 twice, so its cells cannot be told apart")])


def identifier_columns(raw: Path) -> Planted:
    path = export(raw)
    header, rows = read_csv(path)
    write_csv(path, header + ["email", "date_of_birth"], [r + [f"{r[0]}@example.invalid", "1980-01-01"] for r in rows])

    def dropped(run) -> None:
        assert run.ingested["redcap"].dropped_identifiers == {relative(path): ["email", "date_of_birth"]}
    return Planted(checks=[dropped])


REDCAP_FAULTS = [
    Fault("redcap_complete_not_numeric", _cell_fault("isi_complete", "x", "isi_complete must be 0, 1 or 2", ())),
    Fault("redcap_item_out_of_range", _cell_fault("isi_3", "7", "isi_3 must be an integer from 0 to 4",
                                                  outcomes_of("isi_scores"), row=3)),
    Fault("redcap_item_text", _cell_fault("poms_12", "a lot", "poms_12 must be an integer from 0 to 4",
                                          outcomes_of("poms_scores"), row=4)),
    Fault("redcap_mark_infinity", _cell_fault("lseq_2", "Infinity", "lseq_2 must be a number of millimetres from 0 "
                                              "to 100", outcomes_of("lseq_scores"), row=5)),
    Fault("redcap_item_boolean", _cell_fault("rsq_2", "true", "rsq_2 must be an integer from 1 to 5",
                                             outcomes_of("rsq_scores"), row=6)),
    Fault("redcap_repeated_header_line", repeated_header),
    Fault("redcap_short_row", _misshapen(cut=True)),
    Fault("redcap_long_row", _misshapen(cut=False)),
    Fault("redcap_conflicting_rows", conflict),
    Fault("redcap_identical_rows", identical_copy),
    Fault("redcap_label_export", label_export),
    Fault("redcap_other_event", other_event),
    Fault("redcap_analysed_form_repeating", analysed_form_repeating),
    Fault("redcap_other_form_repeating", other_form_repeating),
    Fault("redcap_study_id", study_id),
    Fault("redcap_decimal_comma", decimal_comma),
    Fault("redcap_dictionary_mismatch", dictionary_mismatch),
    Fault("redcap_natural_order", natural_order),
    Fault("redcap_unknown_participant", unknown_participant),
    Fault("redcap_not_utf8", not_utf8),
    Fault("redcap_upper_case_extension", upper_case_extension),
    Fault("redcap_file_not_read", file_not_read),
    Fault("redcap_column_named_twice", column_named_twice),
    Fault("redcap_identifier_columns", identifier_columns),
]
