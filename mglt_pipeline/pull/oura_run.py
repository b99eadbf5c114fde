"""One Oura pull of the whole trial: every participant of the token file, side by side.

Participants come from ``raw/participants.csv`` read as the pipeline reads it
(``sources.trial_files.read_participants``): a token of someone who is not a known participant,
or whose enrolment date is missing, is not used (status ``failed``, with the reason). Participants
are pulled a few at a time (``workers``, threads: the work is waiting on the network), each with
their own token, budget and session, so one participant's failure never stops another's pull.
Every reason is passed through ``tokens.redact`` before it is kept or shown.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from mglt_pipeline.pull.files import pull_lock
from mglt_pipeline.pull.http import Budget
from mglt_pipeline.pull.oura_api import OuraClient
from mglt_pipeline.pull.oura_pull import ParticipantPull, StudyWindow, pull_participant, study_window
from mglt_pipeline.pull.state import STATUS_FILE, load_status, next_status, save_status
from mglt_pipeline.pull.tokens import read_token_file, redact
from mglt_pipeline.sources.trial_files import read_participants


@dataclass(frozen=True)
class OuraPullSettings:
    """Days re-asked for restatements, requests one token may make per pull, participants at once."""

    restate_days: int = 3
    requests_per_token: int = 200
    workers: int = 4


@dataclass
class OuraPullRun:
    """What one pull did: an outcome per participant of the token file, the status rows after it,
    the known participants without a token, and the token-file lines that named nobody."""

    outcomes: list[ParticipantPull]
    status: dict[str, dict[str, str]]
    without_token: list[str] = field(default_factory=list)
    unusable_lines: list[str] = field(default_factory=list)


def _date(value) -> date | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def local_today(now: datetime, zone: object) -> date:
    """The participant's calendar date at ``now`` (UTC when the zone is missing or unknown)."""
    try:
        return now.astimezone(ZoneInfo(str(zone))).date()
    except (ZoneInfoNotFoundError, ValueError):
        return now.astimezone(timezone.utc).date()


def participant_windows(participants: pd.DataFrame, now: datetime) -> dict[str, tuple[StudyWindow, date] | str]:
    """Each known participant's study window and today's date where they live, or why there is
    no window."""
    windows: dict[str, tuple[StudyWindow, date] | str] = {}
    for row in participants.itertuples(index=False):
        enrolled = _date(row.enrolled_on)
        if enrolled is None:
            windows[row.participant_id] = "participants.csv has no usable enrolled_on, so there is no study window"
            continue
        today = local_today(now, row.timezone)
        windows[row.participant_id] = (study_window(enrolled, _date(row.first_dose_on), _date(row.withdrawn_on),
                                                    today), today)
    return windows


def run_oura_pull(root: Path, token_file: Path, client: OuraClient, settings: OuraPullSettings,
                  now: datetime) -> OuraPullRun:
    """Pull every participant of the token file into ``<root>/raw/oura``, and update the status
    file. ``tokens.TokenFileRefused`` when the token file cannot be used at all,
    ``files.PullRunning`` when another Oura pull runs on this data root."""
    with pull_lock(Path(root), "oura"):
        return _run_oura_pull(root, token_file, client, settings, now)


def _run_oura_pull(root: Path, token_file: Path, client: OuraClient, settings: OuraPullSettings,
                   now: datetime) -> OuraPullRun:
    tokens = read_token_file(token_file)
    raw = Path(root) / "raw"
    windows = participant_windows(read_participants(raw, Path(root)).clean, now)
    outcomes = [ParticipantPull(pid, status="failed", reason=reason) for pid, reason in tokens.refused.items()]
    due = []
    for pid, token in tokens.tokens.items():
        window = windows.get(pid, "not a participant of participants.csv, so there is no study window")
        if isinstance(window, str):
            outcomes.append(ParticipantPull(pid, status="failed", reason=window))
        else:
            due.append((pid, token, *window))

    def pull(task: tuple[str, str, StudyWindow, date]) -> ParticipantPull:
        pid, token, window, today = task
        return pull_participant(client, raw / "oura" / pid, pid, token, window, today, settings.restate_days,
                                Budget(settings.requests_per_token))

    with ThreadPoolExecutor(max_workers=max(1, settings.workers)) as pool:
        outcomes += list(pool.map(pull, due))
    secrets = tokens.secrets()
    for outcome in outcomes:
        outcome.reason = redact(outcome.reason, secrets)
    outcomes.sort(key=lambda o: o.participant_id)
    status_path = Path(root) / STATUS_FILE
    status = next_status(load_status(status_path), outcomes, now.astimezone(timezone.utc).date(), now)
    save_status(status_path, status)
    listed = set(tokens.tokens) | set(tokens.refused)
    return OuraPullRun(outcomes, status, without_token=sorted(set(windows) - listed),
                       unusable_lines=tokens.unusable_lines)
