"""No run half-written: ``make run`` killed at random moments (``scripts/kill_runs.py``, a few kills
here, 20 by hand). After each kill the data root holds whole runs only, and a last run gives tables
equal to a clean run's. A file of its own, so that CI runs it beside the other integrity tests."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.whole_pipeline(runs=5)

KILL_SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "kill_runs.py"
CI_KILLS = 3
SEED = 7


def script_module_at(path: Path):
    """A script of ``scripts/`` imported as a module."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_killed_runs_leave_whole_runs_and_a_rerun_equals_a_clean_run(tmp_path, capsys):
    subprocess.run([sys.executable, "-m", "mglt_pipeline.simulate", str(tmp_path / "trial"), "--participants", "12",
                    "--seed", str(SEED)], check=True, capture_output=True)
    kill_runs = script_module_at(KILL_SCRIPT)
    problems = kill_runs.kill_test(tmp_path / "trial" / "raw", CI_KILLS, SEED, tmp_path)
    printed = capsys.readouterr().out
    assert problems == [], printed
    assert printed.count("PROBLEMS") == 0 and f"kill {CI_KILLS:2d} at" in printed
    assert "all equal to the clean run's" in printed
