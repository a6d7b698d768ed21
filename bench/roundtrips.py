"""Store round trips per ``recordEvents`` batch, by collection, read from /metrics.

Builds the app with ``create_app`` on the embedded store, sends a 100-event and a 400-event
mixed batch (new viewers and pairs, as in bench/ingest.py's mix) through ``/graphql`` with a
real ``service`` token, and prints ``audience_store_operations_total`` moved by each, by
collection. The round trips are exact counts, not timings. With ``LATENCY_MS=1`` every round
trip also sleeps 1 ms in the store adapter (a simulated network hop) and events/s are printed.

Run by hand: ``.venv/bin/python bench/roundtrips.py``.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from api.auth import mint_token
from api.settings import Settings
from store.database import Store

SECRET = "bench-secret-bench-secret-bench-secret"
LATENCY_SECONDS = float(os.environ.get("LATENCY_MS", "0")) / 1000
MIX = ("profileViewed", "profileViewed", "chatCompleted", "transactionCompleted", "mediaLiked",
       "callCompleted")
BATCH = ("mutation($events: [EventInput!]!) { recordEvents(events: $events) "
         "{ eventId duplicate } }")


def mixed_batch(size: int, rng: random.Random, prefix: str) -> list[dict[str, Any]]:
    """``size`` events of the everyday mix over 50 viewers and 10 creators."""
    now = datetime.now(UTC)
    out = []
    for i in range(size):
        kind = rng.choice(MIX)
        base = {"eventId": f"{prefix}-{i}", "viewerId": f"v{rng.randrange(50)}",
                "creatorId": f"c{rng.randrange(10)}",
                "occurredAt": (now - timedelta(minutes=rng.randrange(10_000))).isoformat()}
        extra: dict[str, Any] = {
            "profileViewed": {"dwellSeconds": 30},
            "chatCompleted": {"chatId": f"ch{i}", "tokens": 20, "messageCount": 5},
            "transactionCompleted": {"tokens": 300, "kind": "tip"},
            "mediaLiked": {"mediaId": f"m{i}"},
            "callCompleted": {"callId": f"k{i}", "durationMinutes": 6, "tokens": 200,
                              "callType": "VIDEO"},
        }[kind]
        out.append({kind: base | extra})
    return out


def round_trips(text: str) -> Counter[str]:
    found: Counter[str] = Counter()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "audience_store_operations_total":
                found[sample.labels["collection"]] += int(sample.value)
    return found


async def scrape_cost(http: httpx.AsyncClient) -> Counter[str]:
    """The round trips one /metrics scrape makes itself (its figures read the store)."""
    first = round_trips((await http.get("/metrics")).text)
    second = round_trips((await http.get("/metrics")).text)
    second.subtract(first)
    return second


async def measure(http: httpx.AsyncClient, events: list[dict[str, Any]]
                  ) -> tuple[Counter[str], float]:
    headers = {"Authorization": f"Bearer {mint_token(SECRET, 'bench', ['service'])}"}
    scrape = await scrape_cost(http)
    before = round_trips((await http.get("/metrics")).text)
    started = time.perf_counter()
    response = await http.post("/graphql", json={"query": BATCH, "variables": {"events": events}},
                               headers=headers)
    seconds = time.perf_counter() - started
    assert not response.json().get("errors"), response.text
    after = round_trips((await http.get("/metrics")).text)
    after.subtract(before)
    after.subtract(scrape)  # the second scrape's own reads
    return +after, seconds


async def main() -> None:
    settings = Settings(audience_jwt_secret=SECRET, audience_demo=False,
                        audience_inline_worker=False)
    store = Store.open(None, "roundtrips")
    store.latency_seconds = LATENCY_SECONDS
    app = create_app(settings, store=store)
    rng = random.Random(7)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            rows = []
            for size in (100, 400):
                trips, seconds = await measure(http, mixed_batch(size, rng, f"b{size}"))
                rows.append((size, trips, seconds))
    collections = sorted({c for _, trips, _ in rows for c in trips})
    print(f"{'collection':<28}" + "".join(f"{size:>10}" for size, _, _ in rows))
    for name in collections:
        print(f"{name:<28}" + "".join(f"{trips[name]:>10}" for _, trips, _ in rows))
    print(f"{'total':<28}" + "".join(f"{sum(t.values()):>10}" for _, t, _ in rows))
    print(f"{'events/s':<28}" + "".join(f"{size / s:>10.0f}" for size, _, s in rows)
          + f"   (simulated round trip {LATENCY_SECONDS * 1000:g} ms)")


if __name__ == "__main__":
    asyncio.run(main())
