"""Incremental rollups versus rescanning history: per-event cost at 100 and 100,000 events.

For one viewer with ``N`` prior transactions, the cost of taking one more event:

- **incremental** (what the server does): store the event, ``$inc`` the counters, recompute
  the pair's segment from the rollups (``Ingestion.record``);
- **rescan** (the naive alternative): store the event, then read the viewer's transactions in
  the trailing window back from the ledger and sum them to classify the budget.

Run: ``.venv/bin/python bench/rescan.py``. Prints the per-event cost of each at each history
size and the ratios, all from one run.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from api.bootstrap import bootstrap
from domain.events import EventType, parse_event
from domain.rollups import DaySpend, ViewerRollup, day_key, rollup_update
from domain.segments.budget import classify_budget
from domain.segments.thresholds import BudgetThresholds
from services.container import Services
from store.database import Collections, Store
from store.ledger import event_to_doc

VIEWER, CREATOR = "viewer-hist", "creator-hist"
SIZES = (100, 100_000)
SAMPLES = {100: 200, 100_000: 5}  # a rescan at 100k takes seconds on mongomock


def transaction(i: int, when: datetime, now: datetime):  # noqa: ANN201 - local helper
    return parse_event(EventType.TRANSACTION_COMPLETED, f"h{i}", when,
                       {"viewer_id": VIEWER, "creator_id": CREATOR, "tokens": 10,
                        "kind": "tip"}, now=now)


async def preload(services: Services, store: Store, count: int, now: datetime) -> None:
    """History straight into the ledger and rollups (same documents ingestion would write)."""
    events = store.db[Collections.EVENTS]
    docs = []
    for i in range(count):
        event = transaction(i, now - timedelta(minutes=i % (60 * 24 * 60)), now)
        docs.append(event_to_doc(event, now, applied=True))
        await services.rollups.apply(rollup_update(event), VIEWER, CREATOR, None,
                                     event_id=event.event_id)
        if len(docs) == 5000:
            await events.insert_many(docs)
            docs = []
    if docs:
        await events.insert_many(docs)
    await services.segments.recompute(VIEWER, CREATOR)


async def rescan_budget(store: Store, now: datetime) -> None:
    window = BudgetThresholds()
    since = now - timedelta(days=window.window_days)
    spend: dict[str, DaySpend] = {}
    async for doc in store.db[Collections.EVENTS].find(
            {"type": "transactionCompleted", "fields.viewer_id": VIEWER,
             "occurred_at": {"$gte": since}}):
        day = day_key(doc["occurred_at"])
        old = spend.get(day, DaySpend())
        spend[day] = DaySpend(old.tokens + doc["fields"]["tokens"], old.purchases + 1)
    classify_budget(ViewerRollup(VIEWER, spend_days=spend), window, now)


async def measure(size: int) -> tuple[float, float]:
    store = Store.open(None, f"rescan_{size}")
    services = bootstrap(store, config_cache_seconds=60)
    await services.start()
    now = datetime.now(UTC)
    await preload(services, store, size, now)
    n = SAMPLES[size]
    started = time.perf_counter()
    for i in range(n):
        await services.ingestion.record(transaction(10_000_000 + i, now, now))
    incremental = (time.perf_counter() - started) / n
    started = time.perf_counter()
    for i in range(n):
        event = transaction(20_000_000 + i, now, now)
        await services.ledger.append(event, now)
        await rescan_budget(store, now)
    rescan = (time.perf_counter() - started) / n
    return incremental, rescan


async def main() -> None:
    results = {size: await measure(size) for size in SIZES}
    print("per-event cost, one viewer, one run (embedded store)")
    print(f"{'history':>10}{'incremental':>14}{'rescan':>14}{'rescan/incr':>13}")
    for size, (inc, res) in results.items():
        print(f"{size:>10}{inc * 1e3:>11.2f} ms{res * 1e3:>11.2f} ms{res / inc:>12.1f}x")
    small, large = results[SIZES[0]], results[SIZES[1]]
    print(f"incremental 100k/100 = {large[0] / small[0]:.2f}x; "
          f"rescan 100k/100 = {large[1] / small[1]:.1f}x")


if __name__ == "__main__":
    asyncio.run(main())
