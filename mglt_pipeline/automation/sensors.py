"""``raw_data_sensor``: when a source's raw files change, one run of that source's branch.

The state lives in the Dagster instance, not in a cursor: every run observes the raw sources it
reads (``raw_<source>``, data version = the fingerprint of its files, ``automation.fingerprint``).
Every 30 s the sensor compares each source's fingerprint with the one last observed, and for the
sources that differ requests one run: their observation, their assets and everything downstream,
with the checks of those assets. So the same data never run twice (the run records what it read); a
daemon restart requests nothing (the observations are still there); data that return to an earlier
state differ from the last observation and run again; a source never observed runs.

The run key is the changed sources' fingerprints with the storage id of their last observation: a
tick evaluated twice (the daemon restarted mid-tick, or a run still queued) asks for the same key,
which Dagster launches once. A source with a file modified in the last few seconds waits until the
copy has settled (``fingerprint.unsettled_sources``).
"""
from __future__ import annotations

import time
from collections.abc import Iterable, Mapping

import dagster as dg

from mglt_pipeline.automation.fingerprint import SOURCES, raw_asset_key, source_state, unsettled_sources
from mglt_pipeline.automation.jobs import TRIAL_JOB
from mglt_pipeline.resources import DataRoot

SENSOR_NAME = "raw_data_sensor"
SENSOR_INTERVAL_SECONDS = 30
SOURCES_TAG = "mglt/changed_sources"
FINGERPRINT = "fingerprint"


def last_observed(instance: dg.DagsterInstance, source: str) -> tuple[str | None, int]:
    """The fingerprint last observed for ``source`` and that observation's storage id ((None, 0): never)."""
    records = instance.fetch_observations(dg.AssetKey(raw_asset_key(source)), limit=1).records
    if not records:
        return None, 0
    entry = records[0].asset_observation.metadata.get(FINGERPRINT)
    return (str(entry.value) if entry is not None else None), records[0].storage_id


def downstream(assets_defs: Iterable[dg.AssetsDefinition], roots: Iterable[dg.AssetKey]) -> set[dg.AssetKey]:
    """Every asset that depends, directly or not, on one of ``roots`` (the roots excluded)."""
    parents: dict[dg.AssetKey, set[dg.AssetKey]] = {}
    for assets_def in assets_defs:
        for key, deps in assets_def.asset_deps.items():
            parents[key] = set(deps)
    found, frontier = set(), set(roots)
    while frontier:
        frontier = {key for key, deps in parents.items() if deps & frontier} - found
        found |= frontier
    return found


def checks_of(assets_defs: Iterable[dg.AssetsDefinition], checks: Mapping[dg.AssetCheckKey, object],
              keys: set[dg.AssetKey]) -> list[dg.AssetCheckKey]:
    """The asset checks (in an asset's step or on their own) of the assets ``keys``."""
    found = {spec.key for d in assets_defs for spec in d.check_specs if spec.asset_key in keys}
    found |= {key for key in checks if key.asset_key in keys}
    return sorted(found, key=lambda k: k.to_user_string())


def run_key(changed: Mapping[str, tuple[str, int]]) -> str:
    """The changed sources, each with its new fingerprint and the storage id of its last observation."""
    return "+".join(f"{source}:{fingerprint}@{after}" for source, (fingerprint, after) in changed.items())


def changed_sources(data_root: DataRoot, instance: dg.DagsterInstance, now: float) -> tuple[dict, set[str]]:
    """{source: (fingerprint now, last observation id)} of the settled sources whose files differ from
    their last observation, and the sources that wait for a file still being written."""
    unsettled = unsettled_sources(data_root.raw, now=now)
    changed = {}
    for source in SOURCES:
        if source in unsettled:
            continue
        fingerprint = source_state(data_root.raw, source).fingerprint
        observed, after = last_observed(instance, source)
        if fingerprint != observed:
            changed[source] = (fingerprint, after)
    return changed, unsettled


@dg.sensor(
    name=SENSOR_NAME,
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    job=TRIAL_JOB,
    description=(
        "Watches <data root>/raw every 30 s. When a source's files differ from what the last run "
        "observed (raw_<source>'s data version), runs that source's assets and everything downstream, "
        "once per distinct set of files. A source with a file still being written waits."
    ),
)
def raw_data_sensor(context: dg.SensorEvaluationContext, data_root: DataRoot):
    changed, unsettled = changed_sources(data_root, context.instance, time.time())
    if not changed:
        waiting = f"; waiting for files still being written: {', '.join(sorted(unsettled))}" if unsettled else ""
        return dg.SkipReason(f"no source changed since its last observation{waiting}")
    repository = context.repository_def
    assets_defs = set(repository.assets_defs_by_key.values())
    roots = [dg.AssetKey(raw_asset_key(s)) for s in changed]
    keys = downstream(assets_defs, roots)
    context.log.info(f"sources changed: {', '.join(changed)}; running {len(keys)} assets")
    return dg.RunRequest(
        run_key=run_key(changed),
        asset_selection=roots + sorted(keys, key=lambda k: k.to_user_string()),
        asset_check_keys=checks_of(assets_defs, repository.asset_checks_defs_by_key, keys),
        tags={SOURCES_TAG: ",".join(changed)},
    )
