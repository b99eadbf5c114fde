"""The two APIs as Dagster resources, configured once from the environment.

- ``oura_api``: ``$OURA_API_BASE_URL`` (default https://api.ouraring.com) and the token file
  (``$MGLT_OURA_TOKENS``, default ``<data root>/secrets/oura_tokens.csv``); the tokens themselves
  are read from that file at run time and never become configuration.
- ``redcap_api``: ``$REDCAP_API_URL``, the token as ``EnvVar("REDCAP_API_TOKEN")`` (Dagster resolves
  it at run time and shows only the variable's name), and ``$REDCAP_PROJECT`` (default ``redcap``),
  the first part of the export's file name.
A pull is configured when its inputs are there (``configured_pulls``); the schedule and
``make pull`` run only those.
"""
from __future__ import annotations

import os
import time
from datetime import datetime
from pathlib import Path

import dagster as dg

from mglt_pipeline.pull.http import Budget, RetryPolicy
from mglt_pipeline.pull.oura_api import BASE_URL_VARIABLE, DEFAULT_BASE_URL, OuraClient
from mglt_pipeline.pull.oura_run import OuraPullRun, OuraPullSettings, run_oura_pull
from mglt_pipeline.pull.redcap_api import (DEFAULT_PROJECT, PROJECT_VARIABLE, TOKEN_VARIABLE, URL_VARIABLE,
                                           RedcapClient, RedcapPull, pull_redcap)
from mglt_pipeline.pull.tokens import token_file_path

OURA_PULL_ASSET = "oura_pull_status"
REDCAP_PULL_ASSET = "redcap_pull"


class RetryingApi(dg.ConfigurableResource):
    """How hard a pull tries (``pull.http``): the timeout of a request, attempts per call, the
    back-off base, and the longest ``Retry-After`` it waits."""

    timeout_s: float = 30.0
    attempts: int = 5
    backoff_s: float = 1.0
    max_retry_after_s: float = 300.0

    def policy(self) -> RetryPolicy:
        return RetryPolicy(self.attempts, self.backoff_s, 60.0, self.max_retry_after_s, self.timeout_s)


class OuraApi(RetryingApi):
    """The Oura API v2 and the participants' token file; how much to re-ask, how many requests one
    token may make in a pull, and how many participants are pulled at once."""

    base_url: str = DEFAULT_BASE_URL
    token_file: str
    restate_days: int = 3
    requests_per_token: int = 200
    workers: int = 4

    def pull(self, root: Path, now: datetime) -> OuraPullRun:
        """One pull of every participant of the token file into ``<root>/raw/oura``."""
        settings = OuraPullSettings(self.restate_days, self.requests_per_token, self.workers)
        return run_oura_pull(root, Path(self.token_file), OuraClient(self.base_url, self.policy(), time.sleep),
                             settings, now)


class RedcapApi(RetryingApi):
    """One REDCap project's API (a large export may take minutes: a longer timeout)."""

    url: str = ""
    token: str = ""
    project: str = DEFAULT_PROJECT
    timeout_s: float = 300.0
    backoff_s: float = 2.0
    requests: int = 20

    def pull(self, redcap_dir: Path, now: datetime) -> RedcapPull:
        """One export of the dictionary and the records into ``redcap_dir``."""
        if not self.url or not self.token:
            raise dg.Failure(f"the REDCap pull needs {URL_VARIABLE} and {TOKEN_VARIABLE}")
        return pull_redcap(redcap_dir, RedcapClient(self.url, self.token, self.policy()), self.project, now,
                           Budget(self.requests))


def pull_resources(data_root: Path | str, environ: dict[str, str] | None = None) -> dict[str, object]:
    """``oura_api`` and ``redcap_api`` for one data root, from the environment."""
    env = os.environ if environ is None else environ
    return {
        "oura_api": OuraApi(base_url=env.get(BASE_URL_VARIABLE) or DEFAULT_BASE_URL,
                            token_file=str(token_file_path(data_root, env))),
        "redcap_api": RedcapApi(url=env.get(URL_VARIABLE, ""), token=dg.EnvVar(TOKEN_VARIABLE),
                                project=env.get(PROJECT_VARIABLE) or DEFAULT_PROJECT),
    }


def configured_pulls(token_file: Path, environ: dict[str, str] | None = None) -> tuple[list[str], list[str]]:
    """The pull assets whose inputs are there, and a sentence for each pull that is not configured."""
    env = os.environ if environ is None else environ
    keys, missing = [], []
    if Path(token_file).is_file():
        keys.append(OURA_PULL_ASSET)
    else:
        missing.append(f"Oura pull not configured: no token file at {token_file} (set MGLT_OURA_TOKENS)")
    if env.get(URL_VARIABLE) and env.get(TOKEN_VARIABLE):
        keys.append(REDCAP_PULL_ASSET)
    else:
        missing.append(f"REDCap pull not configured: set {URL_VARIABLE} and {TOKEN_VARIABLE}")
    return keys, missing
