"""The four questionnaires as data: items, reversed items, scales, missing-item rules, ranges.

Every number here is a rule of INSTRUMENTS.md (the instruments' publications and public scoring
keys, plus the project rules marked there). ``score.py`` holds the one mechanism that applies them.

A scale's score is ``(mean of its answered items - shift) x factor`` once at least ``min_answered``
of its items are answered, else missing. With ``factor`` = number of items this is the sum when all
items are answered and the pro-rated sum otherwise (ISI, POMS); with ``factor`` 1 it is the mean of
the answered items (LSEQ); RSQ-W uses ``(mean - 1) x 25``.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    """One scored scale: its outcome id (SAP registry), its items and how they become a score."""

    score: str
    items: tuple[int, ...]
    min_answered: int
    low: float
    high: float
    factor: float = 1.0
    shift: float = 0.0

    @property
    def n_answered(self) -> str:
        """Column holding the number of answered items of this scale."""
        return f"{self.score}_n_answered"


@dataclass(frozen=True)
class Bands:
    """Categories of a score: ``labels[i]`` for ``cuts[i-1] < score <= cuts[i]`` (open ends)."""

    column: str
    score: str
    cuts: tuple[float, ...]
    labels: tuple[str, ...]


@dataclass(frozen=True)
class Composite:
    """A score that adds and subtracts other scales of the instrument; missing if any part is."""

    score: str
    plus: tuple[str, ...]
    minus: tuple[str, ...]
    low: float
    high: float

    @property
    def parts(self) -> tuple[str, ...]:
        return self.plus + self.minus

    @property
    def n_available(self) -> str:
        """Column holding the number of its scales that are not missing."""
        return f"{self.score}_n_subscales"


@dataclass(frozen=True)
class Instrument:
    """A questionnaire as named in ``questionnaire_items.instrument`` and how it is scored.

    Reversed items are replaced by ``reverse_from - x`` before any scale is scored.
    """

    name: str
    n_items: int
    scales: tuple[Scale, ...]
    reversed_items: tuple[int, ...] = ()
    reverse_from: float = 0.0
    bands: tuple[Bands, ...] = ()
    composites: tuple[Composite, ...] = ()

    @property
    def asset_name(self) -> str:
        return f"{self.name}_scores"

    @property
    def ranges(self) -> dict[str, tuple[float, float]]:
        """Published range of every score column (scales and composites)."""
        out = {s.score: (s.low, s.high) for s in self.scales}
        out.update({c.score: (c.low, c.high) for c in self.composites})
        return out

    @property
    def score_columns(self) -> tuple[str, ...]:
        return tuple(self.ranges)


def _sum_scale(score: str, items: tuple[int, ...], max_missing: int, item_max: float) -> Scale:
    """Sum of items, pro-rated (mean of answered x number of items) with up to ``max_missing`` blank."""
    n = len(items)
    return Scale(score, items, n - max_missing, 0.0, item_max * n, factor=float(n))


ISI = Instrument(
    name="isi",
    n_items=7,
    # Sum of 7 items 0..4; project rule: 6 of 7 answered -> mean x 7.
    scales=(_sum_scale("isi_total", tuple(range(1, 8)), max_missing=1, item_max=4),),
    # Published bands 0-7, 8-14, 15-21, 22-28. Project rule for a non-integer (pro-rated) total:
    # read the bands as "above 7", "above 14", "above 21", so 7.0 < x < 8.0 is subthreshold.
    bands=(Bands("isi_category", "isi_total", cuts=(7, 14, 21),
                 labels=("none", "subthreshold", "moderate", "severe")),),
)

LSEQ = Instrument(
    name="lseq",
    n_items=10,
    # Domain = mean of answered 0..100 lines (project rule); 3-item domains need 2, 2-item domains both.
    scales=(
        Scale("lseq_gts", (1, 2, 3), 2, 0.0, 100.0),
        Scale("lseq_qos", (4, 5), 2, 0.0, 100.0),
        Scale("lseq_afs", (6, 7), 2, 0.0, 100.0),
        Scale("lseq_bfw", (8, 9, 10), 2, 0.0, 100.0),
    ),
)

RSQ = Instrument(
    name="rsq",
    n_items=9,
    # Items 1..5; 7, 8, 9 negatively worded (project rule: our REDCap order) -> 6 - x.
    # Total = (mean of answered - 1) x 25, missing below 5 answered.
    scales=(Scale("rsq_total", tuple(range(1, 10)), 5, 0.0, 100.0, factor=25.0, shift=1.0),),
    reversed_items=(7, 8, 9),
    reverse_from=6.0,
)

# POMS-65 subscales; items 22 (relaxed) and 54 (efficient) reversed as 4 - x; at most 20% blank.
POMS_SUBSCALE_ITEMS: dict[str, tuple[int, ...]] = {
    "poms_ta": (2, 10, 16, 20, 22, 26, 27, 34, 41),
    "poms_dd": (5, 9, 14, 18, 21, 23, 32, 35, 36, 44, 45, 48, 58, 61, 62),
    "poms_ah": (3, 12, 17, 24, 31, 33, 39, 42, 47, 52, 53, 57),
    "poms_fi": (4, 11, 29, 40, 46, 49, 65),
    "poms_cb": (8, 28, 37, 50, 54, 59, 64),
    "poms_va": (7, 15, 19, 38, 51, 56, 60, 63),
    "poms_fr": (1, 6, 13, 25, 30, 43, 55),
}

POMS = Instrument(
    name="poms",
    n_items=65,
    scales=tuple(
        _sum_scale(score, items, max_missing=len(items) // 5, item_max=4)  # 20% of the items, floored
        for score, items in POMS_SUBSCALE_ITEMS.items()
    ),
    reversed_items=(22, 54),
    reverse_from=4.0,
    # TMD = TA + DD + AH + FI + CB - VA, no +100 offset: range -32..200.
    composites=(Composite("poms_tmd", plus=("poms_ta", "poms_dd", "poms_ah", "poms_fi", "poms_cb"),
                          minus=("poms_va",), low=-32.0, high=200.0),),
)

INSTRUMENTS: tuple[Instrument, ...] = (ISI, LSEQ, RSQ, POMS)
