"""Queued segment work: a job's life (pending → running → done, retried or failed), the retry
backoff, the lease a worker holds on a job, and the daily full-recompute schedule.

A job is claimed with a lease (an owner and an expiry). A worker that dies mid-job simply stops
renewing its lease; once it expires any worker may take the job over. Work is idempotent (it
recomputes from current rollups), so running a job twice is harmless, losing one is not.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from domain.priorities import WorkKind

#: how long a claimed job belongs to its worker without a renewal
DEFAULT_LEASE = timedelta(seconds=60)
#: attempts before a job is marked failed (its last error kept for the operator)
DEFAULT_MAX_ATTEMPTS = 5
#: first retry delay; doubles with each attempt, capped at ``MAX_BACKOFF``
BASE_BACKOFF = timedelta(seconds=5)
MAX_BACKOFF = timedelta(minutes=10)
#: jobs one worker pass claims by default
DEFAULT_BATCH_SIZE = 100
#: bounds of ``processSegmentQueue(batchSize:)`` and ``audience worker --batch-size``
MIN_BATCH_SIZE, MAX_BATCH_SIZE = 1, 1000
#: how long an error message is kept on a job
MAX_ERROR_LENGTH = 500

#: the daily full recompute starts at this UTC time
DAILY_RUN_AT = time(2, 0, tzinfo=UTC)
#: a store with no daily run on record starts its first one only this close after 02:00
FRESH_START_WINDOW = timedelta(hours=1)
#: a daily run that stops renewing its lock for this long is taken over
DAILY_LOCK_LEASE = timedelta(minutes=10)
#: day buckets of spend are kept this long: the longest budget window the thresholds accept
#: (``BudgetThresholds.window_days`` ≤ 365), so no live threshold change can reach pruned data
SPEND_RETENTION_DAYS = 365
#: failed jobs stay visible to operators this long, then the daily run removes them
FAILED_RETENTION = timedelta(days=7)


class JobStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    FAILED = "failed"


@dataclass(frozen=True)
class Job:
    """A queued unit of segment work as the store holds it."""

    id: str
    key: str
    kind: WorkKind
    viewer_id: str | None
    creator_id: str | None
    status: JobStatus
    priority: int
    due_at: datetime
    created_at: datetime
    attempts: int = 0
    events: int = 1
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    last_error: str | None = None
    #: a fan-out job's resume point: the last viewer (creator job) or creator (viewer job)
    #: whose pair it recomputed, so a retried or taken-over job goes on from there
    progress: str | None = None


class DeadLetterSource(StrEnum):
    """Where a dead letter came from: a segment change's outbox, or the work queue."""

    OUTBOX = "outbox"
    QUEUE = "queue"


@dataclass(frozen=True)
class DeadLetter:
    """A record that failed too often to keep retrying: where it came from, what it was
    about (``key``: the pair or the job's work key), why it failed, and its raw payload."""

    id: str
    source: DeadLetterSource
    key: str
    error: str
    attempts: int
    at: datetime
    priority: int | None
    payload: Mapping[str, Any]


def backoff(attempts: int) -> timedelta:
    """Delay before retry number ``attempts`` (1-based): 5 s, 10 s, 20 s, ... up to 10 min."""
    delay = BASE_BACKOFF * (2 ** max(0, attempts - 1))
    return min(delay, MAX_BACKOFF)


def error_text(exc: BaseException) -> str:
    """What is kept of an error on a failed job: its type and message, bounded."""
    text = f"{type(exc).__name__}: {exc}".strip()
    return text[:MAX_ERROR_LENGTH]


def daily_run_day(now: datetime) -> date:
    """The day whose daily run is due at ``now``: today from 02:00 UTC, else yesterday.

    A run missed because no worker was up at 02:00 is therefore caught up by the next worker
    that looks, rather than skipped: budgets must decay even after an outage.
    """
    now = now.astimezone(UTC)
    today = now.date()
    if now.timetz() >= DAILY_RUN_AT:
        return today
    return today - timedelta(days=1)


def daily_run_to_attempt(now: datetime, latest: DailyRunRecord | None) -> date | None:
    """Which day's run a worker should try at ``now``, given the latest run on record.

    The due day's run, unless it is already finished. A store with no run on record has no
    history of runs to keep up (it is new, or it is the embedded store, fresh at every start):
    its first run is the next 02:00 one, not an immediate full pass over data that was just
    computed — unless the worker starts within ``FRESH_START_WINDOW`` of 02:00.
    """
    day = daily_run_day(now)
    if latest is not None:
        if latest.day == day and latest.status is RunStatus.FINISHED:
            return None
        return day
    scheduled = datetime.combine(day, DAILY_RUN_AT)
    return day if now.astimezone(UTC) - scheduled <= FRESH_START_WINDOW else None


def daily_lock_id(day: date) -> str:
    return f"daily:{day.strftime('%Y%m%d')}"


def next_daily_run(now: datetime) -> datetime:
    """The next 02:00 UTC strictly after ``now``."""
    now = now.astimezone(UTC)
    at = datetime.combine(now.date(), DAILY_RUN_AT)
    return at if at > now else at + timedelta(days=1)


def percentile(values: list[float], fraction: float) -> float | None:
    """The ``fraction`` (0–1) percentile by nearest rank; ``None`` for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


class RunStatus(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"


@dataclass(frozen=True)
class DailyRunRecord:
    """One day's full recompute as its lock document records it."""

    day: date
    status: RunStatus
    owner: str
    started_at: datetime
    attempts: int = 1
    finished_at: datetime | None = None
    pairs: int = 0
    snapshots: int | None = None
    pruned_viewers: int = 0
    error: str | None = None


@dataclass(frozen=True)
class WorkerStatus:
    """What a worker process last reported about itself."""

    worker_id: str
    host: str
    pid: int
    started_at: datetime
    last_seen: datetime
    processed: int = 0
    failed: int = 0
    p50_seconds: float | None = None
    p95_seconds: float | None = None


@dataclass(frozen=True)
class QueuePolicy:
    """How workers treat jobs; every number an operator may tune (api/settings.py)."""

    lease: timedelta = DEFAULT_LEASE
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    batch_size: int = DEFAULT_BATCH_SIZE
    #: idle wait between passes when nothing was due
    poll_seconds: float = 1.0
    #: how often a worker looks whether the daily run is due
    daily_check_seconds: float = 60.0
    #: how often a worker reports itself alive
    heartbeat_seconds: float = 15.0
    #: how often a worker looks for segment changes a dead writer left undelivered (each look
    #: is one query; the first pass of every worker always looks)
    sweep_seconds: float = 30.0

    @property
    def redelivery_grace(self) -> timedelta:
        """Age after which an unconfirmed segment change is presumed orphaned: twice the lease,
        so the writer's own job lease has expired (it is dead or has lost its job)."""
        return self.lease * 2

    def next_attempt(self, attempts: int) -> bool:
        """Whether a job that has used ``attempts`` attempts gets another one."""
        return attempts < self.max_attempts


@dataclass(frozen=True)
class QueueRun:
    """What one pass over the queue did."""

    claimed: int = 0
    processed: int = 0
    retried: int = 0
    failed: int = 0
    redelivered: int = 0
    remaining: int | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class QueueDepth:
    """How many jobs of one priority are in one status."""

    priority: int
    status: JobStatus
    jobs: int


@dataclass(frozen=True)
class SegmentHealth:
    """The figures an operator watches: is work flowing, failing, slow, or stuck?"""

    checked_at: datetime
    depth: tuple[QueueDepth, ...]
    failed_last_24h: int
    #: age of the oldest pending job (batched work is pending by design for up to an hour)
    oldest_pending_age_seconds: float | None
    #: how far past its due time the most overdue pending job is (the real backlog signal)
    max_overdue_seconds: float | None
    compute_p50_seconds: float | None
    compute_p95_seconds: float | None
    compute_samples: int
    threshold_cache_hit_rate: float
    last_daily_run: DailyRunRecord | None
    next_daily_run_at: datetime
    workers: tuple[WorkerStatus, ...]
    recent_failures: tuple[Job, ...]
    #: events stored but still unapplied past the in-flight grace: what a crash stranded and
    #: the worker's recovery sweep has yet to finish (services/ingest.py)
    unapplied_events: int = 0
    #: records set aside after their attempts ran out, by source (see ``DeadLetter``)
    dead_letters: Mapping[DeadLetterSource, int] | None = None

    def jobs(self, status: JobStatus) -> int:
        return sum(d.jobs for d in self.depth if d.status is status)
