"""The state the guards keep, held by the app's ``Runtime``: limits from settings, the rate
buckets, the persisted-query cache and the parse cache."""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from collections.abc import Callable, Mapping
from typing import Any

from graphql import DocumentNode, parse

from api.auth import AuthenticationError, Principal, principal_from_header
from api.guards.codes import (
    JSON_SAFE_INT,
    MAX_BODY_BYTES,
    PARSE_CACHE_SIZE,
)
from api.guards.rate import CostRateLimiter, rate_key
from api.persisted_queries import PersistedQueries
from api.settings import Settings


def _limit(value: int) -> int | None:
    """Settings use 0 (or less) for "no limit"."""
    return value if value > 0 else None


@dataclasses.dataclass
class GuardState:
    """Limits from :class:`Settings`, plus the rate buckets and the persisted-query cache."""

    settings: Settings
    max_depth: int | None
    max_aliases: int | None
    max_tokens: int | None
    max_cost: int | None
    introspection: bool
    #: the cost an operation without a token may request (contract §2: introspection only)
    anonymous_max_cost: int
    limiter: CostRateLimiter | None
    persisted: PersistedQueries = dataclasses.field(default_factory=PersistedQueries)
    max_body_bytes: int = MAX_BODY_BYTES
    #: query text → parsed document; repeated queries skip parsing (and, since the document
    #: object is then the same, hit the validation cache too)
    parse: Callable[..., DocumentNode] = dataclasses.field(
        default_factory=lambda: functools.lru_cache(maxsize=PARSE_CACHE_SIZE)(parse))

    @classmethod
    def from_settings(cls, settings: Settings, *,
                      clock: Callable[[], float] = time.monotonic) -> GuardState:
        per_minute = _limit(settings.audience_rate_limit_cost_per_minute)
        return cls(settings=settings, max_depth=_limit(settings.audience_max_depth),
                   max_aliases=_limit(settings.audience_max_aliases),
                   max_tokens=_limit(settings.audience_max_tokens),
                   max_cost=_limit(settings.audience_max_cost),
                   introspection=settings.audience_introspection,
                   anonymous_max_cost=settings.audience_anonymous_max_cost,
                   limiter=CostRateLimiter(per_minute, clock=clock) if per_minute else None,
                   persisted=PersistedQueries(
                       per_caller=settings.audience_persisted_queries_per_caller))

    @property
    def cost_limit(self) -> int | None:
        """The largest cost one operation may request; never more than a full bucket, which
        could otherwise never be paid."""
        limits = [self.max_cost] if self.max_cost else []
        if self.limiter is not None:
            limits.append(int(self.limiter.capacity))
        return min(limits) if limits else None

    def cost_report(self, key: str, requested: int) -> dict[str, Any]:
        """``extensions.cost`` for a response."""
        throttle = None
        if self.limiter is not None:
            throttle = {"maximumAvailable": self.limiter.capacity,
                        "currentlyAvailable": math.floor(self.limiter.available(key)),
                        "restoreRate": self.limiter.restore_rate}
        return {"requestedQueryCost": min(requested, JSON_SAFE_INT),
                "maximumQueryCost": self.cost_limit, "throttleStatus": throttle}

    def key_for_headers(self, headers: Mapping[str, str], client_host: str | None) -> str:
        """The rate key of a request that never reached the resolver context."""
        try:
            principal: Principal | None = principal_from_header(
                headers.get("authorization"), self.settings.jwt_secret(),
                require_exp=self.settings.require_token_expiry)
        except AuthenticationError:
            principal = None
        return rate_key(principal, client_host)
