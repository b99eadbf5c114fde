"""Where a report came from: code version, data fingerprint, Dagster run, time; simulated or not.

A reader of the report must be able to find the exact code and data behind every number. The
bundled data root is simulated: it carries ``truth.json`` (the simulator's planted effects), and
every output of such a root says so.
"""
from __future__ import annotations

import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

PACKAGE = "mglt_pipeline"
SIMULATION_MARKER = "truth.json"


@dataclass(frozen=True)
class Provenance:
    """The facts the report's provenance section prints."""

    package_version: str
    git_commit: str | None
    data_fingerprint: str
    run_id: str
    generated_at: datetime
    simulated: bool


def package_version() -> str:
    """The installed version of the pipeline package (``unknown`` when it is not installed)."""
    try:
        return metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        return "unknown"


def git_commit(directory: Path | None = None) -> str | None:
    """The commit checked out at ``directory`` (default: this package's), with ``-dirty`` when edited.

    None outside a git checkout, before the first commit, or without git.
    """
    where = directory or Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True,
                                text=True, timeout=10)
        if commit.returncode != 0:
            return None
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=where,
                                capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return commit.stdout.strip() + ("-dirty" if status.stdout.strip() else "")


def is_simulated(data_root: Path) -> bool:
    """True when the data root holds simulated data (the simulator's ``truth.json`` is present)."""
    return (Path(data_root) / SIMULATION_MARKER).exists()


def build_provenance(data_root: Path, data_fingerprint: str, run_id: str,
                     now: datetime | None = None) -> Provenance:
    """The provenance of a report made now from ``data_root`` in run ``run_id``."""
    return Provenance(package_version=package_version(), git_commit=git_commit(),
                      data_fingerprint=data_fingerprint, run_id=run_id,
                      generated_at=now or datetime.now(timezone.utc), simulated=is_simulated(data_root))
