"""Rate limiting by query cost: a token bucket per principal (or client address)."""

from __future__ import annotations

import dataclasses
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from api.auth import Principal
from api.guards.codes import (
    MAX_TRACKED_PRINCIPALS,
)


@dataclasses.dataclass(frozen=True)
class Throttle:
    """The answer of :meth:`CostRateLimiter.take`."""

    allowed: bool
    available: float
    retry_after: float


class CostRateLimiter:
    """A token bucket of query cost per principal, refilled evenly over a minute.

    Single-threaded asyncio makes ``take`` atomic (it never awaits). Buckets are per process:
    with N API processes a principal may spend up to N times the budget, the usual trade-off
    for a limiter that costs no round trip.
    """

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic,
                 max_principals: int = MAX_TRACKED_PRINCIPALS) -> None:
        self.capacity = float(per_minute)
        self.restore_rate = per_minute / 60.0
        self.clock = clock
        self.max_principals = max_principals
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def available(self, key: str) -> float:
        return self._level(key, self.clock())

    def take(self, key: str, cost: float) -> Throttle:
        now = self.clock()
        level = self._level(key, now)
        if cost <= level:
            self._store(key, level - cost, now)
            return Throttle(allowed=True, available=level - cost, retry_after=0.0)
        self._store(key, level, now)
        return Throttle(allowed=False, available=level,
                        retry_after=(cost - level) / self.restore_rate)

    def _level(self, key: str, now: float) -> float:
        bucket = self._buckets.get(key)
        if bucket is None:
            return self.capacity
        tokens, at = bucket
        return min(self.capacity, tokens + (now - at) * self.restore_rate)

    def _store(self, key: str, tokens: float, now: float) -> None:
        self._buckets[key] = (tokens, now)
        self._buckets.move_to_end(key)
        while len(self._buckets) > self.max_principals:
            self._buckets.popitem(last=False)


def rate_key(principal: Principal | None, client_host: str | None) -> str:
    """Whose budget a request spends: the token's subject, else the client address."""
    if principal is not None:
        return f"sub:{principal.sub}"
    return f"ip:{client_host or 'unknown'}"


def client_host(request: Any) -> str | None:
    client = getattr(request, "client", None)
    return getattr(client, "host", None)
