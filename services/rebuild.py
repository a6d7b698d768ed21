"""Rebuild: recompute every derived document from the event ledger alone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from domain.events import Event
from services.container import Services

Progress = Callable[[int, int], None]
#: events replayed per rollup batch (one round trip per rollup collection each)
REPLAY_BATCH = 500


async def rebuild_rollups(services: Services, progress: Progress | None = None) -> int:
    """Clear the rollups and replay the whole ledger into them; returns events replayed.

    Events a crash left unapplied are counted by the replay like any other, so they are marked
    applied afterwards: recovery must not count them a second time. (Their listeners do not
    run; the later stages recompute what the scheduler would have, but a conversion such an
    event would have counted is not counted — the same as for any rebuild.)"""
    started = datetime.now(UTC)
    total = await services.ledger.count()
    await services.rollups.clear()
    done = 0
    batch: list[Event] = []
    async for event in services.ledger.replay():
        batch.append(event)
        if len(batch) >= REPLAY_BATCH:
            done += await _replay(services, batch)
            if progress:
                progress(done, total)
    done += await _replay(services, batch)
    if progress and batch:
        progress(done, total)
    await services.ledger.mark_all_applied(started)
    return done


async def _replay(services: Services, batch: list[Event]) -> int:
    """Apply and empty ``batch`` (a constant number of round trips for it); its size."""
    if not batch:
        return 0
    size = len(batch)
    await services.ingestion.apply_rollups_many(batch, first_time=True)
    batch.clear()
    return size


async def rebuild_all(services: Services, progress: Progress | None = None) -> int:
    """Rollups, then every later stage that derives from them."""
    replayed = await rebuild_rollups(services, progress)
    for stage in services.rebuild_stages:
        await stage()
    return replayed
