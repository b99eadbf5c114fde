"""One way to call an HTTP API that fails now and then: retries, back-off with jitter, rate limits.

Oura and REDCap fail in the same few ways, and both pulls handle them with this one mechanism:
- HTTP 429 (rate limited): wait what ``Retry-After`` says (seconds or an HTTP date) plus a little
  jitter, then try again; a wait longer than ``max_retry_after_s`` ends the pull of that token;
- HTTP 5xx, a timeout, a broken connection, or a body that arrives truncated (shorter than its
  ``Content-Length``, a chunked body cut off, or JSON/CSV that does not parse): try again after an
  exponential back-off with full jitter (a random wait up to ``backoff_s * 2**attempt``);
- anything else is final for that call (the caller says what it means: token expired, ...).
A per-token budget caps the requests of one token in one pull, retries included, so that a server
that never stops paginating or failing cannot hold the pull. A response is used only when it
arrived whole: a truncated body is never written anywhere.
"""
from __future__ import annotations

import os
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TypeVar

import requests

T = TypeVar("T")

RATE_LIMITED = "rate_limited"
SERVER_ERROR = "server_error"
TIMEOUT = "timeout"
BROKEN_BODY = "truncated_or_broken_body"


class Retryable(Exception):
    """A failure worth another attempt; ``kind`` is one of the module's retry kinds."""

    def __init__(self, kind: str, detail: str, retry_after: float | None = None):
        super().__init__(detail)
        self.kind, self.detail, self.retry_after = kind, detail, retry_after


class PullError(Exception):
    """A final failure of one call; ``status`` is the participant status it means (``failed``,
    ``token_expired``, ...), ``http_status`` the HTTP code when there was one."""

    def __init__(self, status: str, detail: str, http_status: int | None = None):
        super().__init__(detail)
        self.status, self.detail, self.http_status = status, detail, http_status


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: attempts per call, back-off, the longest ``Retry-After`` honoured, and
    the timeout of one request (seconds)."""

    attempts: int = 5
    backoff_s: float = 1.0
    max_backoff_s: float = 60.0
    max_retry_after_s: float = 300.0
    timeout_s: float = 30.0

    def wait(self, attempt: int, failure: Retryable, rng: random.Random) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (0-based ``attempt`` just failed)."""
        if failure.retry_after is not None:
            return failure.retry_after + rng.uniform(0, min(self.backoff_s, 1.0))
        return rng.uniform(0, min(self.max_backoff_s, self.backoff_s * 2 ** attempt))


@dataclass
class Budget:
    """The requests one token may still make in this pull."""

    limit: int
    used: int = 0

    def spend(self) -> None:
        if self.used >= self.limit:
            raise PullError("failed", f"request budget of {self.limit} requests for this token spent in this pull")
        self.used += 1


@dataclass
class CallStats:
    """What the retries met, by kind (for the pull's metadata), and the seconds spent waiting."""

    retries: Counter = field(default_factory=Counter)
    waited_s: float = 0.0

    def add(self, other: "CallStats") -> None:
        self.retries.update(other.retries)
        self.waited_s += other.waited_s


def with_retries(attempt: Callable[[], T], policy: RetryPolicy, budget: Budget, stats: CallStats,
                 sleep: Callable[[float], None] = time.sleep, rng: random.Random | None = None) -> T:
    """The result of ``attempt()``, tried up to ``policy.attempts`` times while it raises
    ``Retryable``; ``PullError`` when it fails for good."""
    rng = rng or random.Random()
    failure: Retryable | None = None
    for number in range(policy.attempts):
        budget.spend()
        try:
            return attempt()
        except Retryable as error:
            failure = error
            stats.retries[error.kind] += 1
            if error.retry_after is not None and error.retry_after > policy.max_retry_after_s:
                raise PullError("failed", f"rate limited: the server asks to wait {error.retry_after:.0f} s, "
                                f"longer than the {policy.max_retry_after_s:.0f} s this pull waits") from None
            if number + 1 < policy.attempts:
                wait = policy.wait(number, error, rng)
                stats.waited_s += wait
                sleep(wait)
    raise PullError("failed", f"gave up after {policy.attempts} attempts; last: {failure.detail}")


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: a number of seconds or an HTTP date (RFC 9110); None if absent
    or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


def send(session: requests.Session, method: str, url: str, timeout_s: float, target: Path | None = None,
         **kwargs) -> requests.Response:
    """One request whose whole body has arrived; a transport failure or a 429/5xx is ``Retryable``.

    The body is read here, so a body cut short (fewer bytes than ``Content-Length``, or a chunked
    body that ends early) raises before any caller sees it. With ``target`` a 200 body is streamed
    into that file instead of memory (a large export); the caller renames it once checked.
    """
    try:
        response = session.request(method, url, timeout=timeout_s, stream=target is not None, **kwargs)
        if target is not None and response.status_code == 200:
            with open(target, "wb") as handle:
                for chunk in response.iter_content(chunk_size=1 << 20):
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
        else:
            response.content  # noqa: B018 (reads the whole body, raising if it is cut short)
    except requests.Timeout as error:
        raise Retryable(TIMEOUT, f"no complete reply within {timeout_s:g} s") from error
    except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError) as error:
        raise Retryable(BROKEN_BODY, f"the connection broke or the body arrived truncated ({type(error).__name__})") from error
    if response.status_code == 429:
        raise Retryable(RATE_LIMITED, "HTTP 429 (rate limited)",
                        retry_after=retry_after_seconds(response.headers.get("Retry-After")))
    if response.status_code >= 500:
        raise Retryable(SERVER_ERROR, f"HTTP {response.status_code} from the server")
    return response
