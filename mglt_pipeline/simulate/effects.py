"""The planted truth: the true difference active minus placebo of every registry outcome.

Defaults follow STUDY.md ("Findings as published"): the outcomes the reference study reports as
better with MgT carry an effect in the registry's better direction, of a standardized size of about
0.5 to 0.8 baseline SDs (the size a trial of 80 can detect); every other outcome has none.
Effects ramp in over the treatment weeks (1/3, 2/3 and all of the week_3 effect at weeks 1..3) and
follow the published pattern: MgT keeps its baseline level, placebo declines (``draws.placebo_shift``).

Two outcomes are sums of others, so their effects are derived, never planted on their own:
total sleep = deep + light + REM (INSTRUMENTS.md, Oura identities) and POMS TMD = TA + DD + AH + FI +
CB - VA. Less light sleep with unchanged total sleep therefore means more deep and REM minutes: the
default moves 18 min from light sleep to deep (+9) and REM (+9) sleep.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

from mglt_pipeline.arms import ACTIVE, ARM_CODES, PLACEBO
from mglt_pipeline.registry import OUTCOMES, OUTCOMES_BY_ID

from .draws import WEEKS

VISITS: tuple[str, ...] = ("week_1", "week_2", "week_3")

DEFAULT_EFFECTS: dict[str, float] = {
    "oura_deep_sleep_score": 4.5,
    "oura_rem_sleep_score": 4.0,
    "oura_light_sleep_min": -18.0,
    "oura_deep_sleep_min": 9.0,
    "oura_rem_sleep_min": 9.0,
    "oura_activity_score": 3.8,
    "oura_daily_movement_m": 1100.0,
    "oura_readiness_score": 3.5,
    "oura_readiness_activity_balance": 4.5,
    "oura_readiness_sleep_balance": 4.0,
    "lseq_bfw": 5.5,
    "diary_energy": 0.6,
    "diary_productivity": 0.5,
    "diary_mood": 0.5,
    "diary_mental_alertness": 0.55,
    "diary_grouchiness": -0.5,
}
"""Week_3 difference active minus placebo, in the outcome's units (registry ``unit``)."""

DERIVED_EFFECTS: dict[str, dict[str, int]] = {
    "oura_total_sleep_min": {"oura_deep_sleep_min": 1, "oura_light_sleep_min": 1, "oura_rem_sleep_min": 1},
    "poms_tmd": {"poms_ta": 1, "poms_dd": 1, "poms_ah": 1, "poms_fi": 1, "poms_cb": 1, "poms_va": -1},
}
"""Outcomes whose effect is the signed sum of their components' effects."""


def resolve_effects(effects: Mapping[str, float] | None = None, null_effects: bool = False) -> dict[str, float]:
    """Week_3 effect of every registry outcome: defaults (or all 0), updated by ``effects``.

    A derived outcome given alone (its components not given) spreads the change from the implied
    sum equally over its components; given together with components it must equal their sum.
    """
    given = dict(effects or {})
    unknown = sorted(set(given) - set(OUTCOMES_BY_ID))
    if unknown:
        raise KeyError(f"effects for outcomes not in the registry: {unknown}")
    resolved = {o.id: 0.0 for o in OUTCOMES}
    if not null_effects:
        resolved.update(DEFAULT_EFFECTS)
    resolved.update({k: float(v) for k, v in given.items() if k not in DERIVED_EFFECTS})
    for derived, components in DERIVED_EFFECTS.items():
        implied = sum(w * resolved[c] for c, w in components.items())
        if derived in given:
            wanted = float(given[derived])
            if any(c in given for c in components):
                if not math.isclose(wanted, implied, abs_tol=1e-9):
                    raise ValueError(
                        f"effect on {derived} ({wanted}) differs from the sum of its components ({implied})"
                    )
            else:
                for c, w in components.items():
                    resolved[c] += w * (wanted - implied) / len(components)
        resolved[derived] = sum(w * resolved[c] for c, w in components.items())
    return resolved


def effect_at(week3_effect: float, week: int) -> float:
    """True difference active minus placebo at treatment week 1..3 (the ramp of ``draws``)."""
    return week3_effect * (week / WEEKS)


def truth_document(effects: Mapping[str, float], seed: int, participants: int, active_arm_code: str,
                   blinded: bool) -> dict:
    """The content of ``truth.json``: every outcome's true difference at every treatment week."""
    placebo_code = next(c for c in ARM_CODES if c != active_arm_code)
    return {
        "simulated": True,
        "seed": seed,
        "participants": participants,
        "active_arm_code": active_arm_code,
        "placebo_arm_code": placebo_code,
        "arms": {active_arm_code: ACTIVE, placebo_code: PLACEBO},
        "unblinding_written": not blinded,
        "estimand": "difference active (MgT) minus placebo in the expected outcome value, in the "
                    "outcome's registry unit; week_3 is the SAP estimand",
        "pattern": "MgT keeps its baseline level, placebo declines by the effect x k/3 at week k",
        "effects": {
            visit: {o.id: effect_at(effects[o.id], k) for o in OUTCOMES}
            for k, visit in enumerate(VISITS, start=1)
        },
    }
