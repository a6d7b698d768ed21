"""The composition root hands every stage of its pipeline table to the use case that runs it."""

from __future__ import annotations

from api.bootstrap import bootstrap


async def test_the_use_cases_run_exactly_the_stages_of_the_table(store):
    services = bootstrap(store)
    pipeline = services.pipeline
    assert services.ingestion.handlers == tuple(stage for _, stage in pipeline.on_event)
    assert services.segments.handlers == tuple(h for _, h in pipeline.on_transition)
    assert services.rebuild_stages == [stage for _, stage in pipeline.in_rebuild]
    # the creator index follows releases, not transitions: discovery never reads live counts
    assert [name for name, _ in pipeline.on_transition] == [
        "creator aggregates", "insights", "segment history"]
