"""Which raw files each source has, and their fingerprint: the data version of ``raw_<source>``.

DATA_CONTRACT.md: files may arrive at any time; a file whose name starts with ``.`` or ends in
``.tmp``/``.part`` (or that lies in a folder named ``.*``) is still being written and is ignored.
A source is its fixed files (``participants.csv``; ``randomization.csv`` and ``unblinding.csv``) or
every other file of its folder, at any depth and with any extension (Oura API JSON, account exports
and Trends CSV, REDCap exports and data dictionary): a file the readers set aside still changes what
a run reports. The fingerprint changes exactly when such a file is added, removed or edited.

The sensor also waits for files modified in the last few seconds (``unsettled_sources``), so that it
never acts on half a copy; a run reads and observes every file settled by name.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

from mglt_pipeline.sources.files import is_settled

SETTLE_SECONDS = 5.0
"""A file modified less than this many seconds ago may still be being written (sensor only)."""

SOURCE_FILES: dict[str, tuple[str, ...]] = {
    "participants": ("participants.csv",),
    "randomization": ("randomization.csv", "unblinding.csv"),
}
SOURCE_FOLDERS: dict[str, str] = {"oura": "oura", "redcap": "redcap", "diary": "diary"}
SOURCES: tuple[str, ...] = ("participants", "randomization", "oura", "redcap", "diary")


def raw_asset_key(source: str) -> str:
    """The observable source asset of a source's raw files: ``raw_<source>``."""
    return f"raw_{source}"


def is_in_progress(path: Path, raw_dir: Path) -> bool:
    """True for a file still being written by its name, or inside a folder named ``.*``."""
    folders = path.relative_to(raw_dir).parent.parts
    return not is_settled(path) or any(part.startswith(".") for part in folders)


def _candidates(raw: Path, source: str) -> list[Path]:
    if source in SOURCE_FILES:
        return [raw / name for name in SOURCE_FILES[source] if (raw / name).is_file()]
    folder = raw / SOURCE_FOLDERS[source]
    return [p for p in folder.rglob("*") if p.is_file()] if folder.is_dir() else []


def source_files(raw_dir: Path | str, source: str, now: float | None = None,
                 settle_seconds: float = 0.0) -> list[Path]:
    """The settled files of ``source`` under ``raw_dir``, sorted by path; with ``settle_seconds``,
    also leaving out files modified less than that long ago."""
    raw = Path(raw_dir)
    now = time.time() if now is None else now
    return sorted(p for p in _candidates(raw, source) if not is_in_progress(p, raw)
                  and (settle_seconds <= 0 or now - p.stat().st_mtime >= settle_seconds))


def unsettled_sources(raw_dir: Path | str, now: float | None = None,
                      settle_seconds: float = SETTLE_SECONDS) -> set[str]:
    """The sources with a file (settled by name) modified less than ``settle_seconds`` ago: a copy may
    be in progress, and the source's files are not the whole picture until it has settled."""
    raw = Path(raw_dir)
    now = time.time() if now is None else now
    return {source for source in SOURCES
            if any(now - p.stat().st_mtime < settle_seconds for p in source_files(raw, source))}


def file_digest(path: Path) -> str:
    """SHA-256 of the file's bytes, hashed again only when the file's inode status changed.

    Fingerprints are taken every 30 s; at thousands of participants re-reading unchanged files would
    cost seconds. The status-change time (ctime) moves on every write, rename onto the path and
    ``utime``, and no program can set it back, so a replaced file with an old modification time
    (``cp -p``, ``rsync -t``) is still hashed again.
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


@dataclass(frozen=True)
class SourceState:
    """What one source's raw files are now: their fingerprint and a summary a person can read."""

    source: str
    fingerprint: str
    files: int
    size_bytes: int
    newest_file: str | None
    newest_modified: str | None

    def metadata(self) -> dict[str, object]:
        return {"files": self.files, "size_bytes": self.size_bytes, "newest_file": self.newest_file or "",
                "newest_modified": self.newest_modified or "", "fingerprint": self.fingerprint}


def source_state(raw_dir: Path | str, source: str, now: float | None = None,
                 settle_seconds: float = 0.0) -> SourceState:
    """The fingerprint and summary of ``source``'s settled files (a source without files has one too)."""
    raw = Path(raw_dir)
    files = source_files(raw, source, now=now, settle_seconds=settle_seconds)
    newest = max(files, key=lambda p: (p.stat().st_mtime, p.as_posix()), default=None)
    return SourceState(
        source, files_fingerprint(files, raw), len(files), sum(p.stat().st_size for p in files),
        newest.relative_to(raw).as_posix() if newest else None,
        datetime.fromtimestamp(newest.stat().st_mtime, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        if newest else None)


def data_fingerprint(raw_dir: Path | str) -> str:
    """One fingerprint of all raw data the pipeline reads (every source's files settled by name)."""
    text = "\n".join(f"{source}\t{source_state(raw_dir, source).fingerprint}" for source in SOURCES)
    return hashlib.sha256(text.encode()).hexdigest()
