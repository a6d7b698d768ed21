"""A creator with a big audience makes no document hot: its live counters are spread over parts
(sharded counters) and its release document is written only when a release is cut, each change
being held back in its own small document. Driven through /graphql, one fan per request (the
worst case: nothing to merge), then checked against the invariant published + pending + carry
= live and against crashes between a release's two writes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from domain.insights.privacy import coarse_count
from domain.insights.releases import cells_of
from services.container import Services
from services.insights import HELD_FOLD_AT
from store.adapter import document_writes
from store.aggregates import AGGREGATE_PARTS
from store.database import Collections, Store
from store.releases import HeldChange, ReleaseRepository
from tests.audience import block, creator_events, join, record
from tests.conftest import Api

C = "hot-creator"
FANS = 60
DRAIN = "mutation { processSegmentQueue(batchSize: 1000) { processed } }"
AUDIENCE = ("query($id: ID!) { creatorAudience(creatorId: $id) "
            "{ withheld overview { totalAudience } } }")


async def fans_one_request_each(api: Api, count: int, prefix: str = "fan") -> None:
    for n in range(count):
        await join(api, C, [(f"{prefix}-{n}", ("LOW", "CHAT", "REMOTE"))])
        body = await api.as_service(DRAIN)
        assert not body.get("errors"), body


async def test_a_hot_creators_documents_take_a_bounded_share_of_its_writes(
        api: Api, store: Store, services: Services) -> None:
    await record(api, creator_events(C))
    with document_writes() as writes:
        await fans_one_request_each(api, FANS)

    releases = store.db[Collections.AUDIENCE_RELEASES]
    [release] = [d async for d in releases.find({"_id": C})]
    # one write to create it, then one per release cut (each needs ten viewers who moved)
    assert writes[(Collections.AUDIENCE_RELEASES, C)] == 1 + release["version"]
    assert release["version"] <= FANS // 10
    assert release["version"] >= 1  # it was released, more than once a batch of ten

    parts = {doc: n for (coll, doc), n in writes.items()
             if coll == Collections.CREATOR_AGGREGATES and doc.startswith(f"{C}|")}
    assert 1 < len(parts) <= AGGREGATE_PARTS
    # each change is a move and a confirmation on its viewer's part: spread, not one document
    assert max(parts.values()) <= sum(parts.values()) / 4

    # nothing left behind: a held change is gone once cut and confirmed
    held = store.db[Collections.HELD_CHANGES]
    assert await held.count_documents({"cut": {"$exists": True}}) == 0
    assert await held.count_documents({"creator_id": C}) < 10

    # what was held back and what was published still add up to the live counters
    [stored] = [r for r in await services.insights.releases.all() if r.creator_id == C]
    assert stored.state.live() == cells_of(await services.aggregates.get(C))
    assert stored.state.live()["total"] == FANS
    # and the creator reads the published part, rounded as always
    body = await api.post(AUDIENCE, {"id": C}, sub=C, roles=("creator",))
    audience = body["data"]["creatorAudience"]
    assert audience["withheld"] is False
    assert audience["overview"]["totalAudience"] == coarse_count(stored.state.published["total"])


class CrashAfterCommit(Exception):
    pass


async def test_a_crash_between_a_release_and_its_marks_counts_nothing_twice(
        services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    repository: ReleaseRepository = services.insights.releases
    now = datetime.now(UTC)
    real_mark = repository._mark_cut

    async def crash(*args: Any) -> None:
        raise CrashAfterCommit

    monkeypatch.setattr(repository, "_mark_cut", crash)
    with pytest.raises(CrashAfterCommit):
        await services.insights.hold([HeldChange(C, f"v{n}", {"total": 1}, f"ch{n}", now)
                                      for n in range(10)])
    monkeypatch.setattr(repository, "_mark_cut", real_mark)

    # released once; the ten held changes are still stored, unmarked, but skipped
    stored = await repository.get(C)
    assert stored is not None
    assert stored.state.published == {"total": 10} and stored.state.pending == {}
    assert len(stored.held) == 10

    # a redelivery of one of them moves nothing, and the next release names them again
    await services.insights.hold([HeldChange(C, "v0", {"total": 1}, "ch0", now)])
    await services.insights.hold([HeldChange(C, f"w{n}", {"total": 1}, f"dh{n}", now)
                                  for n in range(10)])
    stored = await repository.get(C)
    assert stored is not None
    assert stored.state.published == {"total": 20} and stored.held == ()
    await services.insights.forget_held([(C, f"ch{n}") for n in range(10)]
                                        + [(C, f"dh{n}") for n in range(10)])
    assert await services.store.db[Collections.HELD_CHANGES].count_documents({}) == 0


async def test_a_waiting_creator_folds_its_held_changes_into_the_release(
        services: Services) -> None:
    """Fewer than ten viewers who keep changing: their changes are folded into the release
    document now and then, so a settle never reads an unbounded number of held changes."""
    now = datetime.now(UTC)
    changes = HELD_FOLD_AT + 5
    for n in range(changes):
        viewer = f"v{n % 3}"
        await services.insights.hold([HeldChange(C, viewer, {"total": 1 if n % 2 else -1},
                                                 f"flip{n}", now)])
    stored = await services.insights.releases.get(C)
    assert stored is not None
    assert len(stored.held) < HELD_FOLD_AT
    assert stored.state.published == {}  # three viewers: nothing is ever published
    net = sum(1 if n % 2 else -1 for n in range(changes))
    assert stored.state.live() == ({"total": net} if net else {})
    release = await services.store.db[Collections.AUDIENCE_RELEASES].find_one({"_id": C})
    assert release is not None and release["version"] >= 1  # folded at least once


async def test_a_large_audiences_top_payers_come_from_the_index_and_equal_a_full_read(
        api: Api, services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """The dominance rule's input (largest payers per revenue cell) for a large audience is
    read per combination through an index, never the whole audience: the same numbers."""
    await record(api, creator_events(C))
    segments = [("LOW", "CHAT", "REMOTE"), ("MID", "MEETING", "NEARBY"),
                ("HIGH", "CALL", "LOCAL"), ("HIGH", "CHAT", "REMOTE")]
    await join(api, C, [(f"payer-{n}", segments[n % len(segments)]) for n in range(24)])
    await api.as_service(DRAIN)
    await block(api, "payer-2")  # a blocked whale counts nowhere
    await api.as_service(DRAIN)
    live = {C: cells_of(await services.aggregates.get(C))}
    assert sum(1 for cell in live[C] if cell.startswith("combo_revenue.")) >= 3

    full = await services.insights.contributions_many([C], live)
    reads: list[str] = []
    real = services.insights.segments.of_creators  # type: ignore[union-attr]

    async def watched(creator_ids: Any) -> Any:
        reads.extend(creator_ids)
        return await real(creator_ids)

    monkeypatch.setattr(services.insights.segments, "of_creators", watched)
    monkeypatch.setattr("services.insights.FULL_READ_AUDIENCE", 5)
    indexed = await services.insights.contributions_many([C], live)
    assert reads == []  # the audience was not read whole
    assert indexed == full and full[C]["revenue_tokens"]
