"""``raw_data_sensor``: rerun a source's branch of the graph when its raw files change.

Every 30 s the sensor fingerprints each source's settled files (``fingerprint.py``). A source whose
fingerprint differs from the one in the cursor gets its assets and everything downstream of them
rematerialized, in one run per tick. The cursor holds the fingerprints and the number of reruns
requested so far; a run's ``run_key`` is that sequence number with the changed sources' fingerprints,
so a tick the daemon evaluates twice (restarted mid-tick) launches one run, while data that return
to an earlier state (an export removed again) are rerun like any other change.

First tick (no cursor, e.g. a new Dagster home): a source is run when its assets were never
materialized, or when one of its files is newer than its assets' oldest latest materialization
(data that changed while the daemon was off); otherwise its fingerprint is only recorded. A source
absent from the cursor later (a source added to the contract) is judged the same way.

A source with a file modified in the last few seconds (``fingerprint.unsettled_sources``) waits: it
is neither compared nor recorded until the copy has settled. Without that wait, copying an export
over itself would make the file vanish from one tick's fingerprint and trigger a run for nothing.
"""
from __future__ import annotations

import json
import time
from collections.abc import Mapping

import dagster as dg

from mglt_pipeline.automation.fingerprint import (SOURCES, newest_modification, source_fingerprints,
                                                  unsettled_sources)
from mglt_pipeline.automation.jobs import TRIAL_JOB
from mglt_pipeline.resources import DataRoot

SENSOR_NAME = "raw_data_sensor"
SENSOR_INTERVAL_SECONDS = 30
SOURCES_TAG = "mglt/changed_sources"
FINGERPRINTS = "fingerprints"
RERUNS = "reruns"


def _load_cursor(cursor: str | None) -> dict | None:
    if not cursor:
        return None
    try:
        recorded = json.loads(cursor)
    except json.JSONDecodeError:
        return None
    return recorded if isinstance(recorded, dict) else None


def parse_cursor(cursor: str | None) -> dict[str, str] | None:
    """The fingerprints a cursor recorded, by source; None for no (or an unreadable) cursor.

    A cursor written before the rerun count was kept holds the fingerprints alone, and is read too.
    """
    recorded = _load_cursor(cursor)
    fingerprints = recorded.get(FINGERPRINTS, recorded) if recorded is not None else None
    if not isinstance(fingerprints, dict):
        return None
    return {str(k): str(v) for k, v in fingerprints.items() if k != RERUNS}


def rerun_count(cursor: str | None) -> int:
    """How many reruns the sensor has requested under this cursor (0 without one)."""
    recorded = _load_cursor(cursor) or {}
    value = recorded.get(RERUNS, 0)
    return value if isinstance(value, int) else 0


def sources_to_run(recorded: Mapping[str, str] | None, current: Mapping[str, str],
                   last_materialized: Mapping[str, float | None],
                   newest_file: Mapping[str, float | None]) -> list[str]:
    """The sources whose branch must be rerun, in contract order.

    ``current`` holds the settled sources only (a source still being written waits). A source the
    cursor knows is rerun when its fingerprint changed. A source it does not know is rerun when its
    assets were never materialized (``last_materialized`` None) or a file is newer than them.
    """
    chosen = []
    for source in SOURCES:
        if source not in current:
            continue
        if recorded is not None and source in recorded:
            if recorded[source] != current[source]:
                chosen.append(source)
            continue
        materialized, newest = last_materialized.get(source), newest_file.get(source)
        if materialized is None or (newest is not None and newest > materialized):
            chosen.append(source)
    return chosen


def next_cursor(recorded: Mapping[str, str] | None, current: Mapping[str, str], reruns: int) -> str:
    """The cursor after a tick: the settled sources' fingerprints, the recorded ones of the others,
    and the number of reruns requested so far."""
    fingerprints = {s: current.get(s, (recorded or {}).get(s)) for s in SOURCES}
    return json.dumps({FINGERPRINTS: {s: f for s, f in fingerprints.items() if f is not None}, RERUNS: reruns},
                      sort_keys=True)


def run_key(sources: list[str], current: Mapping[str, str], sequence: int) -> str:
    """The run key of rerun number ``sequence``: that number, the changed sources and their fingerprints."""
    return f"{sequence}/" + "+".join(f"{source}:{current[source]}" for source in sources)


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
        "Watches <data root>/raw every 30 s. When a source's files change (path, size or content), "
        "rematerializes that source's asset group and everything downstream, once per distinct set "
        "of files. A source with a file still being written waits until the file has settled."
    ),
)
def raw_data_sensor(context: dg.SensorEvaluationContext, data_root: DataRoot) -> dg.SensorResult:
    now = time.time()
    unsettled = unsettled_sources(data_root.raw, now=now)
    current = {s: f for s, f in source_fingerprints(data_root.raw, now=now).items() if s not in unsettled}
    recorded = parse_cursor(context.cursor)
    graph = context.repository_def.asset_graph
    own_assets = {s: materializable(dg.AssetSelection.groups(s), graph) for s in SOURCES}
    unknown = [s for s in current if recorded is None or s not in recorded]
    last_materialized = {s: _oldest_latest_materialization(context.instance, own_assets[s]) for s in unknown}
    newest = newest_modification(data_root.raw, now=now)
    chosen = [s for s in sources_to_run(recorded, current, last_materialized, newest) if own_assets[s]]
    reruns = rerun_count(context.cursor)
    if not chosen:
        waiting = f"; waiting for files still being written: {', '.join(sorted(unsettled))}" if unsettled else ""
        return dg.SensorResult(skip_reason=dg.SkipReason(f"no source changed{waiting}"),
                               cursor=next_cursor(recorded, current, reruns))
    # The changed sources' groups and everything downstream of them, checks included.
    selection = dg.AssetSelection.groups(*chosen).downstream()
    keys = materializable(selection, graph)
    request = dg.RunRequest(
        run_key=run_key(chosen, current, reruns + 1),
        asset_selection=sorted(keys, key=lambda k: k.to_user_string()),
        asset_check_keys=sorted(selection.resolve_checks(graph), key=lambda k: k.to_user_string()),
        tags={SOURCES_TAG: ",".join(chosen)},
    )
    context.log.info(f"sources changed: {', '.join(chosen)}; rerunning {len(keys)} assets")
    return dg.SensorResult(run_requests=[request], cursor=next_cursor(recorded, current, reruns + 1))
