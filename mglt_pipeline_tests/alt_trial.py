"""A second trial in the raw contract formats (DATA_CONTRACT.md), written without the simulator.

Only the standard library and numpy; nothing from ``mglt_pipeline``. Its generative model is
deliberately unlike ``mglt_pipeline.simulate``'s, so that agreement between the pipeline and an
independent derivation or an independent model fit is not an artefact of one shared way of making data:
- unbalanced arms (5/12 active: 20 MgT vs 28 placebo of 48) and its own arm codes: **A is MgT**,
  B placebo, with ``unblinding.csv`` present;
- skewed participant effects (centred gamma and lognormal), AR(1)-correlated day-to-day noise
  (rho 0.65), an effect that grows linearly over the 21 days in the active arm (``PLANTED``);
- time zones with half-hour offsets and southern-hemisphere daylight saving (Sydney, Auckland,
  Kolkata, St John's, Los Angeles, Berlin), first doses in October 2025 so that several
  participants cross a daylight-saving change;
- monotone dropout (withdrawn / lost: no data after the last day), whole weeks without ring or diary,
  random missing nights and diary days, one participant randomized but never dosed, one enrolled
  and never randomized;
- Oura records with unknown fields (nested objects, arrays, strings) and JSON nulls, 255 for
  ``lowest_heart_rate``, naps, late naps, rest periods longer than the night, deleted periods, split
  nights, collections paged over several files with ``next_token`` set and a record repeated;
- REDCap with blank items, a form left ``[not completed]``, instruments in another column order and
  a later export superseding an earlier one; diary columns in another order, text with commas,
  quotes and non-ASCII characters, a later export superseding rows.
The Oura documents and the latent model shared by all sources are in ``alt_trial_oura``.
Nothing in it should be quarantined: it is a clean trial. Usage:
``python -m mglt_pipeline_tests.alt_trial OUT_DIR [--participants 48] [--seed 2024]``.
"""
from __future__ import annotations

import argparse
import csv
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np

from mglt_pipeline_tests.alt_trial_oura import (
    ACTIVE_CODE, DAYS, PLACEBO_CODE, ar1, calendar_date, effect, write_oura,
)

ZONES = ("Australia/Sydney", "Asia/Kolkata", "America/Los_Angeles", "Europe/Berlin", "America/St_Johns",
         "Pacific/Auckland")
SITES = {"Australia/Sydney": "SYD", "Pacific/Auckland": "SYD", "Asia/Kolkata": "BLR",
         "America/Los_Angeles": "SFO", "America/St_Johns": "SFO", "Europe/Berlin": "BER"}
EVENTS = (("baseline_arm_1", -1), ("day_7_arm_1", 7), ("day_14_arm_1", 14), ("day_21_arm_1", 21))
REDCAP_ORDER = (("lseq", 10), ("isi", 7), ("poms", 65), ("rsq", 9))
POMS = {"ta": (2, 10, 16, 20, 22, 26, 27, 34, 41), "dd": (5, 9, 14, 18, 21, 23, 32, 35, 36, 44, 45, 48, 58, 61, 62),
        "ah": (3, 12, 17, 24, 31, 33, 39, 42, 47, 52, 53, 57), "va": (7, 15, 19, 38, 51, 56, 60, 63),
        "fi": (4, 11, 29, 40, 46, 49, 65), "cb": (8, 28, 37, 50, 54, 59, 64), "fr": (1, 6, 13, 25, 30, 43, 55)}
DIARY_HEADER = ["date", "participant_id", "sleep_quality", "energy", "mood", "productivity", "grouchiness",
                "mental_alertness", "adverse_event", "took_supplement"]
EVENT_TEXTS = ("headache, mild", 'stomach "upset" after dose', "müde, leichte Kopfschmerzen", "vivid dreams")


def skewed(rng: np.random.Generator) -> float:
    """A right-skewed participant effect with mean 0 and SD 1 (centred gamma, shape 2)."""
    return (rng.gamma(2.0) - 2.0) / np.sqrt(2.0)


def people(rng: np.random.Generator, n: int) -> list[dict]:
    """Who is enrolled, their arm code, first dose, last day with data and missing stretches."""
    active = set(rng.permutation(n)[: round(n * 5 / 12)].tolist())
    out = []
    for i in range(n + 1):
        zone = ZONES[i % len(ZONES)]
        p = {"id": f"alt-{SITES[zone]}_{i + 101:03d}", "zone": zone, "site": SITES[zone],
             "code": None if i == n else (ACTIVE_CODE if i in active else PLACEBO_CODE),
             "first": date(2025, 10, 1) + timedelta(days=int(rng.integers(0, 21))), "last": 21,
             "status": "completed", "ring_gap": set(), "diary_gap": set(), "adherence": rng.beta(12, 1.2),
             "trait": {k: skewed(rng) for k in ("sleep", "hr", "act", "mood", "q")},
             "stride": rng.uniform(0.68, 0.82), "walk": np.exp(0.35 * rng.standard_normal())}
        if i == n or i == n - 1:                      # enrolled only / randomized but never dosed
            p.update(first=None, last=-8, status="withdrawn")
        elif rng.random() < 0.14:                     # monotone dropout
            p.update(last=int(rng.integers(4, 19)), status=str(rng.choice(["withdrawn", "lost_to_follow_up"])))
        if rng.random() < 0.1:
            p["ring_gap"] = set(range(8, 15))         # ring not worn for the whole of week 2
        if rng.random() < 0.1:
            p["diary_gap"] = set(range(15, 22))       # no diary in week 3
        if rng.random() < 0.12:
            p["adherence"] = rng.uniform(0.5, 0.75)
        out.append(p)
    return out


def questionnaire(rng, p: dict, study_day: int) -> dict:
    """Items of the four instruments at one event, from latent severities plus item noise."""
    q, mood = p["trait"]["q"], p["trait"]["mood"]
    isi = 10 + 3 * q + rng.normal(0, 1.5) + effect(p, "isi", study_day)
    row = {f"isi_{k}": int(np.clip(round(isi / 7 + rng.normal(0, 0.6)), 0, 4)) for k in range(1, 8)}
    for k in range(1, 11):
        qos = effect(p, "lseq_qos", study_day) if k in (4, 5) else 0.0
        row[f"lseq_{k}"] = round(float(np.clip(48 - 6 * q + qos + rng.normal(0, 9), 0, 100)), 1)
    row.update({f"rsq_{k}": int(np.clip(round(3 - 0.6 * q * (-1 if k >= 7 else 1) + rng.normal(0, 0.8)), 1, 5))
                for k in range(1, 10)})
    for scale, items in POMS.items():
        level = 1.2 + 0.5 * mood * (-1 if scale in ("va", "fr") else 1) + rng.normal(0, 0.3)
        level += effect(p, "poms_fi", study_day) if scale == "fi" else 0.0
        for k in items:
            x = int(np.clip(round(level + rng.normal(0, 0.7)), 0, 4))
            row[f"poms_{k}"] = 4 - x if k in (22, 54) else x
    return {k: (None if rng.random() < 0.02 else v) for k, v in row.items()}


def write_redcap(rng, raw: Path, everyone: list[dict]) -> None:
    """Two flat exports: baseline first, then every event; the later one re-sends some baselines."""
    header = ["record_id", "redcap_event_name"]
    for ins, n in REDCAP_ORDER:
        header += [f"{ins}_timestamp", *(f"{ins}_{k}" for k in range(1, n + 1)), f"{ins}_complete"]
    early, late = [], []
    for p in everyone:
        if p["code"] is None or p["first"] is None:
            continue
        for event, study_day in EVENTS:
            if study_day > p["last"]:
                continue
            items = questionnaire(rng, p, study_day)
            done = datetime.combine(calendar_date(p["first"], study_day), time(19, int(rng.integers(0, 60)), 5))
            row = {"record_id": p["id"], "redcap_event_name": event, **items}
            skipped = "rsq" if rng.random() < 0.03 and study_day > 0 else None
            for ins, n in REDCAP_ORDER:
                row[f"{ins}_timestamp"] = "[not completed]" if ins == skipped else done.strftime("%Y-%m-%d %H:%M:%S")
                row[f"{ins}_complete"] = 0 if ins == skipped else int(rng.choice([1, 2], p=[0.1, 0.9]))
                if ins == skipped:
                    row.update({f"{ins}_{k}": None for k in range(1, n + 1)})
            (early if study_day < 0 else late).append(row)
            if study_day < 0 and rng.random() < 0.2:
                late.append(dict(row, isi_3=None if row["isi_3"] is None else min(4, row["isi_3"] + 1)))
    for name, rows in (("MGLT_ALT_2025-10-22_0930.csv", early), ("MGLT_ALT_2025-12-01_1415.csv", late)):
        write_csv(raw / "redcap" / name, header, [[r[c] for c in header] for r in rows])


def write_diary(rng, raw: Path, everyone: list[dict]) -> None:
    """Daily ratings 0..10 with AR(1) noise; adherence; adverse events; two exports."""
    early, late = [], []
    for p in everyone:
        if p["first"] is None:
            continue
        noise = dict(zip(DAYS, ar1(rng, len(DAYS))))
        for d in DAYS:
            if d > p["last"] or d in p["diary_gap"] or rng.random() < 0.06:
                continue
            base = 5.5 + 1.1 * p["trait"]["mood"] + 1.2 * noise[d]
            ratings = {"energy": base + effect(p, "diary_energy", d), "productivity": base + rng.normal(0, 0.8),
                       "mood": base + 0.5 + rng.normal(0, 0.8), "mental_alertness": base + rng.normal(0, 1.0),
                       "grouchiness": 9.5 - base + rng.normal(0, 1.0),
                       "sleep_quality": 5 - 0.8 * p["trait"]["sleep"] + noise[d] + effect(p, "diary_sleep_quality", d)}
            row = {k: (None if rng.random() < 0.02 else int(np.clip(round(v), 0, 10))) for k, v in ratings.items()}
            row.update(participant_id=p["id"], date=calendar_date(p["first"], d).isoformat(),
                       took_supplement=None if d < 1 else ("yes" if rng.random() < p["adherence"] else "no"),
                       adverse_event=str(rng.choice(EVENT_TEXTS)) if rng.random() < 0.015 else None)
            (early if d <= 4 else late).append(row)
            if d == 4 and rng.random() < 0.3:
                late.append(dict(row, energy=None if row["energy"] is None else min(10, row["energy"] + 1)))
    for name, rows in (("diary_export_a.csv", early), ("diary_export_b.csv", late)):
        write_csv(raw / "diary" / name, DIARY_HEADER, [[r[c] for c in DIARY_HEADER] for r in rows])


def write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows([["" if v is None else v for v in row] for row in rows])


def write_alt_trial(data_root: Path | str, participants: int = 48, seed: int = 2024) -> Path:
    """Write the trial's raw files under ``data_root/raw``; returns the raw folder."""
    raw, rng = Path(data_root) / "raw", np.random.default_rng(seed)
    everyone = people(rng, participants)
    rows = []
    for i, p in enumerate(everyone):
        ended = p["status"] != "completed"
        planned = p["first"] or date(2025, 10, 10)
        age = int(rng.integers(35, 56))
        rows.append([p["id"], p["site"], age, str(rng.choice(["F", "M", "X"], p=[0.55, 0.43, 0.02])),
                     (planned - timedelta(days=12)).isoformat(), p["first"].isoformat() if p["first"] else None,
                     p["status"], calendar_date(planned, p["last"]).isoformat() if ended else None, p["zone"]])
        if p["first"] is not None:
            write_oura(rng, raw, p)
    write_csv(raw / "participants.csv", ["participant_id", "site", "age", "sex", "enrolled_on", "first_dose_on",
                                         "status", "withdrawn_on", "timezone"], rows)
    write_csv(raw / "randomization.csv", ["participant_id", "arm_code", "randomized_on"],
              [[p["id"], p["code"], ((p["first"] or date(2025, 10, 10)) - timedelta(days=9)).isoformat()]
               for p in everyone if p["code"] is not None])
    write_csv(raw / "unblinding.csv", ["arm_code", "arm"], [[PLACEBO_CODE, "placebo"], [ACTIVE_CODE, "MgT"]])
    write_redcap(rng, raw, everyone)
    write_diary(rng, raw, everyone)
    return raw


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--participants", type=int, default=48)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    print(write_alt_trial(args.out, args.participants, args.seed))
