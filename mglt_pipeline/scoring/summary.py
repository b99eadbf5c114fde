"""What a scores table looks like, for the materialization metadata and the range checks."""
from __future__ import annotations

import pandas as pd

from mglt_pipeline.scoring.instruments import Instrument


def missing_scores(scores: pd.DataFrame, instrument: Instrument) -> dict[str, int]:
    """Number of missing values of every score column."""
    return {col: int(scores[col].isna().sum()) for col in instrument.score_columns}


def score_distribution(scores: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    """Mean, SD (n - 1), min, max and count of the non-missing values of every score."""
    cols = list(instrument.score_columns)
    stats = scores[cols].astype(float).agg(["count", "mean", "std", "min", "max"]).T
    stats = stats.rename(columns={"count": "n", "std": "sd"}).rename_axis("score").reset_index()
    stats["n"] = stats["n"].astype("int64")
    return stats[["score", "n", "mean", "sd", "min", "max"]]


def out_of_range(scores: pd.DataFrame, instrument: Instrument) -> dict[str, int]:
    """Number of non-missing values of every score outside its published range (bounds included)."""
    counts = {}
    for col, (low, high) in instrument.ranges.items():
        values = scores[col].dropna()
        counts[col] = int(((values < low) | (values > high)).sum())
    return counts


def markdown_preview(frame: pd.DataFrame, rows: int = 10) -> str:
    """The first ``rows`` rows as a Markdown table (floats to 2 decimals, for reading only)."""
    return frame.head(rows).to_markdown(index=False, floatfmt=".2f")
