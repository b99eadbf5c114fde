"""A reusable fault-injection harness (issue 10 acceptance): faults as data, one small trial each.

A ``Fault`` is a name and a ``plant`` function that changes a copy of a clean simulated trial in one
place and says what must follow (a ``Planted``): the quarantine entries it must cause (every column:
file, row, line, participant, key, field, value, rule), the set-aside entries, and which outcomes it
may touch. ``run_pipeline`` drives the pipeline's own pure functions (readers -> scoring -> windows
-> analysis dataset), the same the Dagster assets call, so that each fault costs a fraction of a
Dagster run; ``check_fault`` then holds the run to the plan: the fault is in the quarantine exactly
as expected and nothing else is rejected, the counts add up, and every outcome the fault cannot touch
has an analysis dataset identical to the clean run's (so its effect, a deterministic function of those
rows, is the clean run's), while the outcomes it may touch are fitted again. Faults of a new source
(the Oura readers) are new rows of the same table: write ``plant`` functions and add them to
``FAULTS`` beside ``csv_faults.CSV_FAULTS``.
"""
from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from mglt_pipeline.analysis.dataset import derive_analysis_dataset
from mglt_pipeline.analysis.diary import derive_diary_daily, supplement_adherence
from mglt_pipeline.analysis.nightly import derive_oura_nightly
from mglt_pipeline.analysis.windows import derive_outcome_windows
from mglt_pipeline.arms import arm_labels
from mglt_pipeline.effects.tables import effect_table
from mglt_pipeline.registry import OUTCOMES
from mglt_pipeline.scoring.instruments import INSTRUMENTS
from mglt_pipeline.scoring.score import score_instrument
from mglt_pipeline.sources.oura import read_oura
from mglt_pipeline.sources.redcap import read_redcap
from mglt_pipeline.sources.trial_files import known_participants, read_diary, read_participants, read_randomization
from mglt_pipeline.validation.quarantine import QUARANTINE_COLUMNS, SET_ASIDE_COLUMNS, Ingested

ALL = frozenset(o.id for o in OUTCOMES)
"""Every outcome: for a fault that changes who is analysed, or how the arms are named."""


def outcomes_of(*sources: str) -> frozenset[str]:
    """The outcomes computed from the given registry sources (``isi_scores``, ``diary_daily`` ...)."""
    return frozenset(o.id for o in OUTCOMES if o.source in sources)


QUESTIONNAIRES = outcomes_of(*(i.asset_name for i in INSTRUMENTS))
DIARY = outcomes_of("diary_daily")


@dataclass
class Planted:
    """What a planted fault must cause: quarantine and set-aside entries (dicts of their columns;
    a missing column means empty), the outcomes it may touch, and extra checks on the run."""

    quarantine: list[dict] = field(default_factory=list)
    set_aside: list[dict] = field(default_factory=list)
    touches: frozenset[str] = frozenset()
    checks: list[Callable[["PipelineRun"], None]] = field(default_factory=list)
    must_change: bool = False
    """The fault takes data an analysed participant's outcome uses: some analysis row must change
    (so that the test cannot pass by the fault reaching nothing)."""


@dataclass(frozen=True)
class Fault:
    """One fault of the table: its name (the test id) and how to plant it in ``raw/``."""

    name: str
    plant: Callable[[Path], Planted]


@dataclass
class PipelineRun:
    """What the pure pipeline made of one trial."""

    ingested: dict[str, Ingested]
    tables: dict[str, pd.DataFrame]
    dataset: pd.DataFrame
    prints: dict[str, tuple] = field(default_factory=dict)
    known: pd.Series | None = None


def _fingerprint(raw: Path, part: str) -> tuple:
    """Names and contents of the files one reader reads: ``top`` (raw/ itself) or a folder."""
    if part == "top":
        return tuple(sorted((p.name, p.read_bytes()) for p in raw.iterdir() if p.is_file())) + \
            tuple(sorted(p.name for p in raw.iterdir() if p.is_dir()))
    folder = raw / part
    return tuple(sorted((p.relative_to(raw).as_posix(), p.read_bytes() if p.is_file() else b"")
                        for p in folder.rglob("*"))) if folder.exists() else ()


def _same_items(redcap: Ingested, clean: Ingested | None, instrument: str) -> bool:
    """The instrument's questionnaire items are the clean run's (so are its scores)."""
    if clean is None:
        return False
    if redcap is clean:
        return True
    mine, theirs = (r.clean[r.clean["instrument"] == instrument].drop(columns="source_file").reset_index(drop=True)
                    for r in (redcap, clean))
    return mine.equals(theirs)


def run_pipeline(root: Path, clean: "PipelineRun | None" = None) -> PipelineRun:
    """Readers -> scoring -> windows -> analysis dataset, as the Dagster assets chain them.

    With ``clean`` (the run of the clean trial) a reader or derivation whose files and inputs are
    identical to the clean run's is not run again: a deterministic function of identical inputs
    (this is what keeps dozens of faults fast; the Dagster test runs everything)."""
    raw = root / "raw"
    prints = {part: _fingerprint(raw, part) for part in ("top", "oura", "redcap", "diary")}
    old = clean.ingested if clean is not None else {}
    same = {p: clean is not None and prints[p] == clean.prints[p] for p in prints}
    participants = old["participants"] if same["top"] else read_participants(raw, root)
    known = known_participants(participants.clean, participants.quarantine)
    same_known = clean is not None and known.equals(clean.known)
    same_people = clean is not None and participants.clean.equals(old["participants"].clean)
    randomization = old["randomization"] if same["top"] else read_randomization(raw, root, known)[0]
    oura_kinds = ("oura_daily_sleep", "oura_sleep_periods", "oura_daily_activity", "oura_daily_readiness")
    oura = {k: old[k] for k in (*oura_kinds, OURA_SOURCE)} if same_known and same["oura"] else \
        oura_ingested(read_oura(raw, root, known))
    redcap = old["redcap"] if same_known and same["redcap"] else read_redcap(raw, root, known)
    diary = (old["diary"] if same_known and same_people and same["diary"]
             else read_diary(raw, root, known, participants.clean))
    people = participants.clean
    tables = {i.asset_name: clean.tables[i.asset_name] if _same_items(redcap, old.get("redcap"), i.name)
              else score_instrument(redcap.clean, i) for i in INSTRUMENTS}
    tables["oura_nightly"] = (clean.tables["oura_nightly"] if same_people and oura["oura_sleep_periods"] is
                              old.get("oura_sleep_periods") else
                              derive_oura_nightly(*(oura[k].clean for k in oura_kinds), people))
    tables["diary_daily"] = (clean.tables["diary_daily"] if same_people and diary is old.get("diary")
                             else derive_diary_daily(diary.clean, people))
    windows = derive_outcome_windows(tables)
    adherence = supplement_adherence(tables["diary_daily"], randomization.clean["participant_id"])
    dataset = derive_analysis_dataset(windows, randomization.clean, people, adherence)
    ingested = {"participants": participants, "randomization": randomization, "redcap": redcap, "diary": diary,
                **oura}
    tables.update(participants=people, randomization=randomization.clean)
    return PipelineRun(ingested, tables, dataset, prints, known)


OURA_SOURCE = "oura_source"
"""The Oura entries that belong to no one table (a file of several collections, a folder not read)."""


def oura_ingested(read) -> dict[str, Ingested]:
    """The four Oura tables, and the source's own entries as one more (row-less) part."""
    empty = pd.DataFrame()
    return {**read.tables, OURA_SOURCE: Ingested(clean=empty, quarantine=read.quarantine, rows_read=0,
                                                 rows_quarantined=0, rows_superseded=0, set_aside=read.set_aside)}


@dataclass(frozen=True)
class StartsWith:
    """An expected rule known only by its beginning (e.g. a decoder's message follows)."""

    text: str


def _text(value) -> str | None:
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def assert_entries(found: pd.DataFrame, expected: list[dict], columns: tuple[str, ...]) -> None:
    """``found`` holds exactly the ``expected`` entries, every column (a missing one means empty)."""
    left = [{c: _text(v) for c, v in zip(columns, r)} for r in found.reindex(columns=list(columns))
            .astype(object).itertuples(index=False, name=None)]
    missing = []
    for entry in expected:
        want = {c: entry.get(c) if isinstance(entry.get(c), StartsWith) else _text(entry.get(c)) for c in columns}
        match = next((f for f in left if all(f[c] == w or (isinstance(w, StartsWith) and (f[c] or "")
                                                            .startswith(w.text)) for c, w in want.items())), None)
        if match is None:
            missing.append(want)
        else:
            left.remove(match)
    assert not missing and not left, f"expected but not found: {missing}; found but not expected: {left}"


def all_entries(run: PipelineRun, kind: str) -> pd.DataFrame:
    """Every source's quarantine (``kind`` = quarantine) or set-aside entries."""
    parts = [r.quarantine if kind == "quarantine" else r.set_aside_entries for r in run.ingested.values()]
    parts = [p for p in parts if len(p)]
    columns = QUARANTINE_COLUMNS if kind == "quarantine" else SET_ASIDE_COLUMNS
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(columns))


def changed_outcomes(clean: pd.DataFrame, faulty: pd.DataFrame) -> set[str]:
    """Outcomes whose analysis-dataset rows are not identical (values, NaN where NaN, flags, arms)."""
    if clean.equals(faulty):
        return set()
    a, b = (dict(tuple(d.groupby("outcome", sort=False))) for d in (clean, faulty))
    return {o for o in ALL if o not in a or o not in b or not a[o].reset_index(drop=True).equals(b[o].reset_index(drop=True))}


def one_per_family(outcome_ids) -> list[str]:
    """The first of the given outcomes in each registry family (what a fault's run refits)."""
    first = {}
    for outcome in OUTCOMES:
        if outcome.id in outcome_ids:
            first.setdefault(outcome.family, outcome.id)
    return list(first.values())


def effects(dataset: pd.DataFrame, outcome_ids) -> dict[str, pd.DataFrame]:
    """The effect table of each outcome, as the effect assets compute it."""
    labels = arm_labels(dataset["arm"].unique())
    return {o: effect_table(dataset.loc[dataset["outcome"] == o], o, labels) for o in sorted(outcome_ids)}


def counts_add_up(run: PipelineRun) -> None:
    for name, result in run.ingested.items():
        total = result.rows_clean + result.rows_quarantined + result.rows_superseded + result.rows_set_aside
        assert result.rows_read == total, f"{name}: rows_read {result.rows_read} != {total}"


def check_fault(clean: PipelineRun, faulty: PipelineRun, planted: Planted) -> set[str]:
    """Hold a faulty run to its plan; returns the outcomes whose analysis rows changed. The clean
    run has no entry of its own (asserted by the test of the clean trial)."""
    assert_entries(all_entries(faulty, "quarantine"), planted.quarantine, QUARANTINE_COLUMNS)
    assert_entries(all_entries(faulty, "set_aside"), planted.set_aside, SET_ASIDE_COLUMNS)
    counts_add_up(faulty)
    changed = changed_outcomes(clean.dataset, faulty.dataset)
    assert changed <= planted.touches, f"outcomes changed that the fault cannot touch: {sorted(changed - planted.touches)}"
    assert changed or not planted.must_change, "the fault reached no analysis row"
    for check in planted.checks:
        check(faulty)
    return changed


def copy_trial(clean_root: Path, root: Path) -> Path:
    """A copy of the clean trial's ``raw/`` under ``root`` (the data root of one fault)."""
    shutil.copytree(clean_root / "raw", root / "raw")
    return root


# Editing raw CSV files, cell by cell, as a data manager's mistake would.

def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([header, *rows])


def set_cell(path: Path, row: int, column: str, value: str) -> tuple[str, list[str]]:
    """Replace one cell (``row`` 1-based) and return the value it had and the row's cells."""
    header, rows = read_csv(path)
    position = header.index(column)
    before = rows[row - 1][position]
    rows[row - 1][position] = value
    write_csv(path, header, rows)
    return before, rows[row - 1]


def relative(path: Path) -> str:
    """A raw file's path as the quarantine names it (relative to the data root)."""
    parts = path.as_posix().split("/raw/", 1)
    return "raw/" + parts[1]


def entry(source: str, path: Path, row: int | None, field: str | None, value: str | None, rule,
          participant_id: str | None = None, key: str | None = None, line: int | None = None) -> dict:
    """An expected quarantine entry; ``line`` is ``row + 1`` unless a record spans lines."""
    return {"source": source, "file": relative(path), "row": row, "field": field, "value": value, "rule": rule,
            "participant_id": participant_id, "key": key,
            "line": line if line is not None else (row + 1 if row is not None else None)}


def append_rows(path: Path, rows: list[list[str]]) -> int:
    """Append records to a CSV file; returns the record number of the first one."""
    header, existing = read_csv(path)
    write_csv(path, header, existing + rows)
    return len(existing) + 1


def row_cells(path: Path, row: int) -> dict[str, str]:
    header, rows = read_csv(path)
    return dict(zip(header, rows[row - 1]))
