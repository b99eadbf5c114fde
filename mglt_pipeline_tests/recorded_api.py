"""A local stand-in for the Oura API v2 and a REDCap API, on 127.0.0.1, for the pull's tests.

It serves recorded responses: the Oura records of ``data/real/oura_api_responses`` (real responses
recorded by a public client, PROVENANCE.md) and REDCap exports in REDCap's formats. Oura queries
behave as the recorded API does: records of ``start_date``..``end_date`` by their ``day`` (the end
exclusive for ``daily_activity``, as the recording shows), ``page_size`` records a page, the next
page through an opaque ``next_token``. Faults are injected per token, in the order of its requests:
429 with ``Retry-After``, 500, a truncated body (``Content-Length`` promised, half sent), a slow
reply, an expired token (401) or an ended membership (403). Every response is logged with its
times, so a test can check that a client waited as long as it was told.
"""
from __future__ import annotations

import base64
import json
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from mglt_pipeline.sources.files import natural_key

RECORDED = Path(__file__).parent / "data" / "real"
OURA_RECORDED = RECORDED / "oura_api_responses"
REDCAP_RECORDED = RECORDED / "redcap_api_responses"
EXCLUSIVE_END = {"daily_activity"}
EXPIRED = {"status": 401, "title": "Expired Token", "detail": "Token has expired."}
INVALID = {"status": 401, "title": "Invalid Access token", "detail": "Access token not provided or is invalid."}
MEMBERSHIP = {"status": 403, "title": "Forbidden", "detail": "The user's Oura membership has expired."}
REDCAP_REFUSED = '{"error":"You do not have permissions to use the API"}'


def recorded_oura_records() -> dict[str, list[dict]]:
    """The recorded records of each analysed collection, pages joined in their order."""
    records: dict[str, list[dict]] = defaultdict(list)
    for path in sorted(OURA_RECORDED.glob("*.json"), key=lambda p: natural_key(p.name)):
        collection = path.stem.rsplit("_", 1)[0] if path.stem.rsplit("_", 1)[-1].isdigit() else path.stem
        records[collection].extend(json.loads(path.read_bytes())["data"])
    return dict(records)


def page_body(records: list[dict], next_token: str | None) -> bytes:
    """A collection response as the API serializes it (compact JSON, UTF-8)."""
    return json.dumps({"data": records, "next_token": next_token}, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


@dataclass
class Fault:
    """One injected failure: ``kind`` is 429, 500, truncate, slow, expired, invalid or membership;
    ``when`` limits it to one Oura collection or one REDCap ``content`` (empty: the next request)."""

    kind: str
    retry_after: float = 1.0
    delay_s: float = 1.0
    when: str = ""


@dataclass
class Served:
    """One request and what it got (``body`` only for a 200 sent whole)."""

    participant: str
    path: str
    query: dict[str, str]
    status: int
    started: float
    finished: float
    body: bytes | None = None


@dataclass
class RecordedApi:
    """What the server holds: per Oura token the participant and their records, per token a
    queue of faults, a REDCap project (token, metadata CSV, records CSV), and the log."""

    page_size: int = 10
    oura: dict[str, tuple[str, dict[str, list[dict]]]] = field(default_factory=dict)
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    redcap_token: str = ""
    redcap_metadata: bytes = b""
    redcap_records: bytes = b""
    log: list[Served] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_fault(self, token: str, what: str) -> Fault | None:
        """The first queued fault of ``token`` that applies to ``what``, used up unless it is a
        lasting refusal (an expired token stays expired)."""
        with self.lock:
            queue = self.faults.get(token) or []
            for index, fault in enumerate(queue):
                if fault.when in ("", what):
                    if fault.kind not in ("expired", "membership", "invalid"):
                        queue.pop(index)
                    return fault
            return None

    def served(self, participant: str | None = None, path_part: str = "") -> list[Served]:
        with self.lock:
            return [s for s in self.log if (participant is None or s.participant == participant)
                    and path_part in s.path]


def oura_page(records: list[dict], collection: str, query: dict[str, str], page_size: int) -> bytes:
    """The page a query asks for (dates by ``day``, then ``page_size`` records from the offset)."""
    start, end = query["start_date"], query["end_date"]
    chosen = [r for r in records if start <= r["day"] and (r["day"] < end if collection in EXCLUSIVE_END
                                                            else r["day"] <= end)]
    offset = int(base64.urlsafe_b64decode(query["next_token"]).decode().split(":")[1]) if query.get("next_token") else 0
    more = offset + page_size < len(chosen)
    token = base64.urlsafe_b64encode(f"offset:{offset + page_size}".encode()).decode() if more else None
    return page_body(chosen[offset:offset + page_size], token)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    api: RecordedApi

    def log_message(self, *args) -> None:  # quiet: the test reads RecordedApi.log
        pass

    def _reply(self, participant: str, status: int, body: bytes, started: float, content_type: str,
               headers: dict[str, str] | None = None, truncate: bool = False, query: dict | None = None,
               late: bool = False) -> None:
        """Send a response and log it (its body only when sent whole, and in time: a reply slower
        than the client's timeout reaches nobody)."""
        query = query if query is not None else {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if truncate:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body[:len(body) // 2] if truncate else body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        if truncate:
            self.close_connection = True
        entry = Served(participant, urlparse(self.path).path, query, status, started, time.monotonic(),
                       body if status == 200 and not truncate and not late else None)
        with self.api.lock:
            self.api.log.append(entry)

    def _fault(self, fault: Fault, participant: str, body: bytes, started: float, content_type: str,
               query: dict | None = None) -> bool:
        """Serve an injected fault; False when the fault lets the normal reply through (slow)."""
        if fault.kind == "429":
            self._reply(participant, 429, b'{"status":429,"title":"Too Many Requests"}', started,
                        "application/json", {"Retry-After": f"{fault.retry_after:g}"}, query=query)
        elif fault.kind == "500":
            self._reply(participant, 500, b'{"status":500,"title":"Internal Server Error"}', started,
                        "application/json", query=query)
        elif fault.kind in ("expired", "invalid", "membership"):
            document = {"expired": EXPIRED, "invalid": INVALID, "membership": MEMBERSHIP}[fault.kind]
            self._reply(participant, document["status"], json.dumps(document).encode(), started, "application/json",
                        query=query)
        elif fault.kind == "truncate":
            self._reply(participant, 200, body, started, content_type, truncate=True, query=query)
        elif fault.kind == "slow":
            time.sleep(fault.delay_s)
            return False
        return True

    def do_GET(self) -> None:  # Oura
        started = time.monotonic()
        token = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        participant, collections = self.api.oura.get(token, ("?", {}))
        if participant == "?":
            self._reply("?", 401, json.dumps(INVALID).encode(), started, "application/json")
            return
        collection = urlparse(self.path).path.rsplit("/", 1)[-1]
        query = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
        body = oura_page(collections.get(collection, []), collection, query, self.api.page_size)
        fault = self.api.next_fault(token, collection)
        if fault is None or not self._fault(fault, participant, body, started, "application/json"):
            self._reply(participant, 200, body, started, "application/json", late=fault is not None)

    def do_POST(self) -> None:  # REDCap
        started = time.monotonic()
        length = int(self.headers.get("Content-Length", "0"))
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        token = form.pop("token", "")
        if not token or token != self.api.redcap_token:
            self._reply("redcap", 403, REDCAP_REFUSED.encode(), started, "application/json", query=form)
            return
        body = self.api.redcap_metadata if form.get("content") == "metadata" else self.api.redcap_records
        fault = self.api.next_fault(token, form.get("content", ""))
        if fault is None or not self._fault(fault, "redcap", body, started, "text/csv; charset=utf-8", form):
            self._reply("redcap", 200, body, started, "text/csv; charset=utf-8", query=form, late=fault is not None)


class ApiServer:
    """The stand-in server on a free port of 127.0.0.1, in a thread; a context manager."""

    def __init__(self, api: RecordedApi):
        handler = type("Handler", (_Handler,), {"api": api})
        self.api = api
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> "ApiServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
