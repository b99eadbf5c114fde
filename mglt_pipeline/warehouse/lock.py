"""One run at a time on a data root: a lock file under the root that names the run holding it.

DuckDB takes one writer, and a run's tables are committed together; a second run on the same data
root would fail deep inside DuckDB with a long lock trace. Every run takes this lock first: ``make
run`` stops at once with one line naming the run that holds it, a run launched by the Dagster daemon
waits for it. The lock is the operating system's (``flock``), so a run killed at any moment releases
it; the file's text only names the holder. A process may take the lock again for the same root (the
``make run`` command, then its run's IO manager): it is held until the last release.
"""
from __future__ import annotations

import fcntl
import json
import os
import time
from datetime import datetime, timezone
from pathlib import Path

LOCK_FILE = "run.lock"
_held: dict[Path, list] = {}  # lock path -> [file descriptor, times taken] in this process


class DataRootBusy(RuntimeError):
    """Another run holds the data root; the message is one line naming it."""


def lock_path(root: Path | str) -> Path:
    return (Path(root) / LOCK_FILE).resolve()


def holder(root: Path | str) -> dict:
    """What the lock file says about the run holding it ({} when unreadable or free)."""
    try:
        return json.loads(lock_path(root).read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}


def busy_message(root: Path | str, who: dict) -> str:
    """One line: which run holds the data root, since when, and what to do."""
    run = f"run {who['run_id']}" if who.get("run_id") else "a run"
    return (f"another run is writing to {Path(root).resolve()}: {run} (pid {who.get('pid', '?')}, started "
            f"{who.get('started_at', '?')}); this one stops without touching it: wait for it to finish")


def _write_holder(fd: int, run_id: str | None) -> None:
    text = json.dumps({"pid": os.getpid(), "run_id": run_id,
                       "started_at": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")})
    os.ftruncate(fd, 0)
    os.pwrite(fd, text.encode(), 0)


def acquire(root: Path | str, run_id: str | None = None, wait_seconds: float = 0.0) -> None:
    """Take the data root's lock, waiting up to ``wait_seconds``; ``DataRootBusy`` if still held."""
    path = lock_path(root)
    if path in _held:
        _held[path][1] += 1
        if run_id:
            _write_holder(_held[path][0], run_id)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                raise DataRootBusy(busy_message(root, holder(root))) from None
            time.sleep(0.5)
    _write_holder(fd, run_id)
    _held[path] = [fd, 1]


def release(root: Path | str) -> None:
    """Give the lock back (after the last of this process's ``acquire`` calls for the root)."""
    path = lock_path(root)
    entry = _held.get(path)
    if entry is None:
        return
    entry[1] -= 1
    if entry[1] == 0:
        del _held[path]
        os.ftruncate(entry[0], 0)
        fcntl.flock(entry[0], fcntl.LOCK_UN)
        os.close(entry[0])
