"""Production guards for the GraphQL endpoint: limits, cost, rate limiting, HTTP hygiene, APQ.

Every refusal is a GraphQL error with its own ``extensions.code``:

| guard | runs | code |
|---|---|---|
| body size (:class:`BodySizeLimit`) | before the body is read | ``PAYLOAD_TOO_LARGE`` (413) |
| request shape (:class:`GuardedView`) | before parsing | ``BAD_REQUEST`` (400), |
| | | ``METHOD_NOT_ALLOWED`` (405), ``UNSUPPORTED_MEDIA_TYPE`` (415) |
| several operations, no ``operationName`` (:class:`OneOperationGuard`) | before validation | |
| | | ``BAD_REQUEST`` |
| persisted queries (:mod:`api.persisted_queries`) | before parsing | |
| | | ``PERSISTED_QUERY_NOT_FOUND``, ``PERSISTED_QUERY_LIMIT_EXCEEDED``, |
| | | ``BAD_USER_INPUT`` |
| tokens (strawberry ``MaxTokensLimiter``) | parsing | ``TOO_MANY_TOKENS`` |
| nesting the parser cannot follow | parsing | ``QUERY_TOO_DEEP`` |
| cost (:mod:`schema.cost`), fragment expansion | before validation | ``MAX_COST_EXCEEDED`` |
| cost without a token (introspection only) | before validation | ``UNAUTHENTICATED`` |
| rate (:class:`CostRateLimiter`) | before validation | ``RATE_LIMITED`` (429) |
| depth (strawberry ``QueryDepthLimiter``) | validation | ``QUERY_TOO_DEEP`` |
| aliases (strawberry ``MaxAliasesLimiter``) | validation | ``TOO_MANY_ALIASES`` |
| introspection (strawberry ``DisableIntrospection``) | validation | ``INTROSPECTION_DISABLED`` |

Cost and rate run *before* validation on purpose: strawberry's depth and alias validators walk
every fragment spread again (exponential in the number of nested fragment spreads), while the
cost walk memoises fragments, so a "fragment bomb" is refused before those validators see it.

Every response the view answers carries ``extensions.cost`` (Shopify's shape):
``{requestedQueryCost, maximumQueryCost, throttleStatus: {maximumAvailable, currentlyAvailable,
restoreRate}}``. All state (the rate limiter's buckets, the persisted-query LRU) lives in one
:class:`GuardState` held by the app's ``Runtime``; nothing here is module-level state.

| module | job |
|---|---|
| :mod:`api.guards.codes` | the error codes and the fixed limits |
| :mod:`api.guards.rate` | the cost rate limiter |
| :mod:`api.guards.state` | :class:`GuardState`, built from settings |
| :mod:`api.guards.extensions` | schema extensions run while parsing and validating |
| :mod:`api.guards.http` | body size, request shape, HTTP errors, persisted queries |
"""

from __future__ import annotations

from api.guards.extensions import CostGuard, guard_extensions, with_code
from api.guards.http import BodySizeLimit, GuardedView, error_body
from api.guards.rate import CostRateLimiter, Throttle, rate_key
from api.guards.state import GuardState

__all__ = ["BodySizeLimit", "CostGuard", "CostRateLimiter", "GuardState", "GuardedView",
           "Throttle", "error_body", "guard_extensions", "rate_key", "with_code"]
