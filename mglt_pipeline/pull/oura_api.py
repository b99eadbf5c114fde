"""The Oura API v2 collections of one participant: ``GET /v2/usercollection/<collection>``.

One call per page, with the participant's token as a bearer token, ``start_date``/``end_date``
and the ``next_token`` of the page before, until a page says ``"next_token": null``. Each page is
kept exactly as its body arrived, so that the file written is the API's own response
(DATA_CONTRACT.md, "Oura API v2 collection responses").

What a refusal means (Oura's OpenAPI description, v1.29; error bodies follow RFC 7807 with
``title`` and ``detail``):
- 401 "the access token is expired, malformed or revoked": ``token_revoked`` when the server says
  revoked (or already used), otherwise ``token_expired``, the usual cause since Oura enforces
  access-token expiry; the server's own words are kept in the reason;
- 403 "the user's subscription to Oura has expired": ``membership_ended``, unless the server names
  missing scopes (then ``failed``);
- any other 4xx: ``failed`` with the HTTP status and the server's words.
429, 5xx, timeouts and truncated bodies are retried (``pull.http``).
"""
from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import requests

from mglt_pipeline.pull.http import (BROKEN_BODY, Budget, CallStats, PullError, Retryable, RetryPolicy,
                                     send, with_retries)
from mglt_pipeline.sources.oura_collections import ANALYSED

DEFAULT_BASE_URL = "https://api.ouraring.com"
BASE_URL_VARIABLE = "OURA_API_BASE_URL"
ANALYSED_COLLECTIONS = tuple(collection.name for collection in ANALYSED)
"""The collections the pipeline analyses (``sources.oura``): the only ones pulled."""
USER_AGENT = "mglt-pipeline-pull/1"
EXCLUSIVE_END = frozenset({"daily_activity"})
"""Collections whose ``end_date`` the API treats as exclusive: the recorded responses
(tests' data/real/oura_api_responses) return one ``daily_activity`` day for 2024-11-11..2024-11-12
where ``daily_sleep`` and ``daily_readiness`` return two. For these the pull asks one day more."""


@dataclass(frozen=True)
class Page:
    """One collection response: its body as it arrived, its records and its ``next_token``."""

    body: bytes
    records: list[dict]
    next_token: str | None


def parse_page(body: bytes) -> Page:
    """The page in ``body``; ``Retryable`` when the body is not a whole collection response (a
    body cut short is not JSON, or not ``{"data": [...], "next_token": ...}``)."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Retryable(BROKEN_BODY, "the body is not complete JSON (truncated?)") from None
    records = document.get("data") if isinstance(document, dict) else None
    next_token = document.get("next_token", ...) if isinstance(document, dict) else ...
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records) \
            or not (next_token is None or isinstance(next_token, str)):
        raise Retryable(BROKEN_BODY, 'the body is not an Oura collection response {"data": [...], "next_token": ...}')
    return Page(body=body, records=records, next_token=next_token or None)


def _server_words(response: requests.Response) -> str:
    """The error's ``title``/``detail`` (RFC 7807), or the start of the body."""
    try:
        document = response.json()
    except ValueError:
        return response.text[:200].strip()
    if isinstance(document, dict):
        parts = [str(document[k]) for k in ("title", "detail") if document.get(k)]
        return ": ".join(parts) if parts else json.dumps(document)[:200]
    return json.dumps(document)[:200]


def refusal(response: requests.Response) -> PullError:
    """The participant status a non-200, non-retryable response means (module docstring)."""
    code, words = response.status_code, _server_words(response)
    reason = f"HTTP {code}" + (f": {words}" if words else "")
    lowered = words.lower()
    if code == 401:
        revoked = "revoked" in lowered or "already used" in lowered
        return PullError("token_revoked" if revoked else "token_expired", reason, code)
    if code == 403:
        return PullError("failed" if "scope" in lowered else "membership_ended", reason, code)
    return PullError("failed", reason, code)


class OuraClient:
    """Pages of the Oura API v2 at ``base_url`` (one session per participant)."""

    def __init__(self, base_url: str, policy: RetryPolicy, sleep: Callable[[float], None] = time.sleep,
                 rng: random.Random | None = None):
        self.base_url, self.policy, self.sleep = base_url.rstrip("/"), policy, sleep
        self.rng = rng or random.Random()

    def collection(self, session: requests.Session, token: str, collection: str, start: date, end: date,
                   budget: Budget, stats: CallStats) -> list[Page]:
        """Every page of ``collection`` for the days ``start``..``end``, both included."""
        url = f"{self.base_url}/v2/usercollection/{collection}"
        headers = {"Authorization": f"Bearer {token}", "User-Agent": USER_AGENT}
        end_date = end + timedelta(days=1) if collection in EXCLUSIVE_END else end
        params = {"start_date": start.isoformat(), "end_date": end_date.isoformat()}
        pages: list[Page] = []
        seen: set[str] = set()
        while True:
            page = with_retries(lambda: self._page(session, url, headers, params), self.policy, budget, stats,
                                self.sleep, self.rng)
            pages.append(page)
            if page.next_token is None:
                return pages
            if page.next_token in seen:
                raise PullError("failed", f"the API returned the same next_token twice for {collection}")
            seen.add(page.next_token)
            params = {**params, "next_token": page.next_token}

    def _page(self, session: requests.Session, url: str, headers: dict, params: dict) -> Page:
        response = send(session, "GET", url, self.policy.timeout_s, headers=headers, params=params)
        if response.status_code != 200:
            raise refusal(response)
        return parse_page(response.content)
