"""The queue worker: claim due jobs under a lease, run them, settle them; and keep the
daily run, orphaned-change redelivery, stranded-event recovery and a heartbeat going.

Any number of workers (processes, or tasks in one process) share one queue: claims are atomic
find-and-modify calls, so each job goes to one worker at a time. A worker that dies keeps its
jobs only until their leases expire; the next worker to look takes them over. Segment changes
its death left undelivered are redelivered after the same grace (services/segments.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable
from datetime import UTC, date, datetime

from domain.queue import (
    Job,
    JobStatus,
    QueuePolicy,
    QueueRun,
    WorkerStatus,
    daily_run_to_attempt,
    percentile,
)
from services.container import Services
from services.daily import DailyRun

log = logging.getLogger("audience.worker")
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class QueueWorker:
    def __init__(self, services: Services, worker_id: str | None = None,
                 policy: QueuePolicy | None = None, clock: Clock = utc_now) -> None:
        self.services = services
        self.worker_id = worker_id or default_worker_id()
        self.policy = policy or services.queue_policy
        self.clock = clock
        self.started_at = clock()
        self.processed = 0
        self.failed = 0
        self._last_daily_check = float("-inf")
        self._last_beat = float("-inf")
        self._last_sweep = float("-inf")
        self._daily: asyncio.Task[None] | None = None

    async def run_once(self, batch_size: int | None = None, *, drain: bool = False,
                       count_remaining: bool = False) -> QueueRun:
        """One pass: redeliver orphaned changes, claim up to ``batch_size`` jobs (due ones, or
        every pending one with ``drain``), run them as one batch, settle each."""
        started = time.perf_counter()
        size = batch_size or self.policy.batch_size
        services = self.services
        redelivered = 0
        if time.monotonic() - self._last_sweep >= self.policy.sweep_seconds:
            self._last_sweep = time.monotonic()
            redelivered = await services.segments.redeliver(self.policy.redelivery_grace,
                                                            self.clock())
            # Events whose ingesting process died before their rollups and listeners were
            # done (services/ingest.py): finished here, counted exactly once.
            await services.ingestion.recover(services.ingestion.recovery_after)
        jobs: list[Job] = []
        failed = 0
        now = self.clock()
        for job in await services.queue.claim(self.worker_id, now, now + self.policy.lease,
                                              size, due_only=not drain):
            if job.attempts > self.policy.max_attempts:
                # Taken over after its lease expired once too often: a job that kills (or
                # outlasts) every worker that runs it must not take the fleet down with it.
                await services.queue.fail(job, self.worker_id, job.last_error or (
                    f"lease expired {job.attempts - 1} times"), now)
                failed += 1
                continue
            jobs.append(job)
        done, retried, run_failed = await services.jobs.run(jobs, self.worker_id, self.clock)
        failed += run_failed
        self.processed += done
        self.failed += failed
        remaining = (await services.queue.count(JobStatus.PENDING)) if count_remaining else None
        return QueueRun(claimed=len(jobs), processed=done, retried=retried, failed=failed,
                        redelivered=redelivered, remaining=remaining,
                        seconds=time.perf_counter() - started)

    async def drain(self, batch_size: int | None = None) -> QueueRun:
        """Pass after pass until nothing is pending, due or not (scripts, tests, demo load)."""
        total = QueueRun()
        while True:
            run = await self.run_once(batch_size, drain=True)
            total = QueueRun(claimed=total.claimed + run.claimed,
                             processed=total.processed + run.processed,
                             retried=total.retried + run.retried,
                             failed=total.failed + run.failed,
                             redelivered=total.redelivered + run.redelivered,
                             seconds=total.seconds + run.seconds)
            if run.claimed == 0 and run.failed == 0:
                return total

    async def run_forever(self, stop: asyncio.Event, *, batch_size: int | None = None,
                          drain: bool = False) -> None:
        """Work until ``stop`` is set; the batch in hand is finished first. ``drain`` takes
        pending jobs before they are due (tests and catch-up after an outage)."""
        size = batch_size or self.policy.batch_size
        log.info("worker started", extra={"worker": self.worker_id})
        try:
            while not stop.is_set():
                busy = False
                try:
                    run = await self.run_once(size, drain=drain)
                    busy = run.claimed >= size
                    if run.claimed or run.failed:
                        log.info("queue pass", extra={
                            "worker": self.worker_id, "processed": run.processed,
                            "retried": run.retried, "failed": run.failed,
                            "seconds": round(run.seconds, 3)})
                    await self.tick()
                except Exception:  # the store hiccuped: keep the worker alive, try again
                    log.exception("queue pass failed", extra={"worker": self.worker_id})
                if not busy:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self.policy.poll_seconds)
        finally:
            if self._daily is not None and not self._daily.done():
                self._daily.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._daily
            log.info("worker stopped", extra={"worker": self.worker_id,
                                              "processed": self.processed})

    async def tick(self) -> None:
        """The periodic chores: start the daily run when due, report a heartbeat."""
        mono = time.monotonic()
        if mono - self._last_daily_check >= self.policy.daily_check_seconds:
            self._last_daily_check = mono
            if self._daily is None or self._daily.done():
                latest = await self.services.locks.daily_runs(1)
                day = daily_run_to_attempt(self.clock(), latest[0] if latest else None)
                if day is not None:
                    # Its own task: a long full run must not stall the queue behind it.
                    self._daily = asyncio.create_task(self._run_daily(day))
        if mono - self._last_beat >= self.policy.heartbeat_seconds:
            self._last_beat = mono
            await self.beat()

    async def _run_daily(self, day: date) -> None:
        try:
            await DailyRun(self.services, self.worker_id, self.clock).run(day)
        except Exception:
            pass  # logged and recorded on the lock by DailyRun; retried after its delay

    async def beat(self) -> None:
        timings = list(self.services.segments.timings)
        await self.services.workers.beat(WorkerStatus(
            worker_id=self.worker_id, host=socket.gethostname(), pid=os.getpid(),
            started_at=self.started_at, last_seen=self.clock(), processed=self.processed,
            failed=self.failed, p50_seconds=percentile(timings, 0.5),
            p95_seconds=percentile(timings, 0.95)))
