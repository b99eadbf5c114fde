"""One question to the automation, in one place: what would it run now?

Today the automation is ``raw_data_sensor`` (``automation/sensors.py``), evaluated here with
``dg.build_sensor_context`` on a real instance and the pipeline's full definitions. When the
automation changes (observable sources, declarative automation, another sensor), this function is
the one to re-point; the pull's tests only ask it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from mglt_pipeline.automation.sensors import SOURCES_TAG, raw_data_sensor
from mglt_pipeline.resources import DataRoot


@dataclass
class Tick:
    """The sources whose branches would rerun, the assets of that run, and the automation's state
    after the tick (to pass to the next question)."""

    sources: set[str]
    assets: set[str]
    cursor: str | None


def automation_would_run(defs: dg.Definitions, root: Path, instance: dg.DagsterInstance,
                         cursor: str | None) -> Tick:
    """Evaluate the automation once on ``root`` and say what it would run."""
    context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs,
                                      resources={"data_root": DataRoot(path=str(root))})
    result = raw_data_sensor(context)
    sources: set[str] = set()
    assets: set[str] = set()
    for request in result.run_requests or []:
        sources |= set(request.tags[SOURCES_TAG].split(","))
        assets |= {key.to_user_string() for key in request.asset_selection}
    return Tick(sources, assets, result.cursor)
