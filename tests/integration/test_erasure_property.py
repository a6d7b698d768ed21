"""Erasure, as a property: for any stream of events and risk changes, erasing a viewer leaves
creator aggregates exactly as if that viewer had never sent an event, and ``audience rebuild``
afterwards changes nothing (contract §9). Release bookkeeping keeps its invariant throughout
(``published + pending + carry = live``, checked by ``_state``)."""

from __future__ import annotations

import asyncio
import os
import uuid
from typing import Any

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from api.bootstrap import bootstrap
from services.rebuild import rebuild_all
from store.database import Store
from tests.integration.test_insights_rebuild import NOW, PRELUDE, VIEWERS, _state, steps


async def _world(stream: list[tuple[str, Any]], erase: str | None = None,
                 absent: str | None = None) -> tuple[Any, Any, Any]:
    """Aggregates after the prelude and ``stream`` (without ``absent``'s events), after
    erasing ``erase`` if given; the same after a rebuild on top; the events kept."""
    store = Store.open(os.environ.get("MONGODB_URL") or None, f"erase_{uuid.uuid4().hex[:10]}")
    services = bootstrap(store, config_cache_seconds=0)
    services.segments.clock = lambda: NOW  # one "now" for every classification
    await services.start()
    try:
        for what, step in _without(PRELUDE + stream, absent):
            if what == "risk":
                await services.segments.set_risk(step[0], step[1], "property test", "safety")
            else:
                await services.ingestion.record(step)
        await services.segments.recompute_all(NOW)
        if erase is not None:
            await services.erasure.erase(erase)
        aggregates, _ = await _state(services)
        await rebuild_all(services)
        rebuilt, _ = await _state(services)
        return aggregates, rebuilt, await services.ledger.count()
    finally:
        if not store.embedded:
            await store.client.drop_database(store.db.name)
        store.close()


def _without(stream: list[tuple[str, Any]], viewer: str | None) -> list[tuple[str, Any]]:
    return stream if viewer is None else [(what, step) for what, step in stream
            if what == "risk" or viewer not in (step.viewer_id, step.user_id)]


@hypothesis_settings(max_examples=15, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(stream=st.lists(steps(), min_size=1, max_size=60), viewer=st.sampled_from(VIEWERS))
def test_erasing_a_viewer_is_as_if_they_never_came(stream, viewer):
    erased, erased_rebuilt, erased_events = asyncio.run(_world(stream, viewer))
    never, _, never_events = asyncio.run(_world(stream, absent=viewer))
    assert erased == never
    assert erased_rebuilt == erased
    assert erased_events == never_events
