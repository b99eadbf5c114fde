"""The UI as a user meets it: ``dagster-webserver`` on the pipeline, asked through GraphQL.

One webserver (127.0.0.1, a free port) serves this module, on a copy of the package so that the tests
can edit its code as a developer would, with a temporary data root and Dagster home. A small
simulated trial is materialized first, as ``make run`` does, into that Dagster home. Then: the asset
groups, every per-outcome effect asset, the raw-data sensor and the daily schedule are there, every
asset has a description and every materialized asset a code version; every raw source shows an
observation with a data version; nothing is stale; and after an edit to the scoring code (then to an
Oura reader) and a reload, the stale assets are exactly the scored (Oura) assets and everything
downstream of them.
"""
from __future__ import annotations

import inspect
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import dagster as dg
import pytest

from mglt_pipeline.automation.fingerprint import SOURCES, raw_asset_key
from mglt_pipeline.automation.schedules import SCHEDULE_NAME
from mglt_pipeline.automation.sensors import SENSOR_NAME
from mglt_pipeline.registry import OUTCOMES

pytestmark = pytest.mark.whole_pipeline(runs=3)

PACKAGE = Path(__file__).resolve().parents[1] / "mglt_pipeline"
LOCATION = "mglt_pipeline.definitions"
STARTUP_TIMEOUT_SECONDS = 120
GROUPS = {"participants", "randomization", "oura", "redcap", "diary", "scored", "windows", "analysis",
          "treatment_effects", "report"}

ASSETS_QUERY = """
{ assetNodes { assetKey { path } groupName description opVersion isMaterializable isObservable
  staleStatus staleCauses { key { path } category reason dependency { path } } dataVersion } }
"""
OBSERVATIONS_QUERY = """
query ($keys: [AssetKeyInput!]) { assetNodes(assetKeys: $keys) { assetKey { path } dataVersion
  assetObservations(limit: 1) { timestamp metadataEntries { label ... on IntMetadataEntry { intValue }
  ... on TextMetadataEntry { text } } } } }
"""
LOCATIONS_QUERY = """
{ workspaceOrError { ... on Workspace { locationEntries { name
    locationOrLoadError { __typename ... on PythonError { message } } } } } }
"""
REPOSITORY_QUERY = """
{ repositoriesOrError { ... on RepositoryConnection { nodes { name
    sensors { name minIntervalSeconds sensorState { status } }
    schedules { name cronSchedule executionTimezone scheduleState { status } } } } } }
"""
RELOAD = """
mutation ($name: String!) { reloadRepositoryLocation(repositoryLocationName: $name) {
  __typename ... on WorkspaceLocationEntry { locationOrLoadError { __typename } } ... on PythonError { message } } }
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(port: int, query: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql",
                                     data=json.dumps({"query": query, "variables": variables or {}}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        body = json.load(response)
    assert "errors" not in body, body.get("errors")
    return body["data"]


def wait_until_up(process: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"dagster-webserver exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(1)
    pytest.fail(f"dagster-webserver not up after {STARTUP_TIMEOUT_SECONDS} s:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="module")
def materialized(tmp_path_factory) -> tuple[Path, Path]:
    """A small simulated trial, materialized once into a Dagster home: (data root, Dagster home)."""
    from mglt_pipeline.run import materialize_all
    from mglt_pipeline.simulate import simulate_trial

    root, home = tmp_path_factory.mktemp("data_root"), tmp_path_factory.mktemp("dagster_home")
    simulate_trial(root, participants=8, seed=11)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert materialize_all(root, instance).success
    return root, home


@pytest.fixture(scope="module")
def code(tmp_path_factory) -> Path:
    """A copy of the package, the code the webserver loads (the tests edit it)."""
    folder = tmp_path_factory.mktemp("code")
    shutil.copytree(PACKAGE, folder / "mglt_pipeline", ignore=shutil.ignore_patterns("__pycache__"))
    return folder


@pytest.fixture(scope="module")
def webserver(materialized, code, tmp_path_factory):
    root, home = materialized
    log = tmp_path_factory.mktemp("log") / "webserver.log"
    port = free_port()
    env = dict(os.environ, MGLT_DATA_DIR=str(root), DAGSTER_HOME=str(home), PYTHONPATH=str(code))
    env.pop("MGLT_SCHEDULE_TZ", None)  # the schedule's default time zone is asserted below
    command = [str(Path(sys.executable).with_name("dagster-webserver")), "-m", LOCATION, "-d", str(code),
               "-h", "127.0.0.1", "-p", str(port)]
    with open(log, "w") as out:
        process = subprocess.Popen(command, cwd=code, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_up(process, port, log)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def nodes(port: int) -> dict[str, dict]:
    return {"/".join(n["assetKey"]["path"]): n for n in graphql(port, ASSETS_QUERY)["assetNodes"]}


def stale(port: int) -> set[str]:
    found = {key: node for key, node in nodes(port).items() if node["staleStatus"] == "STALE"}
    print({key: node["staleCauses"][:3] for key, node in found.items()})  # shown when a test fails
    return set(found)


def reload(port: int) -> None:
    result = graphql(port, RELOAD, {"name": LOCATION})["reloadRepositoryLocation"]
    assert result["__typename"] == "WorkspaceLocationEntry", result
    assert result["locationOrLoadError"]["__typename"] == "RepositoryLocation", result


def downstream_of(*roots: str) -> set[str]:
    """The roots and everything downstream of them in the pipeline's asset graph."""
    from mglt_pipeline.definitions import defs

    graph = defs.resolve_asset_graph()
    selection = dg.AssetSelection.assets(*roots).downstream()
    return {k.to_user_string() for k in selection.resolve(graph)}


def edited(code: Path, function) -> tuple[Path, str]:
    """The copy of the module defining ``function``, with a line added; (path, original text)."""
    relative = Path(*inspect.getmodule(function).__name__.split(".")).with_suffix(".py")
    path = code / relative
    original = path.read_text(encoding="utf-8")
    path.write_text(original + "\nEDITED_FOR_A_TEST = True\n", encoding="utf-8")
    return path, original


@pytest.fixture(scope="module")
def asset_nodes(webserver) -> dict[str, dict]:
    return nodes(webserver)


def test_code_location_loads(webserver):
    entries = graphql(webserver, LOCATIONS_QUERY)["workspaceOrError"]["locationEntries"]
    errors = {e["name"]: e["locationOrLoadError"].get("message") for e in entries
              if e["locationOrLoadError"]["__typename"] == "PythonError"}
    assert entries and errors == {}


def test_asset_groups_read_as_the_data_flow(asset_nodes):
    groups = {n["groupName"] for n in asset_nodes.values()}
    assert GROUPS <= groups
    assert asset_nodes["questionnaire_items"]["groupName"] == "redcap"
    assert asset_nodes["trial_report"]["groupName"] == "report"


def test_every_outcome_has_its_effect_asset(asset_nodes):
    for outcome in OUTCOMES:
        node = asset_nodes[f"effect_{outcome.id}"]
        assert node["groupName"] == "treatment_effects"


def test_every_asset_has_a_description_and_a_code_version(asset_nodes):
    assert [k for k, n in asset_nodes.items() if not (n["description"] or "").strip()] == []
    materialized = {k: n for k, n in asset_nodes.items() if n["isMaterializable"]}
    assert set(asset_nodes) - set(materialized) == {raw_asset_key(s) for s in SOURCES}
    assert [k for k, n in materialized.items() if not n["opVersion"]] == []


def test_every_raw_source_shows_an_observation_with_a_data_version(webserver, materialized):
    from mglt_pipeline.automation.fingerprint import source_state

    root, _ = materialized
    keys = [{"path": [raw_asset_key(s)]} for s in SOURCES]
    observed = {n["assetKey"]["path"][0]: n for n in graphql(webserver, OBSERVATIONS_QUERY, {"keys": keys})["assetNodes"]}
    for source in SOURCES:
        node, state = observed[raw_asset_key(source)], source_state(root / "raw", source)
        assert node["dataVersion"] == state.fingerprint
        [observation] = node["assetObservations"]
        entries = {e["label"]: e.get("intValue", e.get("text")) for e in observation["metadataEntries"]}
        assert entries["files"] == state.files > 0 and entries["newest_file"] == state.newest_file


def test_sensor_and_schedule_are_on(webserver):
    repositories = graphql(webserver, REPOSITORY_QUERY)["repositoriesOrError"]["nodes"]
    sensors = {s["name"]: s for r in repositories for s in r["sensors"]}
    schedules = {s["name"]: s for r in repositories for s in r["schedules"]}
    assert sensors[SENSOR_NAME]["minIntervalSeconds"] == 30
    assert sensors[SENSOR_NAME]["sensorState"]["status"] == "RUNNING"
    assert schedules[SCHEDULE_NAME]["cronSchedule"] == "0 2 * * *"
    assert schedules[SCHEDULE_NAME]["executionTimezone"] == "UTC"
    assert schedules[SCHEDULE_NAME]["scheduleState"]["status"] == "RUNNING"


def test_a_code_edit_makes_exactly_its_assets_and_their_downstream_stale(webserver, code):
    """Scoring first, then an Oura reader: each edit (in the module the assets' functions use) and a
    reload make stale exactly the assets that run it and everything downstream; undone, nothing."""
    from mglt_pipeline.scoring.instruments import INSTRUMENTS
    from mglt_pipeline.scoring.score import score_instrument
    from mglt_pipeline.sources.oura import read_oura

    assert stale(webserver) == set()
    scored = [i.asset_name for i in INSTRUMENTS]
    oura = ["oura_daily_sleep", "oura_sleep_periods", "oura_daily_activity", "oura_daily_readiness",
            "oura_quarantine", "oura_set_aside"]
    for number, (function, changed) in enumerate(((score_instrument, scored), (read_oura, oura))):
        path, original = edited(code, function)
        try:
            reload(webserver)
            assert stale(webserver) == downstream_of(*changed)
        finally:
            path.write_text(original, encoding="utf-8")
        if number == 0:  # undone, the code is what was materialized again
            reload(webserver)
            assert stale(webserver) == set()
