"""The trial's arms and their labels, declared once (SAP "Blinded mode", DATA_CONTRACT randomization).

``randomization.csv`` codes each participant ``A`` or ``B``; ``unblinding.csv`` names which code is
the active treatment (MgT) and which placebo. Until it is there, the whole analysis runs on the codes,
B minus A. The validation schemas, the readers, the simulators, the models and the report read the
labels from here.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

PLACEBO = "placebo"
ACTIVE = "MgT"
ARM_CODES: tuple[str, str] = ("A", "B")
"""Blinded arm codes; A is the reference while blinded."""
TREATMENTS: tuple[str, str] = (PLACEBO, ACTIVE)
"""Unblinded arm names, reference (placebo) first."""
BLINDED_ARMS = ARM_CODES
UNBLINDED_ARMS = TREATMENTS


@dataclass(frozen=True)
class ArmLabels:
    """Which arm label is the reference (placebo, or A while blinded) and which the active one."""

    control: str
    active: str
    blinded: bool


def arm_labels(arms: Iterable[str]) -> ArmLabels:
    """The labelling in use: ``placebo``/``MgT`` once unblinded, ``A``/``B`` while blinded."""
    present = {a for a in arms if isinstance(a, str)}
    if present <= set(BLINDED_ARMS):
        return ArmLabels(*BLINDED_ARMS, blinded=True)
    if present <= set(UNBLINDED_ARMS):
        return ArmLabels(*UNBLINDED_ARMS, blinded=False)
    raise ValueError(f"arm labels {sorted(present)} are neither {UNBLINDED_ARMS} nor {BLINDED_ARMS}")
