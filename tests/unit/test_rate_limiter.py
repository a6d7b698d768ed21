"""The per-principal token bucket of query cost (api/guards.py), on a hand-driven clock."""

from __future__ import annotations

from api.guards import CostRateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_full_bucket_pays_until_empty_then_says_when_to_retry():
    clock = Clock()
    limiter = CostRateLimiter(60, clock=clock)  # 60 per minute: one per second
    assert limiter.take("sub:a", 50).allowed
    refused = limiter.take("sub:a", 20)
    assert not refused.allowed
    assert refused.available == 10
    assert refused.retry_after == 10.0  # ten more units at one per second
    clock.now += 10
    assert limiter.take("sub:a", 20).allowed


def test_buckets_refill_to_capacity_and_no_further():
    clock = Clock()
    limiter = CostRateLimiter(60, clock=clock)
    limiter.take("sub:a", 60)
    clock.now += 3600
    assert limiter.available("sub:a") == 60


def test_principals_do_not_share_a_bucket():
    limiter = CostRateLimiter(10, clock=Clock())
    assert limiter.take("sub:a", 10).allowed
    assert not limiter.take("sub:a", 1).allowed
    assert limiter.take("sub:b", 10).allowed
    assert limiter.take("ip:10.0.0.1", 10).allowed


def test_memory_is_bounded_by_forgetting_the_least_recent_principal():
    limiter = CostRateLimiter(10, clock=Clock(), max_principals=2)
    limiter.take("sub:a", 10)
    limiter.take("sub:b", 10)
    limiter.take("sub:c", 10)
    # "a" was forgotten, so it starts again with a full bucket
    assert limiter.available("sub:a") == 10
    assert limiter.available("sub:c") == 0
