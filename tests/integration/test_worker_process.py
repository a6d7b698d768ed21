"""A real ``audience worker`` process, killed with SIGKILL in the middle of a batch, loses
nothing: another process takes its jobs over once their leases expire, and every event ends up
in the segments and the aggregates exactly as a rebuild from the ledger puts them.

Two processes can only share a real MongoDB (the embedded store lives inside one process), so
this runs when ``MONGODB_URL`` is set (``docker compose --profile test run --rm tests``). The
same failure inside one process, at each dangerous point, is tests/integration/test_queue.py::
test_a_worker_killed_mid_batch_loses_nothing, which always runs.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from api.bootstrap import bootstrap
from domain.queue import JobStatus
from services.rebuild import rebuild_all
from store.database import Collections
from tests.conftest import SECRET
from tests.queue_support import derived_state, world

pytestmark = pytest.mark.skipif(not os.environ.get("MONGODB_URL"),
                                reason="worker processes need a MongoDB server they all reach")

ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 2


def worker(settings, worker_id: str, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MONGODB_URL": settings.mongodb_url,
           "MONGODB_DB": settings.mongodb_db, "AUDIENCE_JWT_SECRET": SECRET,
           "AUDIENCE_WORKER_LEASE_SECONDS": str(LEASE_SECONDS),
           "AUDIENCE_LOG_LEVEL": "WARNING"}
    return subprocess.Popen([sys.executable, "-m", "api.cli", "worker", "--worker-id",
                             worker_id, *extra], env=env, cwd=ROOT)


async def test_a_worker_process_killed_mid_batch_loses_nothing(settings, store):
    services = bootstrap(store, config_cache_seconds=0)
    await services.start()
    await world(services, viewers=60, creators=5)
    queued = len(await services.queue.all())

    doomed = worker(settings, "doomed", "--drain", "--batch-size", "20")
    try:
        async with asyncio.timeout(60):
            while True:  # kill it once it has finished some jobs and holds others
                jobs = await services.queue.all()
                held = [j for j in jobs if j.status is JobStatus.RUNNING]
                if held and len(jobs) < queued:
                    break
                assert doomed.poll() is None, "the worker exited before it could be killed"
                await asyncio.sleep(0.005)
        doomed.send_signal(signal.SIGKILL)
    finally:
        doomed.kill()
        doomed.wait()
    left = await services.queue.all()
    assert left, "the worker finished everything before the kill: make the world bigger"
    assert {j.lease_owner for j in left if j.status is JobStatus.RUNNING} == {"doomed"}

    # Its leases (and the grace for its unconfirmed changes) run out; another process finishes.
    await asyncio.sleep(2 * LEASE_SECONDS + 0.5)
    rescuer = worker(settings, "rescuer", "--once", "--drain")
    assert await asyncio.to_thread(rescuer.wait, 120) == 0

    assert await services.queue.all() == []
    assert await store.db[Collections.SEGMENTS].count_documents(
        {"outbox.0": {"$exists": True}}) == 0
    state = await derived_state(services)
    await rebuild_all(services)
    assert await derived_state(services) == state
