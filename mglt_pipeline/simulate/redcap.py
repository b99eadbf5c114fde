"""REDCap questionnaires (ISI, LSEQ, RSQ-W, POMS-65) at baseline and after each treatment week.

Items are generated so that the SCORED instruments (INSTRUMENTS.md) carry the planted effect exactly
in expectation. Within a scale (ISI; each LSEQ domain; RSQ-W; each POMS subscale) every item's
expected score is ``item mean + theta``, where theta = participant intercept + visit noise + the
placebo shift; items are drawn by stochastic rounding (integers) or to 0.1 mm (LSEQ), whose
expectation is exactly the latent value, and the support stays within the item limits (checked
for planted effects). Scores are (pro-rated) sums or means of items, so the scored difference is
exactly the planted one, also with items missing at random. Reverse-keyed items (RSQ 7-9 as 6 - x,
POMS 22 and 54 as 4 - x) are written reversed, so that scoring reverses them back.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .design import VISIT_OFFSETS
from .draws import HALF_WIDTH, bounded_normal, check_support, placebo_shift, stochastic_round

EVENTS = ("baseline_arm_1", "day_7_arm_1", "day_14_arm_1", "day_21_arm_1")
MISSING_ITEM_P = 0.01
NOT_COMPLETED_P = 0.015


@dataclass(frozen=True)
class Scale:
    """Items whose scored values share one latent level; ``per_item`` converts a score shift to items."""

    outcome: str | None
    instrument: str
    items: tuple[int, ...]
    item_means: tuple[float, ...]
    sd_between: float
    sd_visit: float
    per_item: float
    low: float
    high: float
    step: float = 1.0
    sd_item: float = 0.0
    reversed_items: tuple[int, ...] = ()
    reverse_base: float = 0.0

    def baseline_sd(self) -> float:
        """Approximate SD of the baseline score between participants (rounding noise ignored)."""
        return float(np.sqrt(self.sd_between**2 + self.sd_visit**2 + self.sd_item**2 / len(self.items))) / self.per_item


def _poms(outcome, items, mean, reverse=()):
    n = len(items)
    return Scale(outcome, "poms", items, (mean,) * n, 0.25, 0.15, 1 / n, 0, 4,
                 reversed_items=reverse, reverse_base=4)


SCALES: tuple[Scale, ...] = (
    Scale("isi_total", "isi", tuple(range(1, 8)), (2.0, 2.1, 1.8, 2.2, 1.4, 1.9, 1.8), 0.3, 0.2, 1 / 7, 0, 4),
    Scale("lseq_gts", "lseq", (1, 2, 3), (48, 50, 49), 6, 5, 1, 0, 100, 0.1, 5),
    Scale("lseq_qos", "lseq", (4, 5), (47, 49), 6, 5, 1, 0, 100, 0.1, 5),
    Scale("lseq_afs", "lseq", (6, 7), (50, 49), 6, 5, 1, 0, 100, 0.1, 5),
    Scale("lseq_bfw", "lseq", (8, 9, 10), (50, 51, 49), 6, 5, 1, 0, 100, 0.1, 5),
    Scale("rsq_total", "rsq", tuple(range(1, 10)), (3.0, 2.9, 3.1, 3.0, 2.8, 3.0, 3.1, 2.9, 3.0),
          0.35, 0.25, 1 / 25, 1, 5, reversed_items=(7, 8, 9), reverse_base=6),
    _poms("poms_ta", (2, 10, 16, 20, 22, 26, 27, 34, 41), 1.3, reverse=(22,)),
    _poms("poms_dd", (5, 9, 14, 18, 21, 23, 32, 35, 36, 44, 45, 48, 58, 61, 62), 1.1),
    _poms("poms_ah", (3, 12, 17, 24, 31, 33, 39, 42, 47, 52, 53, 57), 1.1),
    _poms("poms_va", (7, 15, 19, 38, 51, 56, 60, 63), 1.9),
    _poms("poms_fi", (4, 11, 29, 40, 46, 49, 65), 1.6),
    _poms("poms_cb", (8, 28, 37, 50, 54, 59, 64), 1.2, reverse=(54,)),
    _poms(None, (1, 6, 13, 25, 30, 43, 55), 2.4),
)
INSTRUMENT_ITEMS = {"isi": 7, "lseq": 10, "rsq": 9, "poms": 65}


def scale_items(rng: np.random.Generator, scale: Scale, effect: float, is_placebo: np.ndarray) -> np.ndarray:
    """Participants x 4 visits x items: raw item values as written (reverse-keyed items reversed)."""
    n, k = len(is_placebo), len(scale.items)
    shift = placebo_shift(effect, is_placebo, np.arange(4)) * scale.per_item
    half_width = HALF_WIDTH * (scale.sd_between + scale.sd_visit + scale.sd_item)
    if effect != 0:
        check_support(scale.outcome, np.array(scale.item_means), half_width, shift, scale.low, scale.high)
    theta = bounded_normal(rng, (n, 1), scale.sd_between) + bounded_normal(rng, (n, 4), scale.sd_visit) + shift
    latent = np.asarray(scale.item_means)[None, None, :] + theta[:, :, None]
    if scale.sd_item:
        latent = latent + bounded_normal(rng, (n, 4, k), scale.sd_item)
    scored = np.clip(stochastic_round(rng, latent, scale.step) * scale.step, scale.low, scale.high)
    reverse = np.isin(scale.items, scale.reversed_items)
    return np.where(reverse[None, None, :], scale.reverse_base - scored, scored)


def _timestamps(rng, visit_dates: np.ndarray) -> np.ndarray:
    """Local completion time on the visit day, 18:00-22:59 (REDCap ``YYYY-MM-DD HH:MM:SS``)."""
    seconds = rng.integers(18 * 3600, 23 * 3600, visit_dates.shape).astype("timedelta64[s]")
    text = np.datetime_as_string(visit_dates.astype("datetime64[s]") + seconds, unit="s")
    return np.char.replace(text, "T", " ").astype(object)


def questionnaire_rows(rng: np.random.Generator, design: pd.DataFrame, effects: dict[str, float]) -> pd.DataFrame:
    """Final REDCap rows (one per participant and event held) in flat-export column order."""
    n = len(design)
    is_placebo = ~design["is_active"].to_numpy()
    items = {s.instrument: np.full((n, 4, INSTRUMENT_ITEMS[s.instrument]), np.nan) for s in SCALES}
    for s in SCALES:
        items[s.instrument][:, :, np.array(s.items) - 1] = scale_items(rng, s, effects.get(s.outcome, 0.0), is_placebo)
    start = design["day_minus_7"].to_numpy().astype("datetime64[D]")
    visit_dates = start[:, None] + VISIT_OFFSETS[None, :].astype("timedelta64[D]")
    held = VISIT_OFFSETS[None, :] <= design["last_offset"].to_numpy()[:, None]
    p, v = np.nonzero(held)
    columns = {"record_id": design["participant_id"].to_numpy()[p], "redcap_event_name": np.array(EVENTS)[v]}
    for name, values in items.items():
        answers = values[p, v]
        answers[rng.random(answers.shape) < MISSING_ITEM_P] = np.nan
        stamp = _timestamps(rng, visit_dates[p, v])
        status = np.where(rng.random(len(p)) < 0.1, 1, 2)
        not_done = rng.random(len(p)) < NOT_COMPLETED_P
        answers[not_done] = np.nan
        stamp[not_done], status[not_done] = "[not completed]", 0
        columns[f"{name}_timestamp"] = stamp
        columns.update({f"{name}_{j + 1}": answers[:, j] for j in range(answers.shape[1])})
        columns[f"{name}_complete"] = status
    rows = pd.DataFrame(columns)
    rows.attrs["visit_date"] = visit_dates[p, v]
    return rows


def _formatted(rows: pd.DataFrame) -> pd.DataFrame:
    """Items as REDCap writes them: integers without decimals, LSEQ marks to 0.1 mm, blanks empty."""
    out = rows.copy()
    for col in out.columns:
        if out[col].dtype.kind == "f":
            decimals = 1 if col.startswith("lseq_") else 0
            out[col] = [("" if v != v else (f"{v:.1f}" if decimals else str(int(v)))) for v in out[col].tolist()]
    return out


def export_files(rng: np.random.Generator, rows: pd.DataFrame, reexport_p: float = 0.15) -> dict[str, pd.DataFrame]:
    """Two flat exports: export_1 (forms up to a cut-off date, some still in progress) and export_2.

    Export_2 holds the later forms and re-exports the in-progress rows of export_1 completed; the
    later export supersedes (DATA_CONTRACT.md), so the final values are those of export_2.
    """
    visit_date = rows.attrs["visit_date"]
    cutoff = np.sort(visit_date)[len(visit_date) // 2] if len(visit_date) else None
    early = visit_date <= cutoff
    redo = early & (rng.random(len(rows)) < reexport_p)
    first = rows[early].copy()
    in_progress = redo[early]
    poms_items = [f"poms_{j}" for j in range(1, 66)]
    blank = (rng.random((int(in_progress.sum()), 65)) < 0.4)
    first.loc[in_progress, poms_items] = first.loc[in_progress, poms_items].mask(blank)
    first.loc[in_progress, "poms_complete"] = 0
    first.loc[in_progress, "poms_timestamp"] = "[not completed]"
    second = rows[~early | redo]
    return {"export_1.csv": _formatted(first), "export_2.csv": _formatted(second)}


REPEATING_FORM = "concomitant_medication"
"""A repeating instrument the pipeline does not analyse, as a real trial's REDCap project has one."""
MEDICATIONS = ("ibuprofen", "paracetamol", "melatonin", "cetirizine", "omeprazole")


def _medication_rows(rng: np.random.Generator, main: pd.DataFrame, record_id: str) -> pd.DataFrame:
    """Instance rows of the repeating form: 0..3 medications at some participant-events, each a
    row of its own with only that form filled (as REDCap exports repeating instruments); ``_owner``
    is the position of the event's own row."""
    counts = rng.choice([0, 0, 0, 1, 2, 3], size=len(main))
    owner = np.repeat(np.arange(len(main)), counts)
    instance = np.concatenate([np.arange(1, c + 1) for c in counts]) if len(owner) else np.array([], dtype=int)
    return pd.DataFrame({
        record_id: main[record_id].to_numpy()[owner],
        "redcap_event_name": main["redcap_event_name"].to_numpy()[owner],
        "redcap_repeat_instrument": REPEATING_FORM,
        "redcap_repeat_instance": instance.astype(str),
        "cm_drug": rng.choice(MEDICATIONS, size=len(owner)),
        "cm_dose_mg": rng.choice(["100", "200", "400", "500"], size=len(owner)),
        f"{REPEATING_FORM}_complete": "2",
        "_owner": owner,
    })


def project_export(rng: np.random.Generator, export: pd.DataFrame, record_id: str = "record_id",
                   repeating: bool = False) -> pd.DataFrame:
    """An export as a real project writes it: the record-id field named ``record_id`` (or as the
    project named it, e.g. ``study_id``) and, with ``repeating``, the repeat columns and the instance
    rows of a repeating form after each event's own row. The questionnaire rows are unchanged."""
    out = export.rename(columns={"record_id": record_id}).reset_index(drop=True)
    if not repeating:
        return out
    medication = _medication_rows(rng, out, record_id)
    columns = list(out.columns)
    columns[2:2] = ["redcap_repeat_instrument", "redcap_repeat_instance"]
    columns += ["cm_drug", "cm_dose_mg", f"{REPEATING_FORM}_complete"]
    main = out.assign(_owner=np.arange(len(out)), _instance=0)
    merged = pd.concat([main, medication.assign(_instance=medication["redcap_repeat_instance"].astype(int))],
                       ignore_index=True).sort_values(["_owner", "_instance"], kind="stable")
    return merged.reindex(columns=columns).fillna("")
