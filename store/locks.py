"""``locks`` and ``queue_workers``: leased locks for singleton runs, and worker heartbeats.

A lock is one document whose ``_id`` names the run (``daily:20261127``). Creating it is the
atomic claim (the unique ``_id`` lets exactly one creator win); a holder that stops renewing is
taken over once its lease expires; a finished lock stays as the run's record.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from domain.queue import DailyRunRecord, RunStatus, WorkerStatus
from store.database import Collections, Store, utc

_DAILY_PREFIX = "daily:"
#: workers a health read lists at most
MAX_WORKERS_LISTED = 1000


def daily_from_doc(d: Mapping[str, Any]) -> DailyRunRecord:
    started = utc(d["started_at"])
    assert started is not None
    return DailyRunRecord(
        day=date(int(d["_id"][6:10]), int(d["_id"][10:12]), int(d["_id"][12:14])),
        status=RunStatus(d["status"]), owner=d["owner"], started_at=started,
        attempts=int(d.get("attempts", 1)), finished_at=utc(d.get("finished_at")),
        pairs=int(d.get("pairs", 0)), snapshots=d.get("snapshots"),
        pruned_viewers=int(d.get("pruned_viewers", 0)), error=d.get("error"))


class LockRepository:
    def __init__(self, store: Store) -> None:
        self._locks = store.collection(Collections.LOCKS)

    async def acquire(self, lock_id: str, owner: str, now: datetime,
                      lease_until: datetime) -> bool:
        """Become the holder of ``lock_id``: it is new, or its holder's lease expired, or its
        last run failed. A finished lock is never taken again."""
        try:
            await self._locks.insert_one({"_id": lock_id, "owner": owner,
                                          "status": RunStatus.RUNNING.value, "started_at": now,
                                          "lease_expires_at": lease_until, "attempts": 1})
            return True
        except DuplicateKeyError:
            pass
        doc = await self._locks.find_one_and_update(
            {"_id": lock_id, "$or": [{"status": RunStatus.RUNNING.value,
                                      "lease_expires_at": {"$lt": now}},
                                     {"status": RunStatus.FAILED.value,
                                      "retry_at": {"$lte": now}}]},
            {"$set": {"owner": owner, "status": RunStatus.RUNNING.value, "started_at": now,
                      "lease_expires_at": lease_until, "taken_over_at": now},
             "$inc": {"attempts": 1}},
            return_document=ReturnDocument.AFTER)
        return doc is not None

    async def renew(self, lock_id: str, owner: str, lease_until: datetime,
                    progress: str | None = None) -> bool:
        """Extend the lease (and record how far the run got, for a holder taking over);
        ``False`` means the lock was taken over (stop working)."""
        update: dict[str, Any] = {"lease_expires_at": lease_until}
        if progress is not None:
            update["progress"] = progress
        result = await self._locks.update_one(
            {"_id": lock_id, "owner": owner, "status": RunStatus.RUNNING.value},
            {"$set": update})
        return bool(result.matched_count)

    async def progress(self, lock_id: str) -> str | None:
        """Where the run of ``lock_id`` got to before its holder stopped (None: the start)."""
        doc = await self._locks.find_one({"_id": lock_id}, {"progress": 1})
        return doc.get("progress") if doc else None

    async def finish(self, lock_id: str, owner: str, now: datetime,
                     result: Mapping[str, Any]) -> bool:
        outcome = await self._locks.update_one(
            {"_id": lock_id, "owner": owner, "status": RunStatus.RUNNING.value},
            {"$set": {"status": RunStatus.FINISHED.value, "finished_at": now, **result},
             "$unset": {"error": "", "retry_at": ""}})
        return bool(outcome.matched_count)

    async def fail(self, lock_id: str, owner: str, now: datetime, error: str,
                   retry_at: datetime) -> None:
        await self._locks.update_one(
            {"_id": lock_id, "owner": owner, "status": RunStatus.RUNNING.value},
            {"$set": {"status": RunStatus.FAILED.value, "failed_at": now, "error": error,
                      "retry_at": retry_at}})

    async def is_finished(self, lock_id: str) -> bool:
        doc = await self._locks.find_one({"_id": lock_id}, {"status": 1})
        return bool(doc) and doc["status"] == RunStatus.FINISHED.value

    async def daily_runs(self, limit: int) -> list[DailyRunRecord]:
        """The latest daily runs, newest day first."""
        cursor = self._locks.find({"_id": {"$regex": f"^{_DAILY_PREFIX}"}}).sort(
            "_id", -1).limit(limit)
        return [daily_from_doc(d) async for d in cursor]


class WorkerRegistry:
    """Heartbeats of worker processes, so operators see which workers are alive."""

    def __init__(self, store: Store) -> None:
        self._workers = store.collection(Collections.QUEUE_WORKERS)

    async def beat(self, status: WorkerStatus) -> None:
        await self._workers.update_one(
            {"_id": status.worker_id},
            {"$set": {"host": status.host, "pid": status.pid, "started_at": status.started_at,
                      "last_seen": status.last_seen, "processed": status.processed,
                      "failed": status.failed, "p50_seconds": status.p50_seconds,
                      "p95_seconds": status.p95_seconds}}, upsert=True)

    async def seen_since(self, since: datetime) -> list[WorkerStatus]:
        cursor = self._workers.find({"last_seen": {"$gte": since}}).sort("last_seen", 1).limit(
            MAX_WORKERS_LISTED)
        out = []
        async for d in cursor:
            started, seen = utc(d["started_at"]), utc(d["last_seen"])
            assert started is not None and seen is not None
            out.append(WorkerStatus(worker_id=d["_id"], host=d.get("host", ""),
                                    pid=int(d.get("pid", 0)), started_at=started,
                                    last_seen=seen, processed=int(d.get("processed", 0)),
                                    failed=int(d.get("failed", 0)),
                                    p50_seconds=d.get("p50_seconds"),
                                    p95_seconds=d.get("p95_seconds")))
        return sorted(out, key=lambda w: w.worker_id)
