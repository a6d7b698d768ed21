"""Dead letters through the API: an operator sees what the sweeps set aside, in the admin-only
``deadLetters`` query and on ``/metrics``."""

from __future__ import annotations

from typing import Any

import pytest

from domain.queue import QueuePolicy
from services.worker import QueueWorker
from tests.conftest import codes
from tests.e2e.test_worker import gauge
from tests.helpers import send

LETTERS = "query($s: DeadLetterSource, $n: Int) { deadLetters(origin: $s, first: $n) " \
          "{ id source key error attempts at } }"


async def fail_one_job(api: Any, services: Any) -> None:
    await send(api, "mediaLiked", viewerId="v", creatorId="c")

    async def broken(keys: Any, now: Any = None) -> Any:
        raise RuntimeError("boom")

    services.segments.recompute_many = broken
    services.jobs.policy = QueuePolicy(max_attempts=1)  # the first failure is the last
    await QueueWorker(services, "w").run_once(drain=True)


async def test_an_admin_sees_a_failed_job_among_the_dead_letters(api, services):
    await fail_one_job(api, services)
    body = await api.post(LETTERS, {"s": "QUEUE"}, sub="boss", roles=("admin",))
    assert not body.get("errors"), body
    [letter] = body["data"]["deadLetters"]
    assert (letter["source"], letter["key"], letter["error"], letter["attempts"]) == (
        "QUEUE", "pair:v|c", "RuntimeError: boom", 1)
    assert (await api.post(LETTERS, {"s": "OUTBOX"}, sub="boss", roles=("admin",))
            )["data"]["deadLetters"] == []
    every = await api.post(LETTERS, sub="boss", roles=("admin",))
    assert [d["key"] for d in every["data"]["deadLetters"]] == ["pair:v|c"]

    text = (await api.http.get("/metrics")).text
    assert gauge(text, "audience_dead_letters", source="queue") == 1
    assert gauge(text, "audience_dead_letters", source="outbox") == 0
    assert gauge(text, "audience_queue_depth", priority="all", status="failed") == 1


@pytest.mark.parametrize("role", ["viewer", "creator", "safety_team", "service"])
async def test_dead_letters_are_admin_only(api, role):
    body = await api.post(LETTERS, sub="x", roles=(role,))
    assert codes(body) == ["FORBIDDEN"] and body["data"]["deadLetters"] is None


async def test_a_page_size_out_of_bounds_is_bad_input(api):
    body = await api.post(LETTERS, {"n": 0}, sub="boss", roles=("admin",))
    assert codes(body) == ["BAD_USER_INPUT"]
