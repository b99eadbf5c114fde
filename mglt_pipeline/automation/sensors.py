"""``raw_data_sensor``: rerun a source's branch of the graph when its raw files change.

Every 30 s the sensor fingerprints each source's settled files (``fingerprint.py``). A source whose
fingerprint differs from the one in the cursor gets its assets and everything downstream of them
rematerialized, in one run per tick whose ``run_key`` is the fingerprint of the changed sources: the
same data never triggers twice, even after the cursor is lost.

First tick (no cursor, e.g. a new Dagster home): a source is run when its assets were never
materialized, or when one of its files is newer than its assets' oldest latest materialization
(data that changed while the daemon was off); otherwise its fingerprint is only recorded. A source
absent from the cursor later (a source added to the contract) is judged the same way.
"""
from __future__ import annotations

import json
from collections.abc import Mapping

import dagster as dg

from mglt_pipeline.automation.fingerprint import SOURCES, newest_modification, source_fingerprints
from mglt_pipeline.automation.jobs import TRIAL_JOB
from mglt_pipeline.resources import DataRoot

SENSOR_NAME = "raw_data_sensor"
SENSOR_INTERVAL_SECONDS = 30
SOURCES_TAG = "mglt/changed_sources"


def parse_cursor(cursor: str | None) -> dict[str, str] | None:
    """The fingerprints a cursor recorded, by source; None for no (or an unreadable) cursor."""
    if not cursor:
        return None
    try:
        recorded = json.loads(cursor)
    except json.JSONDecodeError:
        return None
    return {str(k): str(v) for k, v in recorded.items()} if isinstance(recorded, dict) else None


def sources_to_run(recorded: Mapping[str, str] | None, current: Mapping[str, str],
                   last_materialized: Mapping[str, float | None],
                   newest_file: Mapping[str, float | None]) -> list[str]:
    """The sources whose branch must be rerun, in contract order.

    A source the cursor knows is rerun when its fingerprint changed. A source it does not know is rerun
    when its assets were never materialized (``last_materialized`` None) or a file is newer than them.
    """
    chosen = []
    for source in SOURCES:
        if recorded is not None and source in recorded:
            if recorded[source] != current[source]:
                chosen.append(source)
            continue
        materialized, newest = last_materialized.get(source), newest_file.get(source)
        if materialized is None or (newest is not None and newest > materialized):
            chosen.append(source)
    return chosen


def run_key(sources: list[str], current: Mapping[str, str]) -> str:
    """The run key of a rerun: the changed sources with their fingerprints."""
    return "+".join(f"{source}:{current[source]}" for source in sources)


def materializable(selection: dg.AssetSelection, graph) -> set[dg.AssetKey]:
    """The assets of a selection that a run can materialize (external raw-file assets are not)."""
    return {key for key in selection.resolve(graph) if graph.get(key).is_materializable}


def _oldest_latest_materialization(instance: dg.DagsterInstance, keys: set[dg.AssetKey]) -> float | None:
    """The earliest of the keys' latest materialization times; None if any was never materialized."""
    times = []
    for key in keys:
        event = instance.get_latest_materialization_event(key)
        if event is None:
            return None
        times.append(event.timestamp)
    return min(times) if times else None


@dg.sensor(
    name=SENSOR_NAME,
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    job=TRIAL_JOB,
    description=(
        "Watches <data root>/raw every 30 s. When a source's files change (path, size or content; "
        "files still being written are ignored), rematerializes that source's asset group and "
        "everything downstream, once per distinct set of files."
    ),
)
def raw_data_sensor(context: dg.SensorEvaluationContext, data_root: DataRoot) -> dg.SensorResult:
    current = source_fingerprints(data_root.raw)
    recorded = parse_cursor(context.cursor)
    graph = context.repository_def.asset_graph
    own_assets = {s: materializable(dg.AssetSelection.groups(s), graph) for s in SOURCES}
    unknown = [s for s in SOURCES if recorded is None or s not in recorded]
    last_materialized = {s: _oldest_latest_materialization(context.instance, own_assets[s]) for s in unknown}
    newest = newest_modification(data_root.raw)
    chosen = [s for s in sources_to_run(recorded, current, last_materialized, newest) if own_assets[s]]
    cursor = json.dumps(current, sort_keys=True)
    if not chosen:
        return dg.SensorResult(skip_reason=dg.SkipReason("no source changed"), cursor=cursor)
    # The changed sources' groups and everything downstream of them, checks included.
    selection = dg.AssetSelection.groups(*chosen).downstream()
    keys = materializable(selection, graph)
    request = dg.RunRequest(
        run_key=run_key(chosen, current),
        asset_selection=sorted(keys, key=lambda k: k.to_user_string()),
        asset_check_keys=sorted(selection.resolve_checks(graph), key=lambda k: k.to_user_string()),
        tags={SOURCES_TAG: ",".join(chosen)},
    )
    context.log.info(f"sources changed: {', '.join(chosen)}; rerunning {len(keys)} assets")
    return dg.SensorResult(run_requests=[request], cursor=cursor)
