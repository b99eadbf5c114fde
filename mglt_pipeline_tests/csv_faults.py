"""The CSV faults of the fault-injection table: participants, randomization, diary, the raw folder,
and the REDCap faults of ``redcap_faults`` (issue 10 "Why", DATA_CONTRACT.md "What bad input gets").

``CSV_FAULTS`` is the table the harness runs; the Oura faults join it as rows of the same kind.
"""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from mglt_pipeline.analysis.dataset import derive_arm_labels
from mglt_pipeline.analysis.tables import derive_participant_flow
from mglt_pipeline.validation.duplicates import conflicted_participants
from mglt_pipeline_tests.fault_injection import (
    ALL, DIARY, Fault, Planted, append_rows, entry, outcomes_of, read_csv, row_cells, set_cell, write_csv,
)
from mglt_pipeline_tests.redcap_faults import REDCAP_FAULTS

IN_STUDY = ("date must lie inside the study: not more than 14 days before enrolled_on nor more than 14 days "
            "after Study Day 21")
WITHDRAWAL = ("withdrawn_on must be empty exactly when status is completed (a date when withdrawn or lost to "
              "follow-up)")


def participants_file(raw: Path) -> Path:
    return raw / "participants.csv"


def _row_of(path: Path, column: str, value: str) -> int:
    header, rows = read_csv(path)
    return next(i for i, r in enumerate(rows, 1) if r[header.index(column)] == value)


def _participant_cell(column: str, value, rule: str, touches=frozenset(), status: str = "completed"):
    """(``touches`` ALL: the participant's data leave the analysis, which must show.)"""
    """One cell of one participant (the first with ``status``); ``value`` may be a function of the row."""
    def plant(raw: Path) -> Planted:
        path = participants_file(raw)
        row = _row_of(path, "status", status)
        cells = row_cells(path, row)
        text = value(cells) if callable(value) else value
        set_cell(path, row, column, text)
        return Planted([entry("participants", path, row, column, text, rule, cells["participant_id"])],
                       touches=touches, must_change=bool(touches))
    return plant


def _shift(days: int, column: str = "enrolled_on"):
    return lambda cells: (date.fromisoformat(cells[column]) + timedelta(days=days)).isoformat()


def sex_lower_case(raw: Path) -> Planted:
    planted = _participant_cell("sex", "f", "sex must be F, M or X")(raw)
    pid = planted.quarantine[0]["participant_id"]

    def still_known(run) -> None:
        people = run.ingested["participants"].clean.set_index("participant_id")
        assert pd.isna(people.loc[pid, "sex"]) and pid in set(run.ingested["diary"].clean["participant_id"])
    planted.checks.append(still_known)
    return planted


def listed_twice(raw: Path) -> Planted:
    path = participants_file(raw)
    header, rows = read_csv(path)
    copy = list(rows[1])
    copy[header.index("site")] = "XYZ"
    other = append_rows(path, [copy])
    rule = ("conflict: row {} (line {}) of the same file has the same participant_id with a different site; all are "
            "quarantined and the value stays missing until the conflict is resolved")
    pid = copy[0]

    def data_kept(run) -> None:
        assert pid in set(run.ingested["diary"].clean["participant_id"])
        assert pid in set(run.ingested["redcap"].clean["participant_id"])
    return Planted([entry("participants", path, 2, "site", rows[1][header.index("site")], rule.format(other, other + 1), pid),
                    entry("participants", path, other, "site", "XYZ", rule.format(2, 3), pid)],
                   touches=ALL, checks=[data_kept], must_change=True)


def identifier_columns(raw: Path) -> Planted:
    path = participants_file(raw)
    header, rows = read_csv(path)
    extra = {"MRN": "MRN-{}", "EMAIL": "{}@example.invalid", "Name": "Person {}", "phone_number": "+1 555 010 {}"}
    write_csv(path, header + list(extra), [r + [v.format(r[0]) for v in extra.values()] for r in rows])

    def dropped(run) -> None:
        assert run.ingested["participants"].dropped_identifiers == {"raw/participants.csv": list(extra)}
        assert not set(extra) & set(run.ingested["participants"].clean.columns)
    return Planted(checks=[dropped])


def randomized_twice(raw: Path) -> Planted:
    path = raw / "randomization.csv"
    header, rows = read_csv(path)
    copy = list(rows[2])
    copy[1] = "A" if copy[1] == "B" else "B"
    other = append_rows(path, [copy])
    rule = ("conflict: row {} (line {}) of the same file has the same participant_id with a different arm_code; all "
            "are quarantined and the value stays missing until the conflict is resolved")
    pid = copy[0]

    def not_analysed_and_in_the_flow(run) -> None:
        assert pid not in set(run.dataset["participant_id"])
        flow = derive_participant_flow(run.tables["participants"], derive_arm_labels(run.tables["randomization"]),
                                       run.dataset, conflicted_participants(run.ingested["randomization"].quarantine))
        n = flow.set_index(["stage", "arm"])["n"]
        assert n[("randomization_conflict", "not randomized")] == n[("randomization_conflict", "total")] == 1
    return Planted([entry("randomization", path, 3, "arm_code", rows[2][1], rule.format(other, other + 1), pid),
                    entry("randomization", path, other, "arm_code", copy[1], rule.format(3, 4), pid)],
                   touches=ALL, checks=[not_analysed_and_in_the_flow], must_change=True)


def arm_code_c(raw: Path) -> Planted:
    path = raw / "randomization.csv"
    pid = row_cells(path, 4)["participant_id"]
    set_cell(path, 4, "arm_code", "C")
    return Planted([entry("randomization", path, 4, "arm_code", "C", "arm_code must be A or B", pid)], touches=ALL,
                   must_change=True)


def header_only_unblinding(raw: Path) -> Planted:
    (raw / "unblinding.csv").write_text("arm_code,arm\n")
    return Planted(set_aside=[{"source": "randomization", "file": "raw/unblinding.csv",
                               "reason": "unblinding.csv has a header but no rows: the analysis stays blinded"}],
                   touches=ALL, must_change=True)


def upper_case_randomization(raw: Path) -> Planted:
    (raw / "randomization.csv").rename(raw / "randomization.CSV")
    return Planted()


def unknown_entries_in_raw(raw: Path) -> Planted:
    (raw / "notes.txt").write_text("to do\n")
    (raw / "labs").mkdir()
    reason = ("{} the pipeline does not read here (it reads participants.csv, randomization.csv, unblinding.csv, "
              "oura/, redcap/, diary/)")
    return Planted(set_aside=[{"source": "raw", "file": "raw/labs", "reason": reason.format("a folder")},
                              {"source": "raw", "file": "raw/notes.txt", "reason": reason.format("a file")}])


def diary(raw: Path, n: int = 1) -> Path:
    return raw / "diary" / f"export_{n}.csv"


def _diary_cell(column: str, value, rule: str | None, touches, row: int = 3):
    """One cell of the diary. A bad key takes the whole row (must change some window mean: six
    ratings go); a bad rating only that rating (which may equal its window's mean: no must)."""
    def plant(raw: Path) -> Planted:
        path = diary(raw)
        cells = row_cells(path, row)
        text = value(cells) if callable(value) else value
        set_cell(path, row, column, text)
        key = text if column == "date" else cells["date"]
        participant = text if column == "participant_id" else cells["participant_id"]
        return Planted([entry("diary", path, row, column, text, rule, participant, key)], touches=touches,
                       must_change=column in ("participant_id", "date"))
    return plant


def diary_conflict(raw: Path) -> Planted:
    path = diary(raw)
    header, rows = read_csv(path)
    copy = list(rows[9])
    copy[2] = str((int(copy[2]) + 3) % 11)
    other = append_rows(path, [copy])
    rule = ("conflict: row {} (line {}) of the same file has the same participant_id and date with a different "
            "energy; all are quarantined and the value stays missing until the conflict is resolved")
    return Planted([entry("diary", path, 10, "energy", rows[9][2], rule.format(other, other + 1), copy[0], copy[1]),
                    entry("diary", path, other, "energy", copy[2], rule.format(10, 11), copy[0], copy[1])],
                   touches=DIARY, must_change=True)


def missing_column(raw: Path) -> Planted:
    path = raw / "diary" / "export_3.csv"
    header, rows = read_csv(diary(raw))
    keep = [i for i, c in enumerate(header) if c != "mood"]
    write_csv(path, [header[i] for i in keep], [[r[i] for i in keep] for r in rows[:3]])

    def counted(run) -> None:
        assert run.ingested["diary"].rows_quarantined == 3
    return Planted([entry("diary", path, None, "mood", None, "the file lacks the required column mood")],
                   checks=[counted])


def unquoted_comma(raw: Path) -> Planted:
    path = diary(raw)
    header, rows = read_csv(path)
    rows[11] = rows[11][:-1] + ["nausea", " mild"]
    write_csv(path, header, rows)
    return Planted([entry("diary", path, 12, None, None, "the line has 11 cells where the header has 10, so its cells "
                          "cannot be matched to columns", rows[11][0], rows[11][1])], touches=DIARY, must_change=True)


def multi_line_text_then_bad_rating(raw: Path) -> Planted:
    """A quoted adverse event spanning two lines in row 2: the bad rating of row 5 starts on line 7."""
    path = diary(raw)
    set_cell(path, 2, "adverse_event", "headache\nin the morning")
    cells = row_cells(path, 5)
    set_cell(path, 5, "energy", "11")
    return Planted([entry("diary", path, 5, "energy", "11", "energy must be empty or a number from 0 to 10",
                          cells["participant_id"], cells["date"], line=7)], touches=outcomes_of("diary_daily"))


def contact_details_in_text(raw: Path) -> Planted:
    path = diary(raw)
    set_cell(path, 6, "adverse_event", "headache, call me on +1 (555) 123-4567 or mail jane.doe@example.org")
    key = row_cells(path, 6)

    def redacted(run) -> None:
        result = run.ingested["diary"]
        text = result.clean.set_index(["participant_id", "date"]).loc[(key["participant_id"],
                                                                        pd.Timestamp(key["date"])), "adverse_event"]
        assert text == "headache, call me on [redacted] or mail [redacted]" and result.redactions == 2
    return Planted(checks=[redacted])


def diary_folder_and_extension(raw: Path) -> Planted:
    diary(raw, 2).rename(raw / "diary" / "export_2.CSV")
    (raw / "diary" / "old").mkdir()
    return Planted(set_aside=[{"source": "diary", "file": "raw/diary/old",
                               "reason": "a folder the pipeline does not read here (it reads *.csv diary exports)"}])


CSV_FAULTS = [
    Fault("participants_sex_lower_case", sex_lower_case),
    Fault("participants_age_text", _participant_cell("age", "forty", "age must be a whole number of years from 18 to 100")),
    Fault("participants_unknown_timezone", _participant_cell(
        "timezone", "Mars/Olympus", "timezone must be an IANA time zone such as America/New_York")),
    Fault("participants_withdrawn_before_enrolment", _participant_cell(
        "withdrawn_on", _shift(-1), "withdrawn_on must not be before enrolled_on", status="withdrawn")),
    Fault("participants_completed_with_withdrawal", _participant_cell("withdrawn_on", _shift(30), WITHDRAWAL)),
    Fault("participants_first_dose_before_enrolment", _participant_cell(
        "first_dose_on", _shift(-3), "first_dose_on must not be before enrolled_on", touches=ALL)),
    Fault("participants_listed_twice", listed_twice),
    Fault("participants_identifier_columns", identifier_columns),
    Fault("randomization_twice", randomized_twice),
    Fault("randomization_arm_code", arm_code_c),
    Fault("randomization_header_only_unblinding", header_only_unblinding),
    Fault("randomization_upper_case_extension", upper_case_randomization),
    Fault("raw_unknown_file_and_folder", unknown_entries_in_raw),
    Fault("diary_infinity", _diary_cell("energy", "Infinity", "energy must be empty or a number from 0 to 10",
                                        outcomes_of("diary_daily"))),
    Fault("diary_boolean", _diary_cell("mood", "true", "mood must be empty or a number from 0 to 10", DIARY, row=4)),
    Fault("diary_nan", _diary_cell("sleep_quality", "NaN", "sleep_quality must be empty or a number from 0 to 10",
                                   DIARY, row=5)),
    Fault("diary_date_2019", _diary_cell("date", "2019-03-01", IN_STUDY, DIARY, row=6)),
    Fault("diary_date_2031", _diary_cell("date", "2031-03-01", IN_STUDY, DIARY, row=7)),
    Fault("diary_impossible_date", _diary_cell("date", "2025-02-30", "date is required: a real date written YYYY-MM-DD",
                                               DIARY, row=8)),
    Fault("diary_unknown_participant", _diary_cell(
        "participant_id", "P999", "participant_id must be a participant listed in participants.csv", DIARY, row=9)),
    Fault("diary_conflicting_rows", diary_conflict),
    Fault("diary_missing_column", missing_column),
    Fault("diary_unquoted_comma", unquoted_comma),
    Fault("diary_multi_line_text", multi_line_text_then_bad_rating),
    Fault("diary_contact_details_in_text", contact_details_in_text),
    Fault("diary_folder_and_upper_case_extension", diary_folder_and_extension),
    *REDCAP_FAULTS,
]
