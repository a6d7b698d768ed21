"""The demo's past is replayed in memory by the live rules: what it computes for a day equals
what the store-backed pipeline computes from the same events (rollups, segments, aggregates)."""

from __future__ import annotations

import os
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta

from api.bootstrap import bootstrap
from domain.insights.aggregates import contribution
from domain.insights.releases import cells_of
from domain.segments.thresholds import SegmentThresholds
from services.demo import demo_events
from services.demo_history import (
    DAILY_DAYS,
    WEEKLY_STEP,
    _Rollups,
    demo_history,
    snapshot_days,
)
from store.aggregates import aggregate_from_doc
from store.database import Store

NOW = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)


async def test_a_replayed_day_equals_the_pipeline_on_the_same_events():
    events = list(demo_events(8, 120, 3, NOW))
    at = NOW - timedelta(days=20)
    before = [e for e in events if e.occurred_at < at]
    memory = _Rollups()
    for event in before:
        memory.fold(event)
    replayed: dict[str, Counter[str]] = {}
    for key in memory.pairs:
        replayed.setdefault(key[1], Counter()).update(contribution(memory.classify(
            key, SegmentThresholds(), at)))

    store = Store.open(os.environ.get("MONGODB_URL") or None, f"hist_{uuid.uuid4().hex[:10]}")
    services = bootstrap(store)
    await services.start()
    try:
        for start in range(0, len(before), 500):
            batch = before[start:start + 500]
            stored = await services.ledger.append_many(batch, at, applied=True)
            await services.ingestion.apply_rollups_many(
                [e for e, new in zip(batch, stored, strict=True) if new], first_time=True)
        await services.segments.recompute_all(at)
        live = {d["_id"]: cells_of(aggregate_from_doc(d))
                for d in await services.aggregates.snapshot()}
    finally:
        if not store.embedded:
            await store.client.drop_database(store.db.name)
        store.close()
    assert live and {c: {k: v for k, v in cells.items() if v}
                     for c, cells in replayed.items()} == {
        c: {k: v for k, v in cells.items() if v} for c, cells in live.items()}


def test_run_days_are_daily_for_growth_and_weekly_before():
    today = date(2026, 11, 20)
    days = snapshot_days(today, 90)
    assert days[-1] == today - timedelta(days=1) and today not in days
    assert [today - timedelta(days=n) for n in range(DAILY_DAYS, 0, -1)] == days[-DAILY_DAYS:]
    older = days[:-DAILY_DAYS]
    assert older and all((today - d).days % WEEKLY_STEP == 0 for d in older)


def test_history_is_deterministic_and_only_holds_ended_days():
    events = list(demo_events(6, 80, 4, NOW))
    first = demo_history(events, NOW, 90, seed=4)
    assert first == demo_history(events, NOW, 90, seed=4)
    assert first.snapshots and first.performance
    today = NOW.strftime("%Y%m%d")
    assert all(d.day < today for d in first.performance)
    assert all(s.day < NOW.date() for s in first.snapshots)
    # impressions were counted, and conversions follow some of them, never more than shown
    by_day = Counter()
    for d in first.performance:
        by_day["impressions"] += d.impressions
        by_day["conversions"] += d.conversions
    assert 0 < by_day["conversions"] < by_day["impressions"]
    # a release stands for at least ten viewers
    assert all(s.aggregate.total >= 10 for s in first.snapshots)
