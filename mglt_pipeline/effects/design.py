"""Fixed-effect designs from model formulas (formulaic), for the primary model and the MMRM.

The SAP writes its models as formulas; so does this module, and the visits and arms come from
``visits.py`` and ``arms.py``, never from column names written out in code. A trial with other
visits needs no code change: the categorical levels, the reference levels, the columns, the
contrast weights of every visit and the visit-by-arm columns all follow from the formula and the
declared levels. R's conventions hold: treatment coding, the first level the reference, columns in
the order of the terms (``C(visit)`` levels, then ``arm``, then ``C(visit):arm``), so that the
coefficients are the ones ``lm``/``lmer``/``mmrm`` print.

Building a model matrix with formulaic costs tens of milliseconds whatever the number of rows, so
a design is built once for a whole table (``Design.build``) and each model takes its rows from it.
A covariate centred over the model rows (the SAP's ``base_c``) enters the SAP formula as a main
effect only: its design column is centred per model (``Design.rows``), which is what building the
matrix from the centred variable would give.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from formulaic import Formula

from mglt_pipeline.arms import ArmLabels
from mglt_pipeline.visits import POST_BASELINE_VISITS

FIXED_EFFECTS = "aval ~ base_c + C(visit) + arm + C(visit):arm"
"""The SAP's fixed effects, shared by the primary model and the MMRM."""
CENTRED = "base_c"
CENTRED_FROM = "base"


def sap_levels(labels: ArmLabels, visits: Sequence[str] = POST_BASELINE_VISITS) -> dict[str, tuple]:
    """Categorical levels of the SAP's factors, reference first: visits in order, placebo (or A) first."""
    return {"visit": tuple(visits), "arm": (labels.control, labels.active)}


@dataclass(frozen=True)
class Design:
    """A formula's fixed-effect design for every row of ``frame`` (rows with a missing covariate
    have NaN in its column) and what is needed to read it: column names, term slices, the spec."""

    formula: str
    levels: Mapping[str, tuple]
    matrix: pd.DataFrame            # one row per row of the source frame, same index
    spec: object                    # formulaic ModelSpec, to evaluate new data (reference grids)

    @classmethod
    def build(cls, frame: pd.DataFrame, formula: str, levels: Mapping[str, tuple]) -> Design:
        """The design of ``formula``'s right-hand side over ``frame`` (factors made categorical with
        ``levels``; a centred covariate is taken uncentred here and centred per model)."""
        if not frame.index.is_unique:
            raise ValueError("the rows of a design are found by index: the frame's index must be unique")
        data = categorical(frame, levels)
        if CENTRED in Formula(formula).rhs.required_variables and CENTRED not in data:
            data = data.assign(**{CENTRED: data[CENTRED_FROM]})
        rhs = Formula(formula).rhs
        matrix = rhs.get_model_matrix(data, na_action="ignore", output="pandas")
        return cls(formula, dict(levels), pd.DataFrame(matrix), matrix.model_spec)

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.matrix.columns)

    def rows(self, data: pd.DataFrame) -> np.ndarray:
        """X for the rows of ``data`` (a subset of the frame the design was built on, by index),
        with ``base_c`` centred over these rows."""
        X = self.matrix.loc[data.index].to_numpy(float, copy=True)
        if CENTRED in self.columns:
            k = self.columns.index(CENTRED)
            X[:, k] -= X[:, k].mean()
        return X

    def term_columns(self, term: str) -> list[int]:
        """Indices of the columns of one term of the formula (e.g. ``C(visit):arm``)."""
        for key, columns in self.spec.term_slices.items():
            if str(key) == term:
                return list(range(len(self.columns)))[columns]
        raise KeyError(f"no term {term!r} in {self.formula!r}")

    @cached_property
    def _grid(self) -> tuple[pd.MultiIndex, np.ndarray]:
        """Design rows of every cell of the factors at covariates 0 (emmeans' reference grid with
        the centred covariate at its mean)."""
        names = list(self.levels)
        cells = pd.MultiIndex.from_product([self.levels[n] for n in names], names=names)
        grid = categorical(cells.to_frame(index=False), self.levels)
        for variable in self.spec.required_variables:
            if variable not in grid:
                grid[variable] = 0.0
        X = self.spec.get_model_matrix(grid, output="numpy")
        return cells, np.asarray(X, dtype=float)

    def cell_weights(self, **cell: str) -> np.ndarray:
        """Fixed-effect weights of the adjusted mean of one cell, e.g. ``visit="week_3", arm="MgT"``."""
        cells, X = self._grid
        return X[cells.get_loc(tuple(cell[n] for n in cells.names))]


def categorical(frame: pd.DataFrame, levels: Mapping[str, tuple]) -> pd.DataFrame:
    """``frame`` with each factor of ``levels`` as a pandas Categorical of those levels, in order."""
    return frame.assign(**{name: pd.Categorical(frame[name], categories=list(values))
                           for name, values in levels.items()})
