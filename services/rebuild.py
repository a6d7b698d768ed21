"""Rebuild: recompute every derived document from the event ledger alone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from services.container import Services

Progress = Callable[[int, int], None]


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
    async for event in services.ledger.replay():
        await services.ingestion.apply_rollups(event)
        done += 1
        if progress and (done % 500 == 0 or done == total):
            progress(done, total)
    await services.ledger.mark_all_applied(started)
    return done


async def rebuild_all(services: Services, progress: Progress | None = None) -> int:
    """Rollups, then every later stage that derives from them."""
    replayed = await rebuild_rollups(services, progress)
    for stage in services.rebuild_stages:
        await stage()
    return replayed
