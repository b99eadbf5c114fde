"""Running ``scripts/independent_derivation.py`` and the whole pipeline on a trial, for the tests.

Shared by the acceptance tests that hold the pipeline's ``analysis_dataset`` to the independent SQL
derivation from the raw files (hand-built, simulated and alternative trials).
"""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import duckdb

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "independent_derivation.py"


def script_module():
    """``scripts/independent_derivation.py`` imported as a module (``derive``, ``compare``)."""
    spec = importlib.util.spec_from_file_location("independent_derivation", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_script(root: Path) -> subprocess.CompletedProcess:
    """The script run on a data root as a user runs it; its exit status and printed figures."""
    return subprocess.run([sys.executable, str(SCRIPT), str(root)], capture_output=True, text=True, timeout=300)


def values_compared(stdout: str) -> int:
    """The number of aval and base values the script compared, as it printed it."""
    return int(stdout.split("values compared (aval and base): ")[1].split()[0])


def materialize_trial(root: Path):
    """Materialize every asset on ``root``; fails when the analysis dataset was not written."""
    from mglt_pipeline.run import materialize_all

    result = materialize_all(root)
    failed = [e.step_key for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert not [s for s in failed if "analysis_dataset" in s or "outcome_windows" in s], failed
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        tables = {row[0] for row in con.execute("SHOW TABLES").fetchall()}
    assert "analysis_dataset" in tables, "analysis_dataset not materialized: is defs.analysis in definitions.ROOMS?"
    return result
