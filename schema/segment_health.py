"""``SegmentHealth``: queue depth, failures, latency and the daily run, for operators."""

from __future__ import annotations

from datetime import datetime
from typing import TypeAlias

import strawberry

from domain.priorities import PRIORITIES, Cadence
from domain.queue import DailyRunRecord, Job, QueueDepth, RunStatus, WorkerStatus
from domain.queue import JobStatus as DomainJobStatus
from domain.queue import SegmentHealth as DomainHealth

# strawberry.enum registers the definition on the domain class and returns that same class: the
# calls are made for that effect, and the names are aliases type checkers accept in annotations.
strawberry.enum(DomainJobStatus, name="JobStatus", description="Where a queued job is in its life.")
strawberry.enum(RunStatus, name="DailyRunStatus")
strawberry.enum(Cadence, name="QueueCadence", description="When work of a priority becomes due.")

JobStatus: TypeAlias = DomainJobStatus
DailyRunStatus: TypeAlias = RunStatus
QueueCadence: TypeAlias = Cadence

_CADENCE_OF = {p.level: p.cadence for p in PRIORITIES}


@strawberry.type(description="Jobs of one priority in one status.")
class QueueDepthRow:
    priority: int
    cadence: QueueCadence | None
    status: JobStatus
    jobs: int

    @classmethod
    def from_domain(cls, d: QueueDepth) -> QueueDepthRow:
        return cls(priority=d.priority, cadence=_CADENCE_OF.get(d.priority), status=d.status,
                   jobs=d.jobs)


@strawberry.type(description="One day's full recompute, as its lock records it.")
class DailyRun:
    day: str
    status: DailyRunStatus
    owner: str
    started_at: datetime
    finished_at: datetime | None
    attempts: int
    pairs: int
    snapshots: int | None
    pruned_viewers: int
    error: str | None

    @classmethod
    def from_domain(cls, r: DailyRunRecord) -> DailyRun:
        return cls(day=r.day.isoformat(), status=r.status, owner=r.owner,
                   started_at=r.started_at, finished_at=r.finished_at, attempts=r.attempts,
                   pairs=r.pairs, snapshots=r.snapshots, pruned_viewers=r.pruned_viewers,
                   error=r.error)


@strawberry.type(description="A worker that reported within the last hour.")
class QueueWorker:
    worker_id: str
    host: str
    pid: int
    started_at: datetime
    last_seen: datetime
    processed: int
    failed: int
    compute_seconds_p50: float | None
    compute_seconds_p95: float | None

    @classmethod
    def from_domain(cls, w: WorkerStatus) -> QueueWorker:
        return cls(worker_id=w.worker_id, host=w.host, pid=w.pid, started_at=w.started_at,
                   last_seen=w.last_seen, processed=w.processed, failed=w.failed,
                   compute_seconds_p50=w.p50_seconds, compute_seconds_p95=w.p95_seconds)


@strawberry.type(description="A job that used its last attempt.")
class FailedJob:
    key: str
    priority: int
    attempts: int
    events: int
    last_error: str | None
    created_at: datetime

    @classmethod
    def from_domain(cls, j: Job) -> FailedJob:
        return cls(key=j.key, priority=j.priority, attempts=j.attempts, events=j.events,
                   last_error=j.last_error, created_at=j.created_at)


@strawberry.type(description="Is segment work flowing, failing, slow or stuck?")
class SegmentHealth:
    _health: strawberry.Private[DomainHealth]
    checked_at: datetime
    queue: list[QueueDepthRow] = strawberry.field(
        description="Jobs by priority and status.")
    pending_jobs: int
    running_jobs: int
    failed_jobs: int
    failed_last_24h: int
    oldest_pending_age_seconds: float | None = strawberry.field(
        description="Age of the oldest pending job; batched work waits up to an hour by "
                    "design.")
    max_overdue_seconds: float | None = strawberry.field(
        description="How far past its due time the most overdue pending job is: the backlog.")
    compute_seconds_p50: float | None = strawberry.field(
        description="Median seconds to recompute one pair (this process).")
    compute_seconds_p95: float | None
    compute_samples: int
    threshold_cache_hit_rate: float = strawberry.field(
        description="Share of threshold reads served from the cache (this process), 0–1.")
    last_daily_run: DailyRun | None
    next_daily_run_at: datetime
    workers: list[QueueWorker]
    recent_failures: list[FailedJob]
    unapplied_events: int = strawberry.field(
        description="Events stored but not yet counted a minute after they arrived: left by "
                    "a crashed process, finished by the workers' recovery sweep. Should be 0.")

    @classmethod
    def from_domain(cls, h: DomainHealth) -> SegmentHealth:
        return cls(
            _health=h, checked_at=h.checked_at,
            queue=[QueueDepthRow.from_domain(d) for d in h.depth],
            pending_jobs=h.jobs(DomainJobStatus.PENDING),
            running_jobs=h.jobs(DomainJobStatus.RUNNING),
            failed_jobs=h.jobs(DomainJobStatus.FAILED),
            failed_last_24h=h.failed_last_24h,
            oldest_pending_age_seconds=h.oldest_pending_age_seconds,
            max_overdue_seconds=h.max_overdue_seconds,
            compute_seconds_p50=h.compute_p50_seconds, compute_seconds_p95=h.compute_p95_seconds,
            compute_samples=h.compute_samples,
            threshold_cache_hit_rate=round(h.threshold_cache_hit_rate, 4),
            last_daily_run=DailyRun.from_domain(h.last_daily_run) if h.last_daily_run else None,
            next_daily_run_at=h.next_daily_run_at,
            workers=[QueueWorker.from_domain(w) for w in h.workers],
            recent_failures=[FailedJob.from_domain(j) for j in h.recent_failures],
            unapplied_events=h.unapplied_events)
