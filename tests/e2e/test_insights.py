"""Creator audience insights end to end: events in through mutations, ``creatorAudience`` out.

The privacy tests play the attacker: a creator who sends the same query before and after a
viewer they know joins, leaves or changes, and compares every number of the two answers.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.settings import Settings
from domain.insights.labels import keys
from domain.insights.privacy import coarse_count, coarse_percentage, partition
from domain.insights.releases import cells_of
from domain.insights.view import audience_view
from services.rebuild import rebuild_all
from store.database import Collections, Store
from store.performance import performance_id
from tests.audience import (
    AUDIENCE,
    Segment,
    audience,
    block,
    creator_events,
    join,
    record,
)
from tests.conftest import Api, codes

C = "creator-1"
LOW_CHAT_REMOTE: Segment = ("LOW", "CHAT", "REMOTE")
MID_MEETING_NEARBY: Segment = ("MID", "MEETING", "NEARBY")
HIGH_CALL_LOCAL: Segment = ("HIGH", "CALL", "LOCAL")


def crowd(prefix: str, *groups: tuple[int, Segment]) -> list[tuple[str, Segment]]:
    """Viewers ``<prefix>-<n>``: ``count`` of each segment, in order."""
    out: list[tuple[str, Segment]] = []
    for count, segment in groups:
        base = len(out)
        out.extend((f"{prefix}-{base + i}", segment) for i in range(count))
    return out


async def audience_of(api: Api, groups: Sequence[tuple[int, Segment]], creator: str = C,
                      prefix: str = "fan") -> list[tuple[str, Segment]]:
    await record(api, creator_events(creator))
    fans = crowd(prefix, *groups)
    await join(api, creator, fans)
    return fans


@asynccontextmanager
async def world(settings: Settings) -> AsyncIterator[tuple[Api, Store]]:
    """A second, independent deployment (its own database) inside one test."""
    own = settings.model_copy(update={"mongodb_db": f"audience_test_{uuid.uuid4().hex[:10]}"})
    store = Store.open(own.mongodb_url, own.mongodb_db)
    application = create_app(own, store=store)
    try:
        async with application.router.lifespan_context(application):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
                yield Api(http), store
    finally:
        if not store.embedded:
            await store.client.drop_database(own.mongodb_db)
        store.close()


# --- who may read ------------------------------------------------------------------------------

@pytest.fixture
async def shown(api):
    await audience_of(api, [(10, LOW_CHAT_REMOTE), (10, MID_MEETING_NEARBY),
                            (10, HIGH_CALL_LOCAL)])


async def test_a_creator_reads_their_own_audience(api, shown):
    got = await audience(api, C)
    assert got["creatorId"] == C and got["withheld"] is False
    assert got["overview"]["totalAudience"] == 30
    budget = {row["key"]: (row["label"], row["percentage"]) for row in got["breakdown"]["budget"]}
    # a third each: rounded together (largest remainder, ties in table order) they add up to
    # exactly 100, where rounded alone they showed 35 + 35 + 35
    assert budget == {"LOW": ("Casual Supporters", 35.0), "MID": ("Regular Supporters", 35.0),
                      "HIGH": ("High Spenders", 30.0)}
    assert sum(row["count"] for row in got["breakdown"]["budget"]) == 30
    # The 33 empty combinations cannot hide alone (they would say where nobody is), so one of
    # the three full ones joins them in Other.
    assert [s["description"] for s in got["topSegments"]] == [
        "Casual Supporters · Chat Enthusiasts · Distant Fans",
        "Regular Supporters · Meetup Seekers · Nearby Fans"]


@pytest.mark.parametrize(("sub", "roles"), [
    ("creator-2", ("creator",)),  # another creator
    (C, ("viewer",)),  # the right id, but not as a creator
    ("someone", ("viewer",)),
    ("svc", ("service",)),
    ("safety", ("safety_team",)),
    ("creator-2", ("creator", "viewer", "service", "safety_team")),
])
async def test_anyone_but_that_creator_or_an_admin_is_forbidden(api, shown, sub, roles):
    body = await api.post(AUDIENCE, {"id": C, "limit": 5}, sub=sub, roles=roles)
    assert codes(body) == ["FORBIDDEN"]
    assert body["data"] == {"creatorAudience": None}


async def test_an_admin_reads_any_creators_audience(api, shown):
    got = await audience(api, C, sub="boss", roles=("admin",))
    assert got["withheld"] is False and got["overview"]["totalAudience"] == 30


async def test_without_a_token_the_answer_is_unauthenticated(api, shown):
    body = await api.post(AUDIENCE, {"id": C, "limit": 5}, sub=None)
    assert codes(body) == ["UNAUTHENTICATED"]


async def test_a_creator_with_no_audience_is_withheld_not_an_error(api):
    got = await audience(api, "creator-new")
    assert got["withheld"] is True and got["overview"] is None


@pytest.mark.parametrize("limit", [0, -1, 21])
async def test_top_segments_limit_is_validated(api, shown, limit):
    body = await api.post(f'{{ creatorAudience(creatorId: "{C}") {{ topSegments(limit: {limit})'
                          ' { rank } } }', sub=C, roles=("creator",))
    assert codes(body) == ["BAD_USER_INPUT"]


async def test_top_segments_are_ranked_and_limited(api, shown):
    got = await audience(api, C, limit=1)
    assert [s["rank"] for s in got["topSegments"]] == [1]
    assert all(c for c in got["topSegments"][0]["characteristics"])


# --- the privacy floor ---------------------------------------------------------------------------

async def test_nine_viewers_are_withheld_with_a_reason(api):
    await audience_of(api, [(9, HIGH_CALL_LOCAL)])
    got = await audience(api, C)  # the full query, read without a single error
    assert got["withheld"] is True
    assert "at least 10 viewers" in got["withheldReason"]
    assert got["overview"] is None and got["breakdown"] is None
    assert got["recommendations"] is None and got["growth"] is None
    assert got["topSegments"] == [] and got["messaging"] == []


async def test_the_tenth_viewer_shows_the_audience(api):
    await audience_of(api, [(9, HIGH_CALL_LOCAL)])
    await join(api, C, [("tenth", LOW_CHAT_REMOTE)])
    got = await audience(api, C)
    assert got["withheld"] is False and got["overview"]["totalAudience"] == 10


async def test_blocked_viewers_are_not_counted(api):
    await block(api, "blocked-fan")
    await record(api, creator_events(C))
    await join(api, C, [("blocked-fan", HIGH_CALL_LOCAL)] + crowd("fan", (9, LOW_CHAT_REMOTE)))
    assert (await audience(api, C))["withheld"] is True  # 9 counted, not 10
    await join(api, C, [("tenth", LOW_CHAT_REMOTE)])
    assert (await audience(api, C))["overview"]["totalAudience"] == 10


async def test_small_cells_are_suppressed_and_cannot_be_recovered(api):
    await audience_of(api, [(25, LOW_CHAT_REMOTE), (4, MID_MEETING_NEARBY),
                            (11, HIGH_CALL_LOCAL)])
    got = await audience(api, C)
    total = got["overview"]["totalAudience"]
    for kind in ("budget", "intent", "proximity"):
        rows = got["breakdown"][kind]
        alone = [r["key"] for r in rows if r["key"] != "OTHER"]
        other = [r for r in rows if r["key"] == "OTHER"]
        # the 4-viewer tier is nowhere on its own, and its complement went with it
        assert len(alone) == 1 and other and len(other[0]["members"]) >= 2
        assert all(r["count"] >= 10 for r in rows)
        # The attacker's search: every true split consistent with every shown number.
        feasible = []
        for counts in splits(range(total - 5, total + 5), len(keys(kind))):
            cells = dict(zip(keys(kind), counts, strict=True))
            n = sum(counts)
            p = partition(cells, keys(kind))
            seen = [("OTHER" if g.merged else g.keys[0], g.shown_count,
                     coarse_percentage(g.shown_count, coarse_count(n)), list(g.keys))
                    for g in p.groups]
            if seen == [(r["key"], r["count"], r["percentage"], r["members"]) for r in rows]:
                feasible.append(cells)
        for key in other[0]["members"]:
            assert len({f[key] for f in feasible}) > 1, (kind, key)  # never pinned down
    # the combined segments follow the same rule: HIGH|CALL|LOCAL (11) went into Other
    assert [s["key"] for s in got["topSegments"]] == ["LOW|CHAT|REMOTE"]


def splits(totals: range, parts: int) -> Iterator[tuple[int, ...]]:
    """Every way to split each total in ``totals`` into ``parts`` non-negative counts."""
    def go(n: int, k: int) -> Iterator[tuple[int, ...]]:
        if k == 1:
            yield (n,)
            return
        for first in range(n + 1):
            for rest in go(n - first, k - 1):
                yield (first, *rest)
    for n in totals:
        yield from go(n, parts)


# --- differencing: the attacker compares answers around one viewer -------------------------------

#: every tier count of every dimension sits on a boundary: 9 (one more is shown) or 14 (one
#: more rounds 10 → 20); a joiner of any tier would flip exactly their own cell under rounding
BOUNDARY = [(14, LOW_CHAT_REMOTE), (9, MID_MEETING_NEARBY), (14, HIGH_CALL_LOCAL)]
JOINERS: list[Segment] = [LOW_CHAT_REMOTE, MID_MEETING_NEARBY, HIGH_CALL_LOCAL,
                          ("HIGH", "EVENT", "NEARBY")]


def naive(aggregate: Any) -> Any:
    """What a dashboard showing rounded live counts would answer (the rule this replaces)."""
    return audience_view(aggregate)


@pytest.mark.parametrize("joiner", JOINERS, ids="|".join)
async def test_one_joiner_changes_no_number_whatever_their_tier(api, services, joiner):
    await audience_of(api, BOUNDARY)
    before = await audience(api, C)
    live_before = naive(await services.aggregates.get(C))
    await join(api, C, [("known-fan", joiner)])
    after = await audience(api, C)
    # Rounding alone would have given the joiner away: their tier's cell flips…
    assert naive(await services.aggregates.get(C)) != live_before
    # …but the answer the creator gets is the same, to the last field (asOf included), so
    # it is the same whichever tier the joiner has.
    assert after == before


async def test_a_known_viewer_leaving_or_changing_tier_changes_no_number(api):
    fans = await audience_of(api, BOUNDARY)
    before = await audience(api, C)
    await block(api, fans[0][0])  # leaves every count
    await record(api, [{"transactionCompleted": {  # a LOW fan becomes HIGH
        "eventId": f"up-{uuid.uuid4().hex[:8]}", "viewerId": fans[1][0], "creatorId": C,
        "tokens": 25_000, "kind": "tip"}}])
    assert await audience(api, C) == before


def _comparable(answer: dict[str, Any]) -> dict[str, Any]:
    # Release times differ between two deployments by wall-clock; the attacker can only see
    # whether it changed, which the step-by-step comparison below covers.
    return {k: v for k, v in answer.items() if k != "asOf"}


async def test_the_release_hides_the_joiner_among_at_least_ten(settings):
    """Watching after every single join until the figures move, the attacker sees the same
    answers whether the fan they know is HIGH and another newcomer LOW, or the other way round:
    the batch that moved the numbers holds ten viewers, and swapping two of them changes
    nothing. To learn the joiner's tier the attacker would need the other nine's."""
    companions = crowd("new", (4, LOW_CHAT_REMOTE), (3, MID_MEETING_NEARBY),
                       (2, HIGH_CALL_LOCAL))
    seen = []
    for joiner, swapped in ((HIGH_CALL_LOCAL, LOW_CHAT_REMOTE),
                            (LOW_CHAT_REMOTE, HIGH_CALL_LOCAL)):
        async with world(settings) as (api, _):
            await audience_of(api, [(10, LOW_CHAT_REMOTE), (10, HIGH_CALL_LOCAL),
                                    (10, MID_MEETING_NEARBY)])
            answers = [await audience(api, C)]
            arrivals = [("known-fan", joiner), (companions[0][0], swapped), *companions[1:]]
            for fan in arrivals:
                await join(api, C, [fan])
                answers.append(await audience(api, C))
            moved = [i for i in range(1, len(answers))
                     if answers[i]["asOf"] != answers[i - 1]["asOf"]]
            seen.append(([_comparable(a) for a in answers], moved))
    (first, moved_first), (second, moved_second) = seen
    assert moved_first == moved_second == [10]  # one release, after the tenth newcomer
    assert first[10] != first[0]  # the figures did move…
    assert first == second  # …identically in both worlds


# --- O(1) reads ----------------------------------------------------------------------------------

async def test_reading_the_dashboard_costs_the_same_for_any_audience_size(api, store):
    await audience_of(api, [(10, LOW_CHAT_REMOTE)], creator="small", prefix="s")
    await audience_of(api, [(30, LOW_CHAT_REMOTE), (30, HIGH_CALL_LOCAL)], creator="large",
                      prefix="l")
    calls = []
    for creator in ("small", "large"):
        await audience(api, creator)  # first read may initialise; measure the second
        before = store.counter.calls
        await audience(api, creator)
        calls.append(store.counter.calls - before)
    assert calls[0] == calls[1]


# --- rebuild, growth, recommendations, performance -------------------------------------------

async def test_rebuild_gives_the_same_answer_and_the_same_aggregates(api, services):
    await audience_of(api, [(14, LOW_CHAT_REMOTE), (12, MID_MEETING_NEARBY),
                            (17, HIGH_CALL_LOCAL)])
    answer = await audience(api, C)
    aggregates = await services.aggregates.snapshot()
    await rebuild_all(services)
    assert await services.aggregates.snapshot() == aggregates
    assert await audience(api, C) == answer
    for release in await services.insights.releases.all():
        live = await services.aggregates.get(release.creator_id)
        assert release.state.live() == cells_of(live)


async def test_growth_compares_the_release_with_the_snapshot_a_week_back(api, services):
    await audience_of(api, [(10, LOW_CHAT_REMOTE), (10, MID_MEETING_NEARBY),
                            (10, HIGH_CALL_LOCAL)])
    week_ago = datetime.now(UTC).date() - timedelta(days=7)
    assert await services.insights.snapshot_all(week_ago) == 1
    await join(api, C, crowd("later", (10, HIGH_CALL_LOCAL), (10, LOW_CHAT_REMOTE)))
    growth = (await audience(api, C))["growth"]
    week = growth["last7Days"]
    assert week["available"] is True and week["audienceChange"] == 20
    changes = {t["key"]: t["countChange"] for t in week["tiers"]}
    assert changes["HIGH"] == 10 and changes["LOW"] == 10 and changes["MID"] == 0
    assert growth["last30Days"]["available"] is False
    assert "Not enough history" in growth["last30Days"]["note"]


async def test_recommendations_cite_the_numbers_shown(api):
    await audience_of(api, [(10, LOW_CHAT_REMOTE), (10, MID_MEETING_NEARBY),
                            (30, HIGH_CALL_LOCAL)])
    got = await audience(api, C)
    shown = {f"share.{kind}.{row['key']}": row["percentage"]
             for kind, rows in got["breakdown"].items() for row in rows}
    shown["share.paying"] = got["overview"]["payingPercentage"]
    recs = got["recommendations"]
    assert recs["primaryStrategy"] == "Lead with one-to-one calls"
    assert recs["tips"] and recs["opportunities"]
    cited = [e for t in recs["trace"] for e in t["evidence"]]
    assert cited and all(shown[e["metric"]] == e["value"] for e in cited)
    assert {t["text"] for t in recs["trace"] if t["kind"] == "TIP"} == set(recs["tips"])
    assert got["messaging"][0]["themes"]


DESCRIBED = """query($id: ID!) { creatorAudience(creatorId: $id) {
  breakdown { budget { key description } proximity { key description } }
  topSegments { key characteristics }
  recommendations { opportunities } } }"""


async def test_labels_follow_the_live_thresholds(api):
    """Descriptions quote the thresholds that classify, not the defaults (issue: "HIGH (>
    20,000 tokens)" stayed after an operator raised it)."""
    await audience_of(api, [(10, LOW_CHAT_REMOTE), (10, MID_MEETING_NEARBY),
                            (30, HIGH_CALL_LOCAL)])

    async def described() -> dict[str, Any]:
        body = await api.post(DESCRIBED, {"id": C}, sub=C, roles=("creator",))
        assert not body.get("errors"), body
        return body["data"]["creatorAudience"]

    before = await described()
    rows = {r["key"]: r["description"] for r in before["breakdown"]["budget"]}
    assert rows["HIGH"] == "spend over 20,000 tokens in 30 days"
    changed = await api.post(
        "mutation { updateSegmentConfiguration(input: {budget: {highTokens: 25000, windowDays: 28},"
        " proximity: {localKm: 40}}) { budget { highTokens } } }", sub="boss", roles=("admin",))
    assert not changed.get("errors"), changed
    after = await described()
    rows = {r["key"]: r["description"] for r in after["breakdown"]["budget"]}
    assert rows["HIGH"] == "spend over 25,000 tokens in 28 days"
    assert rows["MID"] == "spend 5,000 to 25,000 tokens in 28 days"
    local = {r["key"]: r["description"] for r in after["breakdown"]["proximity"]}["LOCAL"]
    assert local == "live within 40 km of you"
    top = {s["key"]: s["characteristics"] for s in after["topSegments"]}["HIGH|CALL|LOCAL"]
    assert "Spend over 25,000 tokens in 28 days" in top and "Live within 40 km of you" in top
    assert any("within 40 km of you" in o for o in after["recommendations"]["opportunities"])


PERFORMANCE = """query($id: ID!, $type: SegmentDimension!, $value: String!, $days: Int) {
  creatorAudience(creatorId: $id) {
    segmentPerformance(segmentType: $type, segmentValue: $value, days: $days) {
      segmentType segmentValue label days since until withheld withheldReason
      segment { impressions interactions conversions interactionRate conversionRate
                revenuePerConversion totalRevenue }
      baseline { impressions conversions conversionRate revenuePerConversion totalRevenue }
      conversionRateVsBaseline conversionRateDifference performanceVsBaseline
    } } }"""


async def _performance(store: Store, creator: str, value: str, days_ago: int,
                       impressions: int, interactions: int, conversions: int,
                       revenue: int) -> None:
    """Write a counter document the way discovery does ($inc upsert)."""
    day = datetime.now(UTC).date() - timedelta(days=days_ago)
    await store.collection(Collections.SEGMENT_PERFORMANCE).update_one(
        {"_id": performance_id(creator, "budget", value, day)},
        {"$setOnInsert": {"creator_id": creator, "segment_type": "budget",
                          "segment_value": value, "day": day.strftime("%Y%m%d")},
         "$inc": {"impressions": impressions, "interactions": interactions,
                  "conversions": conversions, "revenue_tokens": revenue}}, upsert=True)


async def test_segment_performance_against_baseline(api, store):
    await audience_of(api, [(14, LOW_CHAT_REMOTE), (12, MID_MEETING_NEARBY),
                            (14, HIGH_CALL_LOCAL)])
    for days_ago in (1, 2, 3):
        await _performance(store, C, "HIGH", days_ago, 150, 20, 5, 5_000)
        await _performance(store, C, "LOW", days_ago, 300, 10, 10, 1_000)
        await _performance(store, C, "MID", days_ago, 50, 1, 1, 100)
    await _performance(store, C, "HIGH", 0, 10_000, 0, 0, 0)  # today: still being counted
    await _performance(store, C, "HIGH", 40, 10_000, 0, 0, 0)  # outside the window
    body = await api.post(PERFORMANCE, {"id": C, "type": "BUDGET", "value": "HIGH"}, sub=C,
                          roles=("creator",))
    assert not body.get("errors"), body
    got = body["data"]["creatorAudience"]["segmentPerformance"]
    assert got["withheld"] is False and got["days"] == 30 and got["label"] == "High Spenders"
    assert got["segment"] == {"impressions": 450, "interactions": 60, "conversions": 20,
                              "interactionRate": 13.3, "conversionRate": 4.4,
                              "revenuePerConversion": 750.0, "totalRevenue": 15_000.0}
    # 15 true conversions shown as 20; 15,000 tokens / 20 = 750 per conversion
    assert got["baseline"] == {"impressions": 1500, "conversions": 50, "conversionRate": 3.3,
                               "revenuePerConversion": 370.0, "totalRevenue": 18_000.0}
    assert got["conversionRateVsBaseline"] == 1.33
    assert got["conversionRateDifference"] == 1.1
    assert got["performanceVsBaseline"] == 33.0  # converts a third more often than everyone

    mid = await api.post(PERFORMANCE, {"id": C, "type": "BUDGET", "value": "MID"}, sub=C,
                         roles=("creator",))
    figures = mid["data"]["creatorAudience"]["segmentPerformance"]["segment"]
    assert figures["impressions"] == 150  # 150 MID impressions vs 1,350 others: both ≥ 10
    assert figures["conversions"] is None and figures["interactions"] is None  # 3 of each


@pytest.mark.parametrize(("variables", "field"), [
    ({"type": "BUDGET", "value": "CALL"}, "segmentValue"),
    ({"type": "INTENT", "value": "HIGH"}, "segmentValue"),
    ({"type": "BUDGET", "value": "HIGH", "days": 0}, "days"),
    ({"type": "BUDGET", "value": "HIGH", "days": 91}, "days"),
    ({"type": "SHARED_INTERESTS", "value": "true"}, "segmentType"),  # a flag: no figures
])
async def test_segment_performance_input_is_validated(api, shown, variables, field):
    body = await api.post(PERFORMANCE, {"id": C, **variables}, sub=C, roles=("creator",))
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == field


async def test_segment_performance_of_another_creator_is_forbidden(api, shown):
    body = await api.post(PERFORMANCE, {"id": C, "type": "BUDGET", "value": "HIGH"},
                          sub="creator-2", roles=("creator",))
    assert codes(body) == ["FORBIDDEN"]


async def test_segment_performance_of_a_hidden_or_withheld_audience_is_withheld(api, store):
    await audience_of(api, [(9, HIGH_CALL_LOCAL)])
    await _performance(store, C, "HIGH", 1, 500, 50, 50, 5_000)
    body = await api.post(PERFORMANCE, {"id": C, "type": "BUDGET", "value": "HIGH"}, sub=C,
                          roles=("creator",))
    got = body["data"]["creatorAudience"]["segmentPerformance"]
    assert got["withheld"] is True and got["segment"]["impressions"] is None
