"""The one scoring mechanism: long item answers in, one row of scores per participant and visit out.

The rules (reversal, missing items, pro-rating, categories, composites) are the data of
``instruments.py``; nothing here knows a particular questionnaire.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from mglt_pipeline.scoring.instruments import Bands, Composite, Instrument, Scale

KEYS = ["participant_id", "visit", "visit_num"]


def item_matrix(items: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    """The answers of one instrument, one row per participant-visit and one column per item 1..n.

    Only participant-visits with at least one row of the instrument appear (an absent form gives
    no row); an item with no row or a null ``value`` is unanswered (NaN). Two rows for the same
    participant, visit and item, or an item number outside the form, break the
    ``questionnaire_items`` contract (docs/TABLES.md) and raise.
    """
    rows = items.loc[items["instrument"] == instrument.name, [*KEYS, "item", "value"]]
    unknown = ~rows["item"].between(1, instrument.n_items)
    if unknown.any():
        bad = sorted(rows.loc[unknown, "item"].unique().tolist())
        raise ValueError(f"{instrument.name}: item numbers {bad} are outside 1..{instrument.n_items}")
    duplicated = rows.duplicated([*KEYS, "item"])
    if duplicated.any():
        raise ValueError(f"{instrument.name}: {int(duplicated.sum())} duplicated participant/visit/item rows")
    wide = rows.set_index([*KEYS, "item"])["value"].astype(float).unstack("item")
    return wide.reindex(columns=range(1, instrument.n_items + 1))


def reverse_items(answers: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    """Answers with the instrument's reversed items replaced by ``reverse_from - x``."""
    if not instrument.reversed_items:
        return answers
    out = answers.copy()
    rev = list(instrument.reversed_items)
    out[rev] = instrument.reverse_from - out[rev]
    return out


def score_scale(answers: pd.DataFrame, scale: Scale) -> pd.DataFrame:
    """One scale: ``(mean of answered - shift) x factor`` when enough items are answered, else NaN.

    Computed as ``sum x factor / n - shift x factor`` so that a complete sum scale is an exact
    integer (e.g. 17 x 7 / 7), which the category bands rely on.
    """
    block = answers[list(scale.items)]
    n = block.notna().sum(axis=1).astype("int64")
    enough = n >= scale.min_answered
    total = block.sum(axis=1, min_count=1)
    score = total.where(enough) * scale.factor / n.where(enough) - scale.shift * scale.factor
    return pd.DataFrame({scale.score: score.astype(float), scale.n_answered: n}, index=answers.index)


def band(scores: pd.Series, bands: Bands) -> pd.Series:
    """Category label of each score (``cuts[i-1] < score <= cuts[i]``); None where the score is missing."""
    edges = [-np.inf, *bands.cuts, np.inf]
    labels = pd.cut(scores, bins=edges, labels=list(bands.labels), right=True)
    return labels.astype(object).where(scores.notna(), None)


def composite(scores: pd.DataFrame, spec: Composite) -> pd.DataFrame:
    """Sum of ``plus`` minus sum of ``minus`` scales, missing if any part is; with the count available."""
    value = scores[list(spec.plus)].sum(axis=1, skipna=False) - scores[list(spec.minus)].sum(axis=1, skipna=False)
    available = scores[list(spec.parts)].notna().sum(axis=1).astype("int64")
    return pd.DataFrame({spec.score: value.astype(float), spec.n_available: available}, index=scores.index)


def output_columns(instrument: Instrument) -> list[str]:
    """Columns of a scores table, in order: keys, each scale and its count, categories, composites."""
    cols = list(KEYS)
    for scale in instrument.scales:
        cols += [scale.score, scale.n_answered]
    cols += [b.column for b in instrument.bands]
    for spec in instrument.composites:
        cols += [spec.score, spec.n_available]
    return cols


def score_instrument(items: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    """Scores of ``instrument`` from ``questionnaire_items``: one row per participant and visit.

    Columns ``participant_id``, ``visit``, ``visit_num``, then every score (named by its SAP outcome
    id) with ``<score>_n_answered`` beside it, categories, and composites with the number of their
    scales available. Scores are floats, not rounded.
    """
    answers = reverse_items(item_matrix(items, instrument), instrument)
    parts = [score_scale(answers, scale) for scale in instrument.scales]
    scores = pd.concat(parts, axis=1) if parts else pd.DataFrame(index=answers.index)
    for b in instrument.bands:
        scores[b.column] = band(scores[b.score], b)
    for spec in instrument.composites:
        scores = scores.join(composite(scores, spec))
    out = scores.reset_index()
    out["visit_num"] = out["visit_num"].astype("int64")
    return out[output_columns(instrument)].sort_values(KEYS, ignore_index=True)
