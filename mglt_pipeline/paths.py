"""The data root's layout (DATA_CONTRACT.md), importable without Dagster.

The data root holds ``raw/`` (read-only to the pipeline), ``warehouse.duckdb`` and ``reports/``. It is
``$MGLT_DATA_DIR`` when set, else the repository's ``data/``. ``make run`` reads these before it
imports anything heavy, so that a second run on a busy data root stops at once.
"""
from __future__ import annotations

import os
from pathlib import Path

REPO_DATA_DIR = Path(__file__).resolve().parents[1] / "data"
WAREHOUSE_FILE = "warehouse.duckdb"
REPORTS_DIR = "reports"
REPORT_FILE = "trial_report.html"


def default_data_root() -> Path:
    """``$MGLT_DATA_DIR`` if set, else the repository's ``data/`` folder."""
    return Path(os.environ.get("MGLT_DATA_DIR") or REPO_DATA_DIR).resolve()
FIGURES_DIR = "figures"
FOREST_PLOT_FILE = f"{FIGURES_DIR}/forest_plot.png"
VALIDATION_DIR = "validation"
"""Great Expectations Data Docs of the trial's expectations (``reports/validation/index.html``)."""


def adjusted_means_file(outcome_id: str) -> str:
    """The adjusted-means figure of one outcome, relative to ``reports/``."""
    return f"{FIGURES_DIR}/adjusted_means/{outcome_id}.png"
