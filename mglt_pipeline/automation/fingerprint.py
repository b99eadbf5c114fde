"""Which raw files each source has, and a fingerprint of them (path, size, content hash).

DATA_CONTRACT.md: files may arrive at any time; a file whose name starts with ``.`` or ends in
``.tmp``/``.part`` is still being written and is ignored. A file modified in the last few seconds is
left out too (a copy may still be in progress), so a sensor tick never sees half a file, and its
source is reported unsettled (``unsettled_sources``) so that the sensor waits for it.
The fingerprint changes exactly when a settled file of the source is added, removed or edited.
"""
from __future__ import annotations

import hashlib
import time
from functools import lru_cache
from pathlib import Path

from mglt_pipeline.sources.files import is_settled

SETTLE_SECONDS = 5.0
"""A file modified less than this many seconds ago is still being written."""

SOURCE_PATTERNS: dict[str, tuple[str, ...]] = {
    "participants": ("participants.csv",),
    "randomization": ("randomization.csv", "unblinding.csv"),
    "oura": ("oura/*/*.json",),
    "redcap": ("redcap/*.csv",),
    "diary": ("diary/*.csv",),
}
"""The raw files of each source, as glob patterns under ``raw/`` (DATA_CONTRACT.md layout)."""

SOURCES: tuple[str, ...] = tuple(SOURCE_PATTERNS)


def is_in_progress(path: Path, raw_dir: Path) -> bool:
    """True for a file the ingest ignores as still being written (``sources.files.is_settled``:
    ``.*``, ``*.tmp``, ``*.part``), or a file inside a folder named ``.*``."""
    folders = path.relative_to(raw_dir).parent.parts
    return not is_settled(path) or any(part.startswith(".") for part in folders)


def source_files(raw_dir: Path | str, now: float | None = None,
                 settle_seconds: float = SETTLE_SECONDS) -> dict[str, list[Path]]:
    """The settled files of every source under ``raw_dir``, sorted by path (absent source: [])."""
    raw = Path(raw_dir)
    now = time.time() if now is None else now
    files: dict[str, list[Path]] = {}
    for source, patterns in SOURCE_PATTERNS.items():
        found = {p for pattern in patterns for p in raw.glob(pattern) if p.is_file()}
        files[source] = sorted(
            p for p in found
            if not is_in_progress(p, raw)
            and (settle_seconds <= 0 or now - p.stat().st_mtime >= settle_seconds)
        )
    return files


def unsettled_sources(raw_dir: Path | str, now: float | None = None,
                      settle_seconds: float = SETTLE_SECONDS) -> set[str]:
    """The sources with a file modified less than ``settle_seconds`` ago: a copy may be in progress.

    Such a source's settled files are not the whole picture (an export being overwritten drops out
    of them for a few seconds), so the sensor leaves the source alone until the file has settled.
    Files named as in progress (``.*``, ``*.tmp``, ``*.part``) do not count: they may linger.
    """
    raw = Path(raw_dir)
    now = time.time() if now is None else now
    return {source for source, patterns in SOURCE_PATTERNS.items()
            if any(p.is_file() and not is_in_progress(p, raw) and now - p.stat().st_mtime < settle_seconds
                   for pattern in patterns for p in raw.glob(pattern))}


def file_digest(path: Path) -> str:
    """SHA-256 of the file's bytes, hashed again only when the file's inode status changed.

    The sensor fingerprints every raw file every 30 s; at thousands of participants re-reading
    unchanged files would cost seconds a tick. The status-change time (ctime) moves on every write,
    rename onto the path and ``utime``, and no program can set it back, so a replaced file with an
    old modification time (``cp -p``, ``rsync -t``) is still hashed again.
    """
    stat = path.stat()
    return _digest(str(path), stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


@lru_cache(maxsize=200_000)
def _digest(path: str, inode: int, size: int, mtime_ns: int, ctime_ns: int) -> str:
    """SHA-256 of the bytes of ``path`` as it was with this inode status."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def files_fingerprint(files: list[Path], raw_dir: Path | str) -> str:
    """SHA-256 over (path relative to ``raw/``, size, content hash) of each file, in path order."""
    raw = Path(raw_dir)
    lines = [f"{p.relative_to(raw).as_posix()}\t{p.stat().st_size}\t{file_digest(p)}" for p in sorted(files)]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def source_fingerprints(raw_dir: Path | str, now: float | None = None,
                        settle_seconds: float = SETTLE_SECONDS) -> dict[str, str]:
    """The fingerprint of every source's settled files (a source without files has one too)."""
    files = source_files(raw_dir, now=now, settle_seconds=settle_seconds)
    return {source: files_fingerprint(paths, raw_dir) for source, paths in files.items()}


def newest_modification(raw_dir: Path | str, now: float | None = None,
                        settle_seconds: float = SETTLE_SECONDS) -> dict[str, float | None]:
    """Latest modification time (epoch seconds) of each source's settled files; None without files."""
    files = source_files(raw_dir, now=now, settle_seconds=settle_seconds)
    return {s: max((p.stat().st_mtime for p in paths), default=None) for s, paths in files.items()}


def data_fingerprint(raw_dir: Path | str) -> str:
    """One fingerprint of all raw data the pipeline reads (every source, files settled or not)."""
    per_source = source_fingerprints(raw_dir, settle_seconds=0.0)
    text = "\n".join(f"{source}\t{per_source[source]}" for source in SOURCES)
    return hashlib.sha256(text.encode()).hexdigest()
