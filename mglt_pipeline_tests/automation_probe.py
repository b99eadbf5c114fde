"""One question to the automation, in one place: what would it run now?

The automation is ``raw_data_sensor`` (``automation/sensors.py``) over the observable raw sources:
its state is the last observation of each ``raw_<source>`` in the Dagster instance. It is evaluated
here with ``dg.build_sensor_context`` on a real instance and the pipeline's full definitions; the run
it requests is stood in for by what that run does first, observing the changed sources (the trial
job on ``raw_<source>`` only), so the next question sees what the automation would see after the run.
The pull's tests only ask this function.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from mglt_pipeline.automation.fingerprint import raw_asset_key
from mglt_pipeline.automation.jobs import TRIAL_JOB_NAME
from mglt_pipeline.automation.sensors import SOURCES_TAG, raw_data_sensor
from mglt_pipeline.resources import DataRoot


@dataclass
class Tick:
    """The sources whose branches would rerun and the assets of that run."""

    sources: set[str]
    assets: set[str]


def automation_would_run(defs: dg.Definitions, root: Path, instance: dg.DagsterInstance) -> Tick:
    """Evaluate the automation once on ``root`` and say what it would run; then observe the changed
    sources as the requested run would."""
    context = dg.build_sensor_context(instance=instance, definitions=defs,
                                      resources={"data_root": DataRoot(path=str(root))})
    result = raw_data_sensor(context)
    requests = [result] if isinstance(result, dg.RunRequest) else []
    sources: set[str] = set()
    assets: set[str] = set()
    for request in requests:
        sources |= set(request.tags[SOURCES_TAG].split(","))
        assets |= {key.to_user_string() for key in request.asset_selection}
    if sources:
        job = defs.resolve_job_def(TRIAL_JOB_NAME)
        observed = job.execute_in_process(instance=instance, raise_on_error=False,
                                          asset_selection=[dg.AssetKey(raw_asset_key(s)) for s in sorted(sources)])
        assert observed.success, "observing the changed raw sources failed"
    return Tick(sources, assets)
