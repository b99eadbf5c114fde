"""The simulator's truth (truth.json, planted effects visible in the raw files) and its fault plan."""
from __future__ import annotations

import csv
import datetime as dt
import json
import math
import shutil
from pathlib import Path

import pytest

from mglt_pipeline.registry import OUTCOMES
from mglt_pipeline.simulate import plant_faults, simulate_trial
from mglt_pipeline.simulate.__main__ import main
from mglt_pipeline.simulate.diary import RATINGS
from mglt_pipeline.simulate.effects import DEFAULT_EFFECTS, resolve_effects
from mglt_pipeline.simulate.oura import ACTIVITY_VALUES, READINESS_VALUES, SLEEP_SCORES
from mglt_pipeline.simulate.oura_sleep import STAGE_SPECS
from mglt_pipeline.simulate.redcap import SCALES

PUBLISHED_BETTER = {  # STUDY.md, findings as published: outcome -> sign of active minus placebo
    "oura_deep_sleep_score": 1, "oura_rem_sleep_score": 1, "oura_light_sleep_min": -1,
    "oura_activity_score": 1, "oura_daily_movement_m": 1, "oura_readiness_score": 1,
    "oura_readiness_activity_balance": 1, "oura_readiness_sleep_balance": 1, "lseq_bfw": 1,
    "diary_energy": 1, "diary_productivity": 1, "diary_mood": 1, "diary_mental_alertness": 1,
    "diary_grouchiness": -1,
}


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def test_truth_covers_every_registry_outcome_and_ramps(tmp_path):
    truth = simulate_trial(tmp_path, participants=8, seed=2)
    assert json.loads((tmp_path / "truth.json").read_text()) == truth
    ids = {o.id for o in OUTCOMES}
    for week in ("week_1", "week_2", "week_3"):
        assert set(truth["effects"][week]) == ids
    w1, w2, w3 = (truth["effects"][w] for w in ("week_1", "week_2", "week_3"))
    assert w3["diary_energy"] == 0.6 and math.isclose(w1["diary_energy"], 0.2) and math.isclose(w2["diary_energy"], 0.4)
    assert {k for k, v in w3.items() if v != 0} == set(PUBLISHED_BETTER) | {"oura_deep_sleep_min", "oura_rem_sleep_min"}
    for oid, sign in PUBLISHED_BETTER.items():
        assert w3[oid] * sign > 0
    stages = w3["oura_deep_sleep_min"] + w3["oura_light_sleep_min"] + w3["oura_rem_sleep_min"]
    assert w3["oura_total_sleep_min"] == stages == 0
    assert truth["seed"] == 2 and truth["participants"] == 8 and truth["active_arm_code"] in {"A", "B"}


def test_default_effects_are_half_to_eight_tenths_of_a_baseline_sd():
    specs = {oid: spec for table in (SLEEP_SCORES, ACTIVITY_VALUES, READINESS_VALUES, RATINGS)
             for oid, spec in table.values() if oid}
    specs.update(STAGE_SPECS)
    sds = {oid: spec.baseline_sd() for oid, spec in specs.items()}
    sds.update({s.outcome: s.baseline_sd() for s in SCALES if s.outcome})
    for oid, effect in DEFAULT_EFFECTS.items():
        assert 0.5 <= abs(effect) / sds[oid] <= 0.8, oid


def test_effects_override_null_and_derived_outcomes():
    null = resolve_effects(null_effects=True)
    assert set(null.values()) == {0.0}
    one = resolve_effects({"isi_total": -2.0}, null_effects=True)
    assert one["isi_total"] == -2.0 and sum(v != 0 for v in one.values()) == 1
    tmd = resolve_effects({"poms_tmd": -6.0}, null_effects=True)
    assert tmd["poms_ta"] == -1.0 and tmd["poms_va"] == 1.0 and tmd["poms_tmd"] == -6.0
    with pytest.raises(ValueError):
        resolve_effects({"poms_tmd": -6.0, "poms_ta": -1.0}, null_effects=True)
    with pytest.raises(KeyError):
        resolve_effects({"not_an_outcome": 1.0})


def test_an_effect_that_would_need_clipping_is_refused(tmp_path):
    with pytest.raises(ValueError, match="diary_energy"):
        simulate_trial(tmp_path, participants=8, seed=1, effects={"diary_energy": 5.0})


def _arms(raw: Path) -> tuple[dict[str, str], dict[str, dt.date]]:
    code = {r["arm_code"]: r["arm"] for r in read_csv(raw / "unblinding.csv")}
    arm = {r["participant_id"]: code[r["arm_code"]] for r in read_csv(raw / "randomization.csv")}
    dose = {r["participant_id"]: dt.date.fromisoformat(r["first_dose_on"])
            for r in read_csv(raw / "participants.csv") if r["first_dose_on"]}
    return arm, dose


def _difference(values: dict[str, list[float]], arm: dict[str, str]) -> tuple[float, float]:
    """Mean MgT minus mean placebo of per-participant means, and its standard error."""
    groups = {"MgT": [], "placebo": []}
    for pid, v in values.items():
        groups[arm[pid]].append(sum(v) / len(v))
    means = {k: sum(g) / len(g) for k, g in groups.items()}
    var = {k: sum((x - means[k]) ** 2 for x in g) / (len(g) - 1) / len(g) for k, g in groups.items()}
    return means["MgT"] - means["placebo"], math.sqrt(var["MgT"] + var["placebo"])


@pytest.fixture(scope="module")
def big_trial(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("big")
    simulate_trial(root, participants=400, seed=11)
    return root


def test_planted_effects_show_in_the_raw_diary_and_questionnaires(big_trial):
    raw = big_trial / "raw"
    arm, dose = _arms(raw)
    diary = {}
    for f in sorted((raw / "diary").glob("*.csv")):  # the later export supersedes
        diary.update({(r["participant_id"], r["date"]): r for r in read_csv(f)})
    week3 = {"energy": {}, "sleep_quality": {}}
    for (pid, day), r in diary.items():
        if pid in dose and 14 <= (dt.date.fromisoformat(day) - dose[pid]).days <= 20:
            for c in week3:
                week3[c].setdefault(pid, []).append(float(r[c]))
    energy, energy_se = _difference(week3["energy"], arm)
    quality, quality_se = _difference(week3["sleep_quality"], arm)
    assert energy > 3 * energy_se and abs(energy - 0.6) < 3 * energy_se
    assert abs(quality) < 3 * quality_se

    redcap = {}
    for f in sorted((raw / "redcap").glob("*.csv")):
        redcap.update({(r["record_id"], r["redcap_event_name"]): r for r in read_csv(f)})
    isi, bfw = {}, {}
    for (pid, event), r in redcap.items():
        if event != "day_21_arm_1":
            continue
        answered = [int(r[f"isi_{i}"]) for i in range(1, 8) if r[f"isi_{i}"]]
        if len(answered) == 7:
            isi[pid] = [sum(answered)]
        marks = [float(r[f"lseq_{i}"]) for i in (8, 9, 10) if r[f"lseq_{i}"]]
        if len(marks) == 3:
            bfw[pid] = [sum(marks) / 3]
    isi_d, isi_se = _difference(isi, arm)
    bfw_d, bfw_se = _difference(bfw, arm)
    assert abs(isi_d) < 3 * isi_se
    assert bfw_d > 3 * bfw_se and abs(bfw_d - 5.5) < 3 * bfw_se


def test_planted_effects_show_in_the_raw_oura_sleep(big_trial):
    raw = big_trial / "raw"
    arm, dose = _arms(raw)
    light, total = {}, {}
    for folder in (raw / "oura").iterdir():
        pid = folder.name
        main: dict[str, dict] = {}
        for page in folder.glob("sleep*.json"):
            for r in json.loads(page.read_text())["data"]:
                if r["type"] == "long_sleep" and r["total_sleep_duration"] > main.get(r["day"], {}).get("total_sleep_duration", -1):
                    main[r["day"]] = r
        for day, r in main.items():
            if pid in dose and 14 <= (dt.date.fromisoformat(day) - dose[pid]).days <= 20:
                light.setdefault(pid, []).append(r["light_sleep_duration"] / 60)
                total.setdefault(pid, []).append(r["total_sleep_duration"] / 60)
    light_d, light_se = _difference(light, arm)
    total_d, total_se = _difference(total, arm)
    assert light_d < -3 * light_se and abs(light_d + 18) < 3 * light_se
    assert abs(total_d) < 3 * total_se


def test_faults_are_planted_in_new_files_with_their_expectations(tmp_path):
    simulate_trial(tmp_path / "clean", participants=12, seed=5)
    shutil.copytree(tmp_path / "clean", tmp_path / "faulty")
    root = tmp_path / "faulty"
    faults = plant_faults(root)
    kinds = {(f["source"], f["rule"], f["expect"]) for f in faults}
    assert len(kinds) == len(faults) == 10
    for f in faults:
        assert (root / f["file"]).exists(), f
        if f["expect"] == "quarantined" and f["row"]:
            row = read_csv(root / f["file"])[int(f["row"]) - 1]
            assert row[f["field"]] == f["value"]
    clean_files = {p.relative_to(tmp_path / "clean") for p in (tmp_path / "clean" / "raw").rglob("*") if p.is_file()}
    changed = {f for f in clean_files if (tmp_path / "clean" / f).read_bytes() != (root / f).read_bytes()}
    assert changed == {Path("raw/participants.csv")}
    assert all("@" in r["email"] for r in read_csv(root / "raw" / "participants.csv"))
    bom = next(f for f in faults if f["expect"] == "accepted")
    data = (root / bom["file"]).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data and len(read_csv(root / bom["file"])) == bom["rows"]
    broken = next(f for f in faults if f["source"] == "oura")
    with pytest.raises(json.JSONDecodeError):
        json.loads((root / broken["file"]).read_text())
    no_energy = next(f for f in faults if f["field"] == "energy")
    assert "energy" not in read_csv(root / no_energy["file"])[0]


def test_cli_simulates_and_plants_faults(tmp_path, capsys):
    assert main([str(tmp_path), "--participants", "8", "--seed", "4", "--with-faults",
                 "--effect", "isi_total=-2"]) == 0
    assert json.loads((tmp_path / "truth.json").read_text())["effects"]["week_3"]["isi_total"] == -2.0
    assert len(json.loads((tmp_path / "expected_faults.json").read_text())) == 10
    assert "planted 10 faults" in capsys.readouterr().out
