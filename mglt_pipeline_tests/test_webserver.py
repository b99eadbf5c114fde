"""The UI as a user meets it: ``dagster-webserver`` on ``workspace.yaml``, asked through GraphQL.

Starts the real webserver on 127.0.0.1 and a free port against a temporary data root and Dagster
home, and checks that the asset groups, every per-outcome effect asset, the raw-data sensor and the
daily schedule are there, with a description and a code version on every asset.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from mglt_pipeline.automation.schedules import SCHEDULE_NAME
from mglt_pipeline.automation.sensors import SENSOR_NAME
from mglt_pipeline.registry import OUTCOMES

REPO = Path(__file__).resolve().parents[1]
STARTUP_TIMEOUT_SECONDS = 90
GROUPS = {"participants", "randomization", "oura", "redcap", "diary", "scored", "windows", "analysis",
          "treatment_effects", "report"}

ASSETS_QUERY = """
{ assetNodes { assetKey { path } groupName description opVersion isExecutable } }
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
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
def webserver(tmp_path_factory):
    root = tmp_path_factory.mktemp("data_root")
    (root / "raw").mkdir()
    home = tmp_path_factory.mktemp("dagster_home")
    log = root / "webserver.log"
    port = free_port()
    env = dict(os.environ, MGLT_DATA_DIR=str(root), DAGSTER_HOME=str(home))
    env.pop("MGLT_SCHEDULE_TZ", None)  # the schedule's default time zone is asserted below
    command = [str(Path(sys.executable).with_name("dagster-webserver")), "-w", "workspace.yaml",
               "-h", "127.0.0.1", "-p", str(port)]
    with open(log, "w") as out:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
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


def test_code_location_loads(webserver):
    entries = graphql(webserver, LOCATIONS_QUERY)["workspaceOrError"]["locationEntries"]
    errors = {e["name"]: e["locationOrLoadError"].get("message") for e in entries
              if e["locationOrLoadError"]["__typename"] == "PythonError"}
    assert entries and errors == {}


@pytest.fixture(scope="module")
def asset_nodes(webserver) -> dict[str, dict]:
    nodes = graphql(webserver, ASSETS_QUERY)["assetNodes"]
    return {"/".join(n["assetKey"]["path"]): n for n in nodes}


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
    executable = {k: n for k, n in asset_nodes.items() if n["isExecutable"]}
    assert len(executable) > len(asset_nodes) - 10  # only the raw_<source> files are external
    assert [k for k, n in executable.items() if not n["opVersion"]] == []


def test_sensor_and_schedule_are_on(webserver):
    repositories = graphql(webserver, REPOSITORY_QUERY)["repositoriesOrError"]["nodes"]
    sensors = {s["name"]: s for r in repositories for s in r["sensors"]}
    schedules = {s["name"]: s for r in repositories for s in r["schedules"]}
    assert sensors[SENSOR_NAME]["minIntervalSeconds"] == 30
    assert sensors[SENSOR_NAME]["sensorState"]["status"] == "RUNNING"
    assert schedules[SCHEDULE_NAME]["cronSchedule"] == "0 2 * * *"
    assert schedules[SCHEDULE_NAME]["executionTimezone"] == "UTC"
    assert schedules[SCHEDULE_NAME]["scheduleState"]["status"] == "RUNNING"
