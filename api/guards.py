"""Production guards for the GraphQL endpoint: limits, cost, rate limiting, HTTP hygiene, APQ.

Every refusal is a GraphQL error with its own ``extensions.code``:

| guard | runs | code |
|---|---|---|
| body size (:class:`BodySizeLimit`) | before the body is read | ``PAYLOAD_TOO_LARGE`` (413) |
| request shape (:class:`GuardedView`) | before parsing | ``BAD_REQUEST`` (400), |
| | | ``METHOD_NOT_ALLOWED`` (405), ``UNSUPPORTED_MEDIA_TYPE`` (415) |
| persisted queries (:mod:`api.persisted_queries`) | before parsing | |
| | | ``PERSISTED_QUERY_NOT_FOUND``, ``BAD_USER_INPUT`` |
| tokens (strawberry ``MaxTokensLimiter``) | parsing | ``TOO_MANY_TOKENS`` |
| nesting the parser cannot follow | parsing | ``QUERY_TOO_DEEP`` |
| cost (:mod:`schema.cost`), fragment expansion | before validation | ``MAX_COST_EXCEEDED`` |
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
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from cross_web import HTTPException
from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSyntaxError, parse
from graphql.validation import ValidationContext
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.http import GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from api.auth import AuthenticationError, Principal, principal_from_header
from api.persisted_queries import PersistedQueries, PersistedQueryError
from api.settings import Settings
from schema.cost import query_cost
from store.persisted_queries import PersistedQueryRepository

QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
TOO_MANY_TOKENS = "TOO_MANY_TOKENS"
INTROSPECTION_DISABLED = "INTROSPECTION_DISABLED"
MAX_COST_EXCEEDED = "MAX_COST_EXCEEDED"
RATE_LIMITED = "RATE_LIMITED"
BAD_REQUEST = "BAD_REQUEST"
METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"

#: largest request body accepted; the biggest legitimate one, a 500-event ``recordEvents``
#: batch in variables, is about 150 KiB
MAX_BODY_BYTES = 1 << 20
#: field selections a document may expand to through its fragments; a document within the
#: token limit has at most about a thousand, so only fragment bombs come near this
MAX_EXPANDED_FIELDS = 10_000
#: bounds the rate limiter's memory; the least recently seen principal is dropped first
MAX_TRACKED_PRINCIPALS = 100_000
#: distinct query texts whose parse and validation are cached (clients send few distinct ones)
PARSE_CACHE_SIZE = 512
#: the largest integer every JSON client reads exactly
_JSON_SAFE_INT = 2**53 - 1

_HTTP_CODES = {400: BAD_REQUEST, 405: METHOD_NOT_ALLOWED, 413: PAYLOAD_TOO_LARGE,
               415: UNSUPPORTED_MEDIA_TYPE}
log = logging.getLogger("audience.guards")


# --- rate limiting ---------------------------------------------------------------------------

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


def _client_host(request: Any) -> str | None:
    client = getattr(request, "client", None)
    return getattr(client, "host", None)


# --- the state the guards keep, held by the app's Runtime -------------------------------------

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
                   limiter=CostRateLimiter(per_minute, clock=clock) if per_minute else None)

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
        return {"requestedQueryCost": min(requested, _JSON_SAFE_INT),
                "maximumQueryCost": self.cost_limit, "throttleStatus": throttle}

    def key_for_headers(self, headers: Mapping[str, str], client_host: str | None) -> str:
        """The rate key of a request that never reached the resolver context."""
        try:
            principal: Principal | None = principal_from_header(headers.get("authorization"),
                                                                self.settings.jwt_secret())
        except AuthenticationError:
            principal = None
        return rate_key(principal, client_host)


# --- schema extensions -----------------------------------------------------------------------

class _CodingContext:
    """A validation context that stamps ``extensions.code`` on every error a rule reports."""

    def __init__(self, inner: ValidationContext, extensions: dict[str, Any]) -> None:
        self._inner = inner
        self._extensions = extensions

    def report_error(self, error: GraphQLError) -> None:
        error.extensions = {**(error.extensions or {}), **self._extensions}
        self._inner.report_error(error)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def with_code(rule: type[ASTValidationRule], code: str, **extra: Any
              ) -> type[ASTValidationRule]:
    """``rule``, reporting its errors with ``extensions.code = code`` (and ``extra``).

    Strawberry's limiters report plain errors through the context they are given (some from
    ``__init__``, some from visitor hooks), so wrapping the context catches every one of them.
    """

    class Coded(rule):  # type: ignore[valid-type, misc]
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(_CodingContext(context, {"code": code, **extra}))

    Coded.__name__ = Coded.__qualname__ = f"Coded{rule.__name__}"
    return Coded


def _coded_rules(extension: Any, code: str, **extra: Any) -> Any:
    """A strawberry ``AddValidationRules`` extension whose rules report ``code``."""
    extension.validation_rules = [with_code(rule, code, **extra)
                                  for rule in extension.validation_rules]
    return extension


class CodedMaxTokensLimiter(MaxTokensLimiter):
    """Strawberry's token limit, plus codes on the two parser refusals that are limits.

    graphql-core reports both as plain syntax errors: too many tokens, and nesting beyond what
    the parser's recursion can follow. Neither is a typo, so each gets its own code.
    """

    def __init__(self, max_token_count: int | None,
                 cached_parse: Callable[..., DocumentNode]) -> None:
        super().__init__(max_token_count=max_token_count)  # type: ignore[arg-type]
        self.cached_parse = cached_parse

    def on_operation(self) -> Iterator[None]:
        if self.max_token_count is not None:
            self.execution_context.parse_options["max_tokens"] = self.max_token_count
        yield

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        try:
            ctx.graphql_document = self.cached_parse(ctx.query, **ctx.parse_options)
        except GraphQLSyntaxError as error:
            self._code(error)
            raise
        yield

    def _code(self, error: GraphQLSyntaxError) -> None:
        if self.max_token_count is not None and (
                f"more than {self.max_token_count} tokens" in error.message):
            error.extensions = {"code": TOO_MANY_TOKENS, "maxTokens": self.max_token_count}
        elif "nested too deeply" in error.message:
            error.extensions = {"code": QUERY_TOO_DEEP}


class CostGuard(SchemaExtension):
    """Refuse operations over the cost limit, charge the rest to the caller's rate budget,
    and report ``extensions.cost`` on every result."""

    def __init__(self, guards: GuardState) -> None:
        self.guards = guards
        self.requested = 0

    def on_validate(self) -> Iterator[None]:
        # An error set here makes strawberry skip validation and execution altogether.
        error = self._check()
        if error is not None:
            self.execution_context.pre_execution_errors = [error]
        yield

    def get_results(self) -> dict[str, Any]:
        return {"cost": self.guards.cost_report(self._key(), self.requested)}

    def _key(self) -> str:
        context = self.execution_context.context
        return rate_key(getattr(context, "principal", None),
                        _client_host(getattr(context, "request", None)))

    def _check(self) -> GraphQLError | None:
        ctx = self.execution_context
        if ctx.graphql_document is None:
            return None
        variables = ctx.variables if isinstance(ctx.variables, dict) else {}
        measured = query_cost(ctx.schema._schema, ctx.graphql_document, ctx.operation_name,
                              variables)
        self.requested = measured.cost
        if measured.fields > MAX_EXPANDED_FIELDS:
            return GraphQLError(
                f"The operation expands to {measured.fields} fields through its fragments; "
                f"at most {MAX_EXPANDED_FIELDS} are allowed.",
                extensions={"code": MAX_COST_EXCEEDED, "maxFields": MAX_EXPANDED_FIELDS})
        limit = self.guards.cost_limit
        if limit is not None and measured.cost > limit:
            return GraphQLError(
                f"The operation's cost {measured.cost} exceeds the maximum of {limit}. "
                "Ask for fewer items (first / limit) or fewer fields.",
                extensions={"code": MAX_COST_EXCEEDED, "cost": measured.cost,
                            "maximumCost": limit})
        limiter = self.guards.limiter
        if limiter is None:
            return None
        # charged before validation, so even an invalid operation spends at least 1
        throttle = limiter.take(self._key(), max(measured.cost, 1))
        if throttle.allowed:
            return None
        seconds = max(1, math.ceil(throttle.retry_after))
        response = getattr(ctx.context, "response", None)
        if response is not None:
            # An HTTP-level refusal: 429 tells proxies and generic HTTP clients to back off, and
            # Retry-After is only meaningful on such a status.
            response.status_code = 429
            response.headers["Retry-After"] = str(seconds)
        return GraphQLError(
            f"Rate limit exceeded: this operation costs {measured.cost} and "
            f"{math.floor(throttle.available)} is available; retry in {seconds} s.",
            extensions={"code": RATE_LIMITED, "retryAfter": seconds})


def guard_extensions(guards: GuardState) -> list[Callable[[], SchemaExtension]]:
    """Schema extension factories (a fresh instance per request) for ``build_schema``.

    The coded validation rules are built once here, not per request: the validation cache is
    keyed by the rule classes, so rebuilding them per request would defeat it.
    """
    rules: list[type[ASTValidationRule]] = []
    if guards.max_depth is not None:
        rules += _coded_rules(QueryDepthLimiter(max_depth=guards.max_depth), QUERY_TOO_DEEP,
                              maxDepth=guards.max_depth).validation_rules
    if guards.max_aliases is not None:
        rules += _coded_rules(MaxAliasesLimiter(max_alias_count=guards.max_aliases),
                              TOO_MANY_ALIASES, maxAliases=guards.max_aliases).validation_rules
    if not guards.introspection:
        rules += _coded_rules(DisableIntrospection(), INTROSPECTION_DISABLED).validation_rules
    frozen_rules = tuple(rules)
    # Order matters: the token limit parses (through the per-app cache); the cost guard runs
    # before any validation rule, since strawberry's depth and alias limiters take exponential
    # time on nested fragments that the cost guard refuses in linear time.
    return [
        lambda: CodedMaxTokensLimiter(guards.max_tokens, guards.parse),
        lambda: CostGuard(guards),
        lambda: AddValidationRules(list(frozen_rules)),
        lambda: _ValidationCacheAfterGuards(maxsize=PARSE_CACHE_SIZE),
    ]


class _ValidationCacheAfterGuards(ValidationCache):
    """Strawberry's validation cache, skipped once a guard has already refused the operation
    (the stock one would overwrite that refusal with the validation result)."""

    def on_validate(self) -> Iterator[None]:
        if self.execution_context.pre_execution_errors:
            yield
            return
        yield from super().on_validate()


# --- HTTP ------------------------------------------------------------------------------------

def error_body(message: str, code: str, request_id: str,
               cost: dict[str, Any] | None = None) -> dict[str, Any]:
    """A GraphQL-shaped error document for a request that never reached execution."""
    body: dict[str, Any] = {"errors": [{"message": message,
                                        "extensions": {"code": code, "requestId": request_id}}]}
    if cost is not None:
        body["extensions"] = {"cost": cost}
    return body


class _BodyTooLarge(Exception):
    pass


class BodySizeLimit:
    """Refuse request bodies over ``guards.max_body_bytes`` with 413, declared or streamed."""

    def __init__(self, app: ASGIApp, guards: GuardState) -> None:
        self.app = app
        self.guards = guards

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.guards.max_body_bytes
        declared = Request(scope).headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        key = self.guards.key_for_headers(request.headers, _client_host(request))
        body = error_body(f"Request body exceeds {self.guards.max_body_bytes} bytes",
                          PAYLOAD_TOO_LARGE, getattr(request.state, "request_id", ""),
                          self.guards.cost_report(key, 0))
        await JSONResponse(body, status_code=413)(scope, receive, send)


def _executed(result: ExecutionResult) -> bool:
    """True once resolvers ran: data came back, or errors point into it (a path)."""
    return result.data is not None or any(e.path for e in result.errors or ())


class GuardedView:
    """Mixin for the strawberry view (put it before ``GraphQL`` in the bases).

    * anything strawberry refuses at the HTTP level becomes a JSON error with a code, with the
      status strawberry chose (400, 405, 415, ...), never a plain-text body or a 500;
    * only ``POST`` with an ``application/json`` object body runs operations (``GET`` serves
      GraphiQL only; batching is off);
    * automatic persisted queries (see :mod:`api.persisted_queries`).

    The view must have a ``runtime`` with ``guards``, ``metrics`` and ``require_services()``.
    """

    runtime: Any

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        try:
            return await super().run(request, context, root_value)  # type: ignore[misc]
        except HTTPException as exc:
            return self.http_error(request, exc.status_code, exc.reason)

    def http_error(self, request: Any, status: int, message: str) -> Response:
        guards: GuardState = self.runtime.guards
        code = _HTTP_CODES.get(status, BAD_REQUEST)
        self.runtime.metrics.graphql_errors.labels(code).inc()
        key = guards.key_for_headers(request.headers, _client_host(request))
        request_id = getattr(request.state, "request_id", "")
        headers = {"Allow": "GET, POST"} if status == 405 else None
        return JSONResponse(error_body(message, code, request_id, guards.cost_report(key, 0)),
                            status_code=status, headers=headers)

    def decode_json(self, data: str | bytes) -> object:
        try:
            return json.loads(data)
        except (ValueError, RecursionError) as exc:
            # strawberry only expects JSONDecodeError; bad UTF-8, over-long integers and deep
            # nesting raise other errors that would otherwise surface as a 500
            raise HTTPException(400, "Unable to parse request body as JSON") from exc

    async def parse_http_body(self, request: Any) -> GraphQLRequestData:
        if request.method == "GET":
            raise HTTPException(405, "Send operations with POST and a JSON body; GET only "
                                     "serves the GraphiQL page to browsers")
        content_type, _ = parse_content_type(request.content_type or "")
        if content_type != "application/json":
            raise HTTPException(415, "Content-Type must be application/json")
        # Checked here because strawberry assumes an object and would fail on anything else;
        # it parses the (at most 1 MiB) body again, a price paid once per request.
        body = self.parse_json(await request.get_body())  # type: ignore[attr-defined]
        if isinstance(body, list):
            raise HTTPException(400, "Batched operations are not supported: send one "
                                     "operation per request")
        if not isinstance(body, dict):
            raise HTTPException(400, "The body must be a JSON object: "
                                     "{query, variables, operationName, extensions}")
        if not isinstance(body.get("operationName"), (str, type(None))):
            raise HTTPException(400, "operationName must be a string or null")
        return await super().parse_http_body(request)  # type: ignore[misc]

    async def execute_single(self, request: Any, request_adapter: Any, sub_response: Any,
                             context: Any, root_value: Any,
                             request_data: GraphQLRequestData) -> ExecutionResult:
        guards: GuardState = self.runtime.guards
        repository = PersistedQueryRepository(self.runtime.require_services().store)
        try:
            persisted = await guards.persisted.resolve(repository, request_data.query,
                                                       request_data.extensions)
        except PersistedQueryError as exc:
            key = rate_key(getattr(context, "principal", None), _client_host(request))
            return ExecutionResult(data=None, errors=[exc.as_graphql_error()],
                                   extensions={"cost": guards.cost_report(key, 0)})
        if persisted is not None:
            request_data = dataclasses.replace(request_data, query=persisted.query)
        result: ExecutionResult = await super().execute_single(  # type: ignore[misc]
            request=request, request_adapter=request_adapter, sub_response=sub_response,
            context=context, root_value=root_value, request_data=request_data)
        # Only text that parsed, validated and ran is kept: junk cannot fill the store.
        if persisted is not None and persisted.register and _executed(result):
            await guards.persisted.register(repository, persisted)
        return result
