"""Exactly-once ingestion across crashes (services/ingest.py).

A crash is simulated by making one store write raise once, inside a real GraphQL request: the
request fails as a killed process would, leaving the ledger document and whatever writes came
before it. Recovery then runs as the worker's sweep does — from another ``Services`` on the same
store (the ``services`` fixture), like a worker process finishing what the API process left.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import store.rollups as rollups_module
from services.ingest import RECOVERY_AFTER
from services.rebuild import rebuild_rollups
from services.worker import QueueWorker
from store.database import Collections
from store.ledger import EventLedger, event_from_doc
from store.rollups import APPLIED_EVENTS, APPLIED_EVENTS_WINDOW, RollupRepository
from tests.e2e.test_discovery import at, audience, flush, recommend, record
from tests.helpers import my_segment

TX = ("mutation($input: TransactionCompletedInput!) { transactionCompleted(input: $input) "
      "{ eventId accepted duplicate } }")
NOW = timedelta(0)  # recover everything unapplied, however young (the clock cannot move here)


class Crash(RuntimeError):
    """The process 'dies' here."""


def crash_once(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str,
               when: Callable[..., bool] = lambda *a, **k: True) -> list[int]:
    """Make ``owner.name`` raise once, the first time ``when(*args)`` holds; returns a list
    that records how often it crashed."""
    original = getattr(owner, name)
    crashed: list[int] = []

    async def failing(*args: Any, **kwargs: Any) -> Any:
        if not crashed and when(*args, **kwargs):
            crashed.append(1)
            raise Crash(name)
        return await original(*args, **kwargs)

    monkeypatch.setattr(owner, name, failing)
    return crashed


async def transaction(api: Any, event_id: str, tokens: int, viewer: str = "v",
                      creator: str = "c") -> dict[str, Any]:
    return await api.as_service(TX, {"input": {
        "eventId": event_id, "viewerId": viewer, "creatorId": creator, "tokens": tokens,
        "kind": "tip"}})


async def ledger_doc(services: Any, event_id: str) -> dict[str, Any]:
    doc = await services.store.collection(Collections.EVENTS).find_one({"_id": event_id})
    assert doc is not None
    return dict(doc)


async def counters(services: Any, viewer: str = "v", creator: str = "c"
                   ) -> tuple[int, int, int, int]:
    [v] = await services.rollups.viewers([viewer])
    [p] = await services.rollups.pairs([(viewer, creator)])
    return (v.spend_tokens if v else 0, v.purchases if v else 0,
            p.spend_tokens if p else 0, p.purchases if p else 0)


async def equals_a_clean_replay(services: Any) -> None:
    """The rollups are exactly what replaying the ledger from scratch gives."""
    incremental = await services.rollups.snapshot()
    await rebuild_rollups(services)
    assert await services.rollups.snapshot() == incremental


async def test_a_crash_after_the_ledger_insert_is_recovered_exactly_once(api, services,
                                                                         monkeypatch):
    crashed = crash_once(monkeypatch, RollupRepository, "apply_many")
    body = await transaction(api, "e1", 100)
    assert crashed and body.get("errors")  # the request died after storing the event
    assert (await ledger_doc(services, "e1"))["applied"] is False
    assert await counters(services) == (0, 0, 0, 0)

    retry = await transaction(api, "e1", 100)
    assert retry["data"]["transactionCompleted"]["duplicate"] is True
    assert await counters(services) == (0, 0, 0, 0)  # the retry alone counts nothing...

    # ...and a sweep leaves an event that may still be in flight alone
    assert await services.ingestion.unapplied(RECOVERY_AFTER) == 0
    assert await services.ingestion.recover(RECOVERY_AFTER) == 0
    assert await services.ingestion.unapplied(NOW) == 1

    assert await services.ingestion.recover(NOW) == 1
    assert await counters(services) == (100, 1, 100, 1)
    assert (await ledger_doc(services, "e1"))["applied"] is True
    assert await services.ingestion.unapplied(NOW) == 0
    # the listeners ran too: the pair's segment shows the tokens
    segment = await my_segment(api, "v", "c")
    assert segment is not None and segment["budgetWindowTokens"] == 100

    assert await services.ingestion.recover(NOW) == 0
    assert await counters(services) == (100, 1, 100, 1)
    await equals_a_clean_replay(services)


async def test_a_crash_between_the_viewer_and_the_pair_does_not_double_count(api, services,
                                                                             monkeypatch):
    crash_once(monkeypatch, rollups_module, "update_each",
               when=lambda collection, *_, **__: collection.name == "pair_rollups")
    assert (await transaction(api, "e1", 100)).get("errors")
    assert await counters(services) == (100, 1, 0, 0)  # viewer moved, pair did not

    later = await transaction(api, "e2", 7)  # traffic goes on meanwhile
    assert later["data"]["transactionCompleted"]["duplicate"] is False
    assert await counters(services) == (107, 2, 7, 1)

    assert await services.ingestion.recover(NOW) == 1
    assert await counters(services) == (107, 2, 107, 2)  # the viewer is not counted twice
    snapshot = await services.rollups.snapshot()

    assert await services.ingestion.recover(NOW) == 0
    # re-applying the rollups outright changes nothing either
    event = event_from_doc(await ledger_doc(services, "e1"))
    await services.ingestion.apply_rollups(event)
    assert await services.rollups.snapshot() == snapshot
    await equals_a_clean_replay(services)


async def test_a_retry_after_the_grace_finishes_the_stranded_event(api, services, monkeypatch):
    crash_once(monkeypatch, RollupRepository, "apply_many")
    assert (await transaction(api, "e1", 100)).get("errors")
    events = services.store.collection(Collections.EVENTS)
    await events.update_one({"_id": "e1"}, {"$set": {
        "received_at": datetime.now(UTC) - RECOVERY_AFTER - timedelta(seconds=1)}})

    retry = await transaction(api, "e1", 100)
    assert retry["data"]["transactionCompleted"]["duplicate"] is True
    assert await counters(services) == (100, 1, 100, 1)
    assert (await ledger_doc(services, "e1"))["applied"] is True
    again = await transaction(api, "e1", 100)
    assert again["data"]["transactionCompleted"]["duplicate"] is True
    assert await counters(services) == (100, 1, 100, 1)
    assert await services.ingestion.recover(NOW) == 0


async def test_concurrent_sweeps_finish_an_event_once(api, services, monkeypatch):
    crash_once(monkeypatch, RollupRepository, "apply_many")
    assert (await transaction(api, "e1", 100)).get("errors")
    assert (await transaction(api, "e2", 5)).get("data")
    done = await asyncio.gather(*(services.ingestion.recover(NOW) for _ in range(4)))
    assert sum(done) == 1
    assert await counters(services) == (105, 2, 105, 2)


async def test_a_failed_recovery_is_retried_by_a_later_sweep_not_the_next(api, services,
                                                                         monkeypatch):
    crash_once(monkeypatch, RollupRepository, "apply_many")
    assert (await transaction(api, "e1", 100)).get("errors")
    # crashed again after the rollups: as a batch, then on its own
    crash_once(monkeypatch, EventLedger, "mark_applied")
    crash_once(monkeypatch, EventLedger, "mark_applied")
    assert await services.ingestion.recover(NOW) == 0
    assert await counters(services) == (100, 1, 100, 1)
    # the failed attempt holds the event for the grace: a sweep right after leaves it alone
    assert await services.ingestion.recover(RECOVERY_AFTER) == 0
    events = services.store.collection(Collections.EVENTS)
    await events.update_one({"_id": "e1"}, {"$set": {
        "recovery_at": datetime.now(UTC) - timedelta(seconds=1)}})
    assert await services.ingestion.recover(NOW) == 1
    assert await counters(services) == (100, 1, 100, 1)


async def test_a_rebuild_counts_a_stranded_event_and_recovery_then_leaves_it(api, services,
                                                                            monkeypatch):
    crash_once(monkeypatch, RollupRepository, "apply_many")
    assert (await transaction(api, "e1", 100)).get("errors")
    await rebuild_rollups(services)
    assert await counters(services) == (100, 1, 100, 1)
    assert await services.ingestion.recover(NOW) == 0
    assert await counters(services) == (100, 1, 100, 1)


async def test_recovery_re_running_the_conversion_listener_counts_nothing_twice(
        api, services, monkeypatch):
    await record(api, [at("c"), at("v", 0.1)])
    await audience(api, "c", 10)  # released: in the candidate pools
    await recommend(api, "v", fields="creatorId")
    await flush(api)
    # every listener ran, then the process died before the event was marked applied
    crash_once(monkeypatch, EventLedger, "mark_applied")
    assert (await transaction(api, "e1", 700)).get("errors")

    def performance() -> Any:
        return services.discovery.impressions.repository.performance(["c"])

    before = [(d["_id"], d["interactions"], d["conversions"], d["revenue_tokens"])
              for d in await performance()]
    assert {row[1:] for row in before} == {(0, 1, 700)}
    assert await services.ingestion.recover(NOW) == 1
    after = [(d["_id"], d["interactions"], d["conversions"], d["revenue_tokens"])
             for d in await performance()]
    assert after == before
    assert all(APPLIED_EVENTS not in d for d in await performance())


async def test_a_conversion_claimed_before_a_crash_is_still_counted_on_recovery(
        api, services, monkeypatch):
    await record(api, [at("c"), at("v", 0.1)])
    await audience(api, "c", 10)  # released: in the candidate pools
    await recommend(api, "v", fields="creatorId")
    await flush(api)
    repository_type = type(services.discovery.impressions.repository)
    crash_once(monkeypatch, repository_type, "add_outcomes")  # after the claim, before counting
    assert (await transaction(api, "e1", 700)).get("errors")
    assert await services.ingestion.recover(NOW) == 1
    docs = await services.discovery.impressions.repository.performance(["c"])
    assert {(d["interactions"], d["conversions"], d["revenue_tokens"]) for d in docs} == {
        (0, 1, 700)}


async def test_the_guard_remembers_a_bounded_window_and_stays_out_of_snapshots(api, services):
    for i in range(APPLIED_EVENTS_WINDOW + 10):
        body = await transaction(api, f"w{i}", 1)
        assert body["data"]["transactionCompleted"]["duplicate"] is False
    raw = await services.store.collection(Collections.VIEWER_ROLLUPS).find_one({"_id": "v"})
    assert raw[APPLIED_EVENTS] == [f"w{i}" for i in range(10, APPLIED_EVENTS_WINDOW + 10)]
    snapshot = await services.rollups.snapshot()
    assert all(APPLIED_EVENTS not in d for docs in snapshot.values() for d in docs)
    assert await counters(services) == (APPLIED_EVENTS_WINDOW + 10,) * 4
    assert await services.ingestion.unapplied(NOW) == 0  # every event was marked applied


async def test_segment_health_shows_stranded_events_until_the_worker_sweep_finishes_them(
        api, services, monkeypatch):
    query = "{ segmentHealth { unappliedEvents } }"

    async def unapplied() -> int:
        body = await api.post(query, sub="boss", roles=("admin",))
        assert not body.get("errors"), body
        return int(body["data"]["segmentHealth"]["unappliedEvents"])

    crash_once(monkeypatch, RollupRepository, "apply_many")
    assert (await transaction(api, "e1", 100)).get("errors")
    assert await unapplied() == 0  # younger than the grace: may still be in flight
    events = services.store.collection(Collections.EVENTS)
    await events.update_one({"_id": "e1"}, {"$set": {
        "received_at": datetime.now(UTC) - RECOVERY_AFTER - timedelta(seconds=1)}})
    assert await unapplied() == 1

    await QueueWorker(services, "w").run_once()  # a worker's first pass always sweeps
    assert await unapplied() == 0
    assert await counters(services) == (100, 1, 100, 1)
