"""``segment_computation_queue``: coalescing enqueue, leased claims, retries, and queue figures.

One document per job. A *pending* job carries ``pending_key`` (its work key) under a unique
sparse index, so there is at most one pending job per unit of work and a repeated event merges
into it (``$max`` priority, ``$min`` due time). Claiming removes ``pending_key``: an event that
arrives while the job runs therefore opens a new pending job beside it instead of being folded
into work that may already have read the rollups.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from domain.priorities import PRIORITIES, Work, WorkKind
from domain.queue import Job, JobStatus, QueueDepth
from store.bulk import update_each
from store.database import Collections, Store, utc
from store.dead_letters import DeadLetterRepository, DeadLetterSource

_ACTIVE = [JobStatus.PENDING.value, JobStatus.RUNNING.value]
#: a viewer's pending or running jobs a reader looks at before reading (read-your-writes)
ACTIVE_VIEWER_JOBS = 200
#: candidate queries per claim when concurrent workers keep taking the candidates first
_CLAIM_ROUNDS = 3


def job_from_doc(d: dict[str, Any]) -> Job:
    due, created = utc(d["due_at"]), utc(d.get("created_at") or d["due_at"])
    assert due is not None and created is not None
    return Job(id=str(d["_id"]), key=d["key"], kind=WorkKind(d["kind"]),
               viewer_id=d.get("viewer_id"), creator_id=d.get("creator_id"),
               status=JobStatus(d["status"]), priority=int(d["priority"]), due_at=due,
               created_at=created, attempts=int(d.get("attempts", 0)),
               events=int(d.get("events", 1)), lease_owner=d.get("lease_owner"),
               lease_expires_at=utc(d.get("lease_expires_at")),
               last_error=d.get("last_error"), progress=d.get("progress"))


@dataclass(frozen=True)
class QueuedWork:
    """Work to queue: at this priority, due then, on behalf of ``events`` events."""

    work: Work
    priority: int
    due_at: datetime
    events: int = 1


class QueueRepository:
    def __init__(self, store: Store) -> None:
        self._jobs = store.collection(Collections.QUEUE)
        self._dead = DeadLetterRepository(store)

    # --- producers ------------------------------------------------------------------------

    async def enqueue(self, work: Work, priority: int, due_at: datetime, now: datetime) -> None:
        """Open a pending job for ``work``, or merge into the one already pending (one call)."""
        await self.enqueue_many([QueuedWork(work, priority, due_at)], now)

    async def enqueue_many(self, works: Sequence[QueuedWork], now: datetime) -> None:
        """Open or merge a pending job for each work, all in one round trip: works with the
        same key are merged first (highest priority, earliest due, events added up)."""
        merged: dict[str, tuple[QueuedWork, int]] = {}
        for item in works:
            seen = merged.get(item.work.key)
            if seen is None:
                merged[item.work.key] = (item, item.events)
            else:
                best = QueuedWork(item.work, max(seen[0].priority, item.priority),
                                  min(seen[0].due_at, item.due_at))
                merged[item.work.key] = (best, seen[1] + item.events)
        writes = []
        for item, events in merged.values():
            work = item.work
            writes.append(({"pending_key": work.key}, {
                "$max": {"priority": item.priority},
                "$min": {"due_at": item.due_at},
                "$inc": {"events": events},
                "$set": {"updated_at": now},
                "$setOnInsert": {"key": work.key, "kind": work.kind.value,
                                 "viewer_id": work.viewer_id, "creator_id": work.creator_id,
                                 "status": JobStatus.PENDING.value, "created_at": now,
                                 "attempts": 0},
            }))
        # A duplicate key: a concurrent enqueue created the job between our match and insert
        # (merge into it), or a worker claimed it meanwhile (open a new one): upsert again.
        await update_each(self._jobs, writes, upsert_retries=2)

    # --- workers --------------------------------------------------------------------------

    async def claim(self, owner: str, now: datetime, lease_until: datetime, size: int = 1, *,
                    due_only: bool = True) -> list[Job]:
        """Take up to ``size`` jobs for ``owner``: first those whose lease expired (their
        worker died), then due pending ones, highest priority first, then earliest due.

        Each job is taken by its own atomic find-and-modify on its id and status, so two
        workers racing for the same candidates each get a job at most once; the loser simply
        moves on to the next candidate. ``due_only=False`` drains pending work regardless of
        its due time (``processSegmentQueue``, ``--drain``).
        """
        pending: dict[str, Any] = {"status": JobStatus.PENDING.value}
        if due_only:
            pending["due_at"] = {"$lte": now}
        expired = {"status": JobStatus.RUNNING.value, "lease_expires_at": {"$lt": now}}
        take = {"$set": {"status": JobStatus.RUNNING.value, "lease_owner": owner,
                         "lease_expires_at": lease_until, "started_at": now},
                "$unset": {"pending_key": ""}, "$inc": {"attempts": 1}}
        claimed: list[Job] = []
        for query in (expired, pending):
            for _ in range(_CLAIM_ROUNDS):
                wanted = size - len(claimed)
                if wanted <= 0:
                    return claimed
                # Over-fetch: candidates a concurrent worker takes first are skipped.
                # expired leases oldest first (index (status, lease_expires_at)); pending
                # ones highest priority, earliest due (index (status, priority, due_at))
                order = ([("lease_expires_at", 1)] if query is expired
                         else [("priority", -1), ("due_at", 1)])
                cursor = self._jobs.find(query, {"_id": 1}).sort(order).limit(wanted * 2)
                candidates = [d["_id"] async for d in cursor]
                for job_id in candidates:
                    if len(claimed) >= size:
                        break
                    doc = await self._jobs.find_one_and_update(
                        {"_id": job_id, **query}, take, return_document=ReturnDocument.AFTER)
                    if doc is None:
                        continue
                    try:
                        claimed.append(job_from_doc(doc))
                    except Exception as exc:  # unreadable: no worker could ever run it
                        await self._bury(doc, f"unreadable job: {type(exc).__name__}: {exc}",
                                         now)
                        await self._jobs.delete_one({"_id": job_id, "lease_owner": owner})
                if len(candidates) < wanted * 2:
                    break  # the query is exhausted
        return claimed

    async def claim_pending(self, job_id: str, owner: str, now: datetime,
                            lease_until: datetime) -> Job | None:
        """Take one specific pending job (a reader running the work it is about to read)."""
        doc = await self._jobs.find_one_and_update(
            {"_id": _oid(job_id), "status": JobStatus.PENDING.value},
            {"$set": {"status": JobStatus.RUNNING.value, "lease_owner": owner,
                      "lease_expires_at": lease_until, "started_at": now},
             "$unset": {"pending_key": ""}, "$inc": {"attempts": 1}},
            return_document=ReturnDocument.AFTER)
        return job_from_doc(doc) if doc else None

    async def note_progress(self, job: Job, owner: str, progress: str) -> bool:
        """Record how far a fan-out job got (while ``owner`` holds it); False: lease lost."""
        result = await self._jobs.update_one(
            {"_id": _oid(job.id), "lease_owner": owner, "status": JobStatus.RUNNING.value},
            {"$set": {"progress": progress}})
        return bool(result.matched_count)

    async def renew(self, job_ids: Sequence[str], owner: str, lease_until: datetime) -> int:
        """Extend the leases ``owner`` still holds; returns how many it still holds."""
        if not job_ids:
            return 0
        result = await self._jobs.update_many(
            {"_id": {"$in": [_oid(i) for i in job_ids]}, "lease_owner": owner,
             "status": JobStatus.RUNNING.value},
            {"$set": {"lease_expires_at": lease_until}})
        return int(result.matched_count)

    async def complete(self, jobs: Sequence[Job], owner: str) -> int:
        """Remove finished jobs (one call); a job whose lease ``owner`` lost meanwhile stays
        with its new holder. Returns how many were removed."""
        if not jobs:
            return 0
        result = await self._jobs.delete_many({"_id": {"$in": [_oid(j.id) for j in jobs]},
                                               "lease_owner": owner,
                                               "status": JobStatus.RUNNING.value})
        return int(result.deleted_count)

    async def retry(self, job: Job, owner: str, error: str, due_at: datetime,
                    now: datetime) -> None:
        """Put a failed attempt back as pending, due after its backoff.

        If newer events opened a pending job for the same work meanwhile, the attempt count
        and error move onto that job (so a persistent failure still ends in ``failed``).
        """
        mine = {"_id": _oid(job.id), "lease_owner": owner, "status": JobStatus.RUNNING.value}
        try:
            await self._jobs.update_one(mine, {
                "$set": {"status": JobStatus.PENDING.value, "pending_key": job.key,
                         "due_at": due_at, "last_error": error, "updated_at": now},
                "$unset": {"lease_owner": "", "lease_expires_at": ""}})
        except DuplicateKeyError:
            await self._jobs.update_one(
                {"pending_key": job.key},
                {"$max": {"attempts": job.attempts, "due_at": due_at},
                 "$set": {"last_error": error, "updated_at": now}})
            await self._jobs.delete_one(mine)

    async def fail(self, job: Job, owner: str | None, error: str, now: datetime) -> None:
        """Give up on a job: it moves to ``dead_letters`` with its last error, for an operator
        (copied first, then removed: a crash in between leaves a copy, never a loss)."""
        mine: dict[str, Any] = {"_id": _oid(job.id), "status": JobStatus.RUNNING.value}
        if owner is not None:
            mine["lease_owner"] = owner
        doc = await self._jobs.find_one(mine)
        if doc is None:
            return  # the lease was lost meanwhile: the job is its new holder's
        await self._bury(doc, error, now)
        await self._jobs.delete_one(mine)

    async def _bury(self, doc: dict[str, Any], error: str, now: datetime) -> None:
        payload = {**doc, "status": JobStatus.FAILED.value, "last_error": error,
                   "failed_at": now}
        payload.pop("lease_owner", None)
        payload.pop("lease_expires_at", None)
        priority = doc.get("priority")
        await self._dead.put(DeadLetterSource.QUEUE, str(doc["_id"]), key=str(doc.get("key")),
                             error=error, attempts=int(doc.get("attempts") or 0), at=now,
                             payload=payload,
                             priority=priority if isinstance(priority, int) else None)

    # --- readers that want fresh segments ---------------------------------------------------

    async def active(self, keys: Sequence[str], viewer_id: str | None = None) -> list[Job]:
        """Pending or running jobs for ``keys`` and, given ``viewer_id``, every pair or viewer
        job of that viewer — one query."""
        branches: list[dict[str, Any]] = []
        if keys:
            branches.append({"key": {"$in": list(set(keys))}})
        if viewer_id is not None:
            branches.append({"viewer_id": viewer_id,
                             "kind": {"$in": [WorkKind.PAIR.value, WorkKind.VIEWER.value]}})
        if not branches:
            return []
        query = {"status": {"$in": _ACTIVE},
                 **(branches[0] if len(branches) == 1 else {"$or": branches})}
        # A key has at most two active jobs (one pending, one running); a viewer's own jobs
        # are bounded by ACTIVE_VIEWER_JOBS: beyond it a reader leaves the rest to the workers.
        bound = 2 * len(set(keys)) + (ACTIVE_VIEWER_JOBS if viewer_id is not None else 0)
        return [job_from_doc(d) async for d in self._jobs.find(query).limit(bound)]

    # --- figures --------------------------------------------------------------------------

    async def depth(self) -> list[QueueDepth]:
        """Jobs by priority and status: one index count per (status, priority) of the
        priority table, and the dead letters for ``failed`` — never a $group over the whole
        queue, so a scrape costs the same however long the queue is."""
        out: list[QueueDepth] = []
        for level in sorted({p.level for p in PRIORITIES}, reverse=True):
            for status in _ACTIVE:
                n = int(await self._jobs.count_documents({"status": status, "priority": level}))
                if n:
                    out.append(QueueDepth(level, JobStatus(status), n))
            failed = await self._dead.count(DeadLetterSource.QUEUE, priority=level)
            if failed:
                out.append(QueueDepth(level, JobStatus.FAILED, failed))
        return sorted(out, key=lambda d: (-d.priority, d.status.value))

    async def count(self, status: JobStatus) -> int:
        if status is JobStatus.FAILED:
            return await self._dead.count(DeadLetterSource.QUEUE)
        return int(await self._jobs.count_documents({"status": status.value}))

    async def failed_since(self, since: datetime) -> int:
        return await self._dead.count(DeadLetterSource.QUEUE, since=since)

    async def oldest(self, status: JobStatus, field: str = "created_at") -> datetime | None:
        """The earliest ``field`` among jobs in ``status``."""
        doc = await self._jobs.find_one({"status": status.value}, {field: 1},
                                        sort=[("status", 1), (field, 1)])
        return utc(doc.get(field)) if doc else None

    async def recent_failures(self, limit: int) -> list[Job]:
        """The newest failed jobs (from ``dead_letters``), newest first."""
        out = []
        for letter in await self._dead.recent(DeadLetterSource.QUEUE, limit):
            try:
                out.append(job_from_doc(dict(letter.payload)))
            except Exception:  # an unreadable job's letter: listed by deadLetters only
                continue
        return out

    async def prune_failed(self, before: datetime) -> int:
        return await self._dead.prune(DeadLetterSource.QUEUE, before)

    async def all(self) -> list[Job]:
        """Every job (tests and benchmarks)."""
        return [job_from_doc(d) async for d in self._jobs.find({}).sort("created_at", 1)]


def _oid(job_id: str) -> Any:
    return ObjectId(job_id) if ObjectId.is_valid(job_id) else job_id
