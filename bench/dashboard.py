"""Dashboard benchmark: p50 of ``creatorAudience`` with 1,000 and 1,000,000 segment documents.

Builds the app with ``create_app`` on a store (the embedded one, or MongoDB when ``MONGODB_URL``
is set: a throw-away database is created and dropped). For each size it writes N segment
documents of one creator (the worst case: a creator with N fans) plus a constant crowd of other
creators, and the matching state directly: the live aggregate (the sum of the segments'
contributions, computed with the domain's own ``contribution``), its release, and daily
snapshots 7 and 30 days back. Then it times the full dashboard query — overview, breakdown, top
segments, recommendations, growth, messaging and a segment performance figure — over HTTP
through ``httpx.ASGITransport`` (no network: the time is the server's), and reports the p50
ratio between the sizes, store calls per request, and, as a control, what one scan of the
creator's segments (``count_documents``) costs at each size — the cost the dashboard avoids.

The embedded store (mongomock) enforces a unique index by scanning the collection on every
insert, which makes a million inserts quadratic; the bench drops the segments collection's
indexes before bulk-loading there (the dashboard never reads that collection). Against MongoDB
the indexes stay. The app runs without its inline queue worker (see the results file for why).

Run: ``.venv/bin/python bench/dashboard.py [--sizes 1000 1000000] [--requests 200]``;
writes ``bench/RESULTS-dashboard.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import resource
import statistics
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.app import create_app  # noqa: E402
from api.auth import mint_token  # noqa: E402
from api.settings import Settings  # noqa: E402
from domain.insights.aggregates import contribution  # noqa: E402
from domain.insights.releases import cells_of, nested  # noqa: E402
from domain.segments.budget import BudgetResult, BudgetTier  # noqa: E402
from domain.segments.classify import AudienceSegment  # noqa: E402
from domain.segments.intent import Intent, IntentResult  # noqa: E402
from domain.segments.passion import PassionSignals  # noqa: E402
from domain.segments.proximity import Proximity, ProximityResult  # noqa: E402
from domain.segments.risk import RiskLevel  # noqa: E402
from store.aggregates import aggregate_from_doc, part_id  # noqa: E402
from store.database import Collections, Store  # noqa: E402
from store.performance import performance_id  # noqa: E402
from store.releases import ReleaseRepository  # noqa: E402
from store.segments import segment_to_doc  # noqa: E402
from store.snapshots import SnapshotRepository  # noqa: E402

SECRET = "bench-secret-bench-secret-bench-secret-00"
CREATOR = "creator-bench"
#: a constant crowd of other creators, each with its own segments, aggregate, release, snapshots
OTHER_CREATORS = 100
OTHER_SEGMENTS = 2  # segments of each other creator
CHUNK = 10_000
NOW = datetime.now(UTC)
DASHBOARD = """query($id: ID!) { creatorAudience(creatorId: $id) {
  withheld asOf
  overview { totalAudience payingAudience payingPercentage averageRevenuePerViewer
             topSegmentDescription }
  breakdown { budget { key label percentage count averageRevenue revenueShare }
              intent { key label percentage count averageRevenue revenueShare }
              proximity { key label percentage count averageRevenue revenueShare }
              passion { key label percentage } }
  topSegments(limit: 10) { rank description count percentage averageRevenue characteristics }
  recommendations { primaryStrategy reasoning tips opportunities
                    trace { rule evidence { metric value } } }
  growth { last7Days { available audienceChange tiers { key countChange shareChange } }
           last30Days { available audienceChange } }
  messaging { key label themes }
  segmentPerformance(segmentType: BUDGET, segmentValue: "HIGH", days: 30) {
    segment { impressions conversions conversionRate } conversionRateVsBaseline }
} }"""

#: the audience's mix: (weight, budget, intent, proximity)
MIX = [(w, b, i, p) for (b, wb) in (("LOW", 6), ("MID", 3), ("HIGH", 1))
       for (i, wi) in (("CHAT", 5), ("CALL", 3), ("MEETING", 1), ("EVENT", 1))
       for (p, wp) in (("LOCAL", 2), ("NEARBY", 3), ("REMOTE", 5)) for w in [wb * wi * wp]]
SPEND = {"LOW": (0, 3_000), "MID": (5_000, 15_000), "HIGH": (21_000, 60_000)}


def segment(n: int, rng: random.Random, creator: str) -> AudienceSegment:
    _, budget, intent, proximity = rng.choices(MIX, weights=[m[0] for m in MIX])[0]
    spend = rng.randint(*SPEND[budget]) if rng.random() < 0.7 else 0
    loyal = rng.random() < 0.15
    return AudienceSegment(
        viewer_id=f"fan-{n:07d}", creator_id=creator, budget=BudgetTier(budget),
        intent=Intent(intent), proximity=Proximity(proximity),
        passion=PassionSignals(rng.random() < 0.2, 60.0, 3, spend == 0 and rng.random() < 0.3,
                               40.0, loyal, 80.0 if loyal else 20.0),
        risk=RiskLevel.NORMAL, last_updated=NOW,
        budget_detail=BudgetResult(BudgetTier(budget), spend, 3 if spend else 0),
        intent_detail=IntentResult(Intent(intent), 0.8, True, "pair"),
        proximity_detail=ProximityResult(Proximity(proximity), None),
        revenue_tokens=spend + rng.randint(0, 500), spend_tokens=spend)


async def load_segments(store: Store, creator: str, size: int, seed: int) -> Counter[str]:
    """Insert ``size`` segment documents of ``creator``; return the sum of their cells."""
    rng = random.Random(seed)
    cells: Counter[str] = Counter()
    collection = store.db[Collections.SEGMENTS]
    for begin in range(0, size, CHUNK):
        docs = []
        for n in range(begin, min(size, begin + CHUNK)):
            s = segment(n, rng, creator)
            cells.update(contribution(s))
            docs.append({"_id": f"{s.viewer_id}|{creator}", **segment_to_doc(s)})
        await collection.insert_many(docs)
    return cells


async def load_state(store: Store, creator: str, cells: Counter[str], seed: int,
                     performance: bool = True) -> None:
    """The live aggregate, its release, two daily snapshots and 30 days of segment
    performance counters, as the app keeps them."""
    flat = {k: int(v) for k, v in cells.items() if v}
    await store.db[Collections.CREATOR_AGGREGATES].insert_one(
        {"_id": part_id(creator, 0), "creator_id": creator, "part": 0, **nested(flat)})
    await ReleaseRepository(store).initialise(creator, flat, NOW)
    aggregate = aggregate_from_doc({"_id": creator, **nested(flat)})
    snapshots = SnapshotRepository(store)
    for days in (7, 30):
        older = cells_of(aggregate)
        shrink = {k: v * (100 - days) // 100 for k, v in older.items()}
        await snapshots.put(aggregate_from_doc({"_id": creator, **nested(shrink)}),
                            (NOW - timedelta(days=days)).date(), NOW)
    if not performance:
        return
    rng = random.Random(seed)
    docs = []
    for day in range(1, 31):
        when = (NOW - timedelta(days=day)).date()
        for value in ("LOW", "MID", "HIGH"):
            impressions = rng.randint(500, 5_000)
            docs.append({"_id": performance_id(creator, "budget", value, when),
                         "creator_id": creator, "segment_type": "budget",
                         "segment_value": value, "day": when.strftime("%Y%m%d"),
                         "impressions": impressions, "interactions": impressions // 10,
                         "conversions": impressions // 50,
                         "revenue_tokens": impressions * 20})
    await store.db[Collections.SEGMENT_PERFORMANCE].insert_many(docs)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def measure(size: int, requests: int, seed: int) -> dict[str, Any]:
    url = os.environ.get("MONGODB_URL") or None
    db_name = f"audience_bench_{uuid.uuid4().hex[:8]}"
    settings = Settings(mongodb_url=url, mongodb_db=db_name, audience_jwt_secret=SECRET,
                        audience_demo=False, audience_inline_worker=False,
                        audience_rate_limit_cost_per_minute=10**9,
                        audience_max_cost=10**6, audience_log_level="WARNING")
    store = Store.open(url, db_name)
    app = create_app(settings, store=store)
    creator = {"Authorization": f"Bearer {mint_token(SECRET, CREATOR, ['creator'])}"}
    try:
        async with app.router.lifespan_context(app):
            if store.embedded:  # see the module docstring: quadratic unique-index inserts
                await store.db[Collections.SEGMENTS].drop_indexes()
            started = time.perf_counter()
            for c in range(OTHER_CREATORS):
                other = f"creator-{c:04d}"
                # (no performance counters: the embedded store scans a collection on every
                # query, and the point here is the audience size, not the platform's)
                await load_state(store, other,
                                 await load_segments(store, other, OTHER_SEGMENTS, c), c,
                                 performance=False)
            cells = await load_segments(store, CREATOR, size - OTHER_CREATORS * OTHER_SEGMENTS,
                                        seed)
            await load_state(store, CREATOR, cells, seed)
            load_s = time.perf_counter() - started
            segments = await store.db[Collections.SEGMENTS].count_documents({})

            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://b") as http:
                async def ask() -> float:
                    t = time.perf_counter()
                    response = await http.post("/graphql", headers=creator,
                                               json={"query": DASHBOARD,
                                                     "variables": {"id": CREATOR}})
                    elapsed = (time.perf_counter() - t) * 1000
                    body = response.json()
                    if response.status_code != 200 or body.get("errors"):
                        raise RuntimeError(f"request failed: {body}")
                    if body["data"]["creatorAudience"]["withheld"]:
                        raise RuntimeError("the bench audience must be shown")
                    return elapsed

                for _ in range(50):
                    await ask()  # warm-up
                times, calls = [], []
                for _ in range(requests):
                    before = store.counter.calls
                    times.append(await ask())
                    calls.append(store.counter.calls - before)
                answer = (await http.post("/graphql", headers=creator, json={
                    "query": DASHBOARD, "variables": {"id": CREATOR}})).json()
            # the control: what one look at the creator's segments costs at this size
            scans = []
            for _ in range(3 if size > 100_000 else 10):
                t = time.perf_counter()
                await store.db[Collections.SEGMENTS].count_documents({"creator_id": CREATOR})
                scans.append((time.perf_counter() - t) * 1000)
    finally:
        if not store.embedded:
            await store.client.drop_database(db_name)
        store.close()
    overview = answer["data"]["creatorAudience"]["overview"]
    return {"size": size, "segments": segments, "load_s": load_s,
            "p50": statistics.median(times), "p95": percentile(times, 0.95),
            "p99": percentile(times, 0.99), "mean": statistics.fmean(times),
            "calls": statistics.median(calls), "scan_p50": statistics.median(scans),
            "total_shown": overview["totalAudience"], "requests": requests,
            "rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6}


def report(results: list[dict[str, Any]], embedded: bool) -> str:
    small, large = results[0], results[-1]
    ratio = large["p50"] / small["p50"]
    store = "embedded (mongomock-motor)" if embedded else "MongoDB (MONGODB_URL)"
    lines = [
        "# creatorAudience latency vs audience size",
        "",
        f"Run: `.venv/bin/python bench/dashboard.py` — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{platform.machine()}, {os.cpu_count()} CPUs, store: {store}.",
        "",
        "One creator holds all but a few of the segment documents (a creator with that many "
        f"fans); {OTHER_CREATORS} other creators ({OTHER_SEGMENTS} segments each, with their "
        "aggregates, releases and snapshots) share the store. Each request is the full "
        "dashboard query (overview, breakdown, top 10 segments, recommendations with "
        "trace, growth over 7 and 30 days, messaging, and segment performance over 30 "
        "days), sent over HTTP through "
        "`httpx.ASGITransport`, so the time is the server's: auth, GraphQL, store reads and "
        "the privacy rules.",
        "",
        "| segment documents | shown audience | requests | p50 ms | p95 ms | p99 ms | "
        "store calls / request | one scan of the creator's segments (control), ms |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(f"| {r['segments']:,} | {r['total_shown']:,} | {r['requests']} | "
                     f"{r['p50']:.2f} | {r['p95']:.2f} | {r['p99']:.2f} | "
                     f"{r['calls']:.0f} | "
                     f"{r['scan_p50']:.1f} |")
    lines += [
        "",
        f"**p50 ratio {large['segments']:,} / {small['segments']:,} documents: "
        f"{ratio:.2f}** (target ≤ 2).",
        "",
        "The app runs without its inline queue worker (`AUDIENCE_INLINE_WORKER=0`; in "
        "production the worker is its own process): on the embedded store the worker's "
        "periodic sweeps scan whole collections on the API's event loop, and with a million "
        "segments such a sweep (like the control scan) stalls whatever request is in flight "
        "for seconds — an earlier run with it on showed the same p50 but a p99 of 4–6 s at "
        "1,000,000.",
        "",
        "Why it is flat: a request reads the creator's release document (one `_id` lookup), "
        "the two snapshots growth compares with (one indexed query each) and the segment "
        "performance counters of the window (one indexed query) — the same calls whatever "
        "the audience size (the store-call column). The segments are never read on the "
        "request path; the control column is what a single look at them would cost.",
        "",
        f"Loading took {large['load_s']:.0f} s for the largest size (peak RSS "
        f"{large['rss_gb']:.1f} GB)."
        + (" On the embedded store the segments collection is bulk-loaded without its unique "
           "index (mongomock checks a unique index by scanning the collection on every "
           "insert); nothing timed reads that collection except the control." if embedded
           else ""),
    ]
    return "\n".join(lines) + "\n"


async def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    results = []
    for size in sorted(args.sizes):
        result = await measure(size, args.requests, args.seed)
        print(f"{result['segments']:>9,} segments: p50 {result['p50']:.2f} ms, "
              f"p99 {result['p99']:.2f} ms, {result['calls']:.0f} store calls, "
              f"control scan {result['scan_p50']:.1f} ms, load {result['load_s']:.0f} s",
              flush=True)
        results.append(result)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 1_000_000])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default=str(ROOT / "bench" / "RESULTS-dashboard.md"))
    args = parser.parse_args()
    results = asyncio.run(run(args))
    ratio = results[-1]["p50"] / results[0]["p50"]
    print(f"p50 ratio {results[-1]['segments']:,} / {results[0]['segments']:,}: {ratio:.2f}")
    text = report(results, embedded=not os.environ.get("MONGODB_URL"))
    Path(args.out).write_text(text)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
