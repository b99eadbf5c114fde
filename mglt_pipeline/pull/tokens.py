"""The Oura token file: one access token per participant, read only here and never copied.

The file is a CSV with the columns ``participant_id,token`` (other columns are ignored), at
``$MGLT_OURA_TOKENS`` or ``<data root>/secrets/oura_tokens.csv``. It is refused when group or others
have any access to it (as ``ssh`` refuses a readable private key): tokens read the health data of a
person. A token is held in memory only: no message, status or metadata ever quotes the file's
cells, only its line numbers, since a misplaced column could put a token where an id belongs.

A conflict is shown, never resolved by position: a participant listed twice with different tokens,
or one token listed for several participants (whose data would then be one person's), is refused
for every participant concerned.
"""
from __future__ import annotations

import csv
import os
import re
import stat
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

TOKEN_FILE_VARIABLE = "MGLT_OURA_TOKENS"
DEFAULT_TOKEN_FILE = Path("secrets") / "oura_tokens.csv"
PARTICIPANT_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
"""The contract's participant_id pattern (DATA_CONTRACT.md, participants.csv)."""


class TokenFileRefused(Exception):
    """The token file cannot be used at all (missing, readable by others, no required columns)."""


@dataclass
class TokenFile:
    """The usable tokens by participant, the participants refused with the reason, and the lines
    that name no usable participant (by line number only)."""

    tokens: dict[str, str] = field(default_factory=dict, repr=False)
    refused: dict[str, str] = field(default_factory=dict)
    unusable_lines: list[str] = field(default_factory=list)
    unused_tokens: list[str] = field(default_factory=list, repr=False)

    def secrets(self) -> list[str]:
        """Every token the file holds, used or not (what ``redact`` must never let through)."""
        return list(self.tokens.values()) + self.unused_tokens


def token_file_path(data_root: Path | str, environ: dict[str, str] | None = None) -> Path:
    """``$MGLT_OURA_TOKENS`` if set, else ``<data root>/secrets/oura_tokens.csv``."""
    value = (os.environ if environ is None else environ).get(TOKEN_FILE_VARIABLE)
    return Path(value) if value else Path(data_root) / DEFAULT_TOKEN_FILE


def check_private(path: Path) -> None:
    """Refuse a token file that is missing, not a regular file, or open to group or others."""
    if not path.is_file():
        raise TokenFileRefused(f"no Oura token file at {path} (set {TOKEN_FILE_VARIABLE} or create it)")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise TokenFileRefused(
            f"the Oura token file {path} has mode {mode:04o}: group or others can access it, so it is "
            f"not used; make it private with: chmod 600 {path}")


def read_token_file(path: Path | str) -> TokenFile:
    """The participants' tokens of a private token file (see the module docstring for the rules)."""
    path = Path(path)
    check_private(path)
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = [cell.strip() for cell in next(reader, [])]
        if "participant_id" not in header or "token" not in header:
            raise TokenFileRefused(f"the Oura token file {path} needs a header with the columns participant_id,token")
        id_at, token_at = header.index("participant_id"), header.index("token")
        listed: dict[str, set[str]] = defaultdict(set)
        lines: dict[str, list[int]] = defaultdict(list)
        result = TokenFile()
        for number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            participant = cells[id_at].strip() if id_at < len(cells) else ""
            token = cells[token_at].strip() if token_at < len(cells) else ""
            if not PARTICIPANT_ID.match(participant):
                result.unusable_lines.append(f"line {number}: no valid participant_id")
                if token:
                    result.unused_tokens.append(token)
                continue
            lines[participant].append(number)
            if token:
                listed[participant].add(token)
    return _resolve(listed, lines, result)


def _resolve(listed: dict[str, set[str]], lines: dict[str, list[int]], result: TokenFile) -> TokenFile:
    """One token per participant, refusing conflicts in both directions."""
    holders: dict[str, set[str]] = defaultdict(set)
    for participant, tokens in listed.items():
        for token in tokens:
            holders[token].add(participant)
    for participant, numbers in lines.items():
        tokens = listed.get(participant, set())
        shared = sorted({p for t in tokens for p in holders[t]} - {participant})
        where = ", ".join(str(n) for n in numbers)
        if not tokens:
            result.refused[participant] = f"the token file has no token for this participant (line {where})"
        elif len(tokens) > 1:
            result.refused[participant] = f"the token file lists different tokens for this participant (lines {where})"
        elif shared:
            result.refused[participant] = ("the token file lists the same token for participants "
                                           f"{', '.join([participant, *shared])}; whose data it reads is unknown")
        else:
            result.tokens[participant] = next(iter(tokens))
            continue
        result.unused_tokens.extend(tokens)
    return result


def redact(text: str, secrets: list[str]) -> str:
    """``text`` with every secret replaced by ``[token]``: the last guard before anything is kept.
    Longer secrets go first, so a token that contains another is replaced whole."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, "[token]")
    return text
