"""Writing what a pull fetched into ``raw/``: atomically, and in the contract's file order.

A file appears under its final name only when it is complete: it is written as ``<name>.part``
(which the pipeline ignores, DATA_CONTRACT.md), flushed to disk, then renamed, which is atomic on
one file system. A failure on the way removes the ``.part`` file.

Oura API pages are named ``<collection>.json``, ``<collection>_2.json``, ... and a later pull goes on
numbering after the pages already there, so that its pages are the later files in natural order
and a record Oura restated supersedes the copy pulled before (DATA_CONTRACT.md: the later file
wins).
"""
from __future__ import annotations

import fcntl
import os
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from mglt_pipeline.sources.files import natural_key, source_files

PART_SUFFIX = ".part"


class PullRunning(Exception):
    """Another pull of the same kind holds the data root's lock."""


@contextmanager
def pull_lock(root: Path, name: str) -> Iterator[None]:
    """Hold ``<root>/pull/<name>.lock`` for one pull: two pulls at once (``make pull`` beside the
    schedule) would number their pages alike, so the second is refused while the first runs."""
    path = Path(root) / "pull" / f"{name}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PullRunning(f"another {name} pull is running on {root}; this one is not started") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def part_path(path: Path) -> Path:
    return path.with_name(path.name + PART_SUFFIX)


def atomic_write(path: Path, chunks: bytes | Iterable[bytes]) -> int:
    """Write ``chunks`` to ``path`` through ``<path>.part`` and a rename; the number of bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = part_path(path)
    written = 0
    try:
        with open(part, "wb") as handle:
            for chunk in ([chunks] if isinstance(chunks, bytes) else chunks):
                handle.write(chunk)
                written += len(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return written


def page_pattern(collection: str) -> re.Pattern:
    """File names of one collection's pages: ``<collection>.json`` or ``<collection>_<n>.json``
    (extension in any case; ``sleep_time.json`` is not a page of ``sleep``)."""
    return re.compile(rf"^{re.escape(collection)}(?:_(\d+))?\.json$", re.IGNORECASE)


def page_files(folder: Path, collection: str) -> list[Path]:
    """The settled page files of one collection in a participant folder, in natural order."""
    pattern = page_pattern(collection)
    return [p for p in source_files(folder) if pattern.match(p.name)]


def page_number(path: Path, collection: str) -> int:
    """1 for ``<collection>.json``, n for ``<collection>_<n>.json``."""
    match = page_pattern(collection).match(path.name)
    return int(match.group(1)) if match and match.group(1) else 1


def next_page_names(folder: Path, collection: str, count: int) -> list[str]:
    """Names for ``count`` new pages, numbered after every page already in ``folder`` (a leftover
    ``.part`` file included, so a name is never reused)."""
    pattern = page_pattern(collection)
    taken = [page_number(p.with_name(p.name.removesuffix(PART_SUFFIX)), collection)
             for p in folder.glob("*") if pattern.match(p.name.removesuffix(PART_SUFFIX))] if folder.is_dir() else []
    first = max(taken, default=0) + 1
    return [f"{collection}.json" if n == 1 else f"{collection}_{n}.json" for n in range(first, first + count)]


def sorts_last(name: str, others: Iterable[str]) -> bool:
    """True when ``name`` comes after every name of ``others`` in natural order."""
    return all(natural_key(other) < natural_key(name) for other in others)
