"""HTTP-level guards: the body size limit, request shape, JSON errors with codes for what
strawberry refuses at the HTTP level, and automatic persisted queries."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from cross_web import HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.http import GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from api.guards.codes import (
    BAD_REQUEST,
    MAX_BATCH_OPERATIONS,
    METHOD_NOT_ALLOWED,
    PAYLOAD_TOO_LARGE,
    UNSUPPORTED_MEDIA_TYPE,
)
from api.guards.rate import client_host, rate_key
from api.guards.state import GuardState
from api.persisted_queries import PersistedQueryError
from store.persisted_queries import PersistedQueryRepository


def error_body(message: str, code: str, request_id: str,
               cost: dict[str, Any] | None = None) -> dict[str, Any]:
    """A GraphQL-shaped error document for a request that never reached execution."""
    body: dict[str, Any] = {"errors": [{"message": message,
                                        "extensions": {"code": code, "requestId": request_id}}]}
    if cost is not None:
        body["extensions"] = {"cost": cost}
    return body


_HTTP_CODES = {400: BAD_REQUEST, 405: METHOD_NOT_ALLOWED, 413: PAYLOAD_TOO_LARGE,
               415: UNSUPPORTED_MEDIA_TYPE}


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
        key = self.guards.key_for_headers(request.headers, client_host(request))
        body = error_body(f"Request body exceeds {self.guards.max_body_bytes} bytes",
                          PAYLOAD_TOO_LARGE, getattr(request.state, "request_id", ""),
                          self.guards.cost_report(key, 0))
        await JSONResponse(body, status_code=413)(scope, receive, send)


def _executed(result: ExecutionResult) -> bool:
    """True once resolvers ran: data came back, or errors point into it (a path)."""
    return result.data is not None or any(e.path for e in result.errors or ())


class MutationOverGet(HTTPException):
    """A mutation sent with GET: 405, and only POST is allowed for it."""

    def __init__(self) -> None:
        super().__init__(405, "Mutations are only accepted over POST")


class GuardedView:
    """Mixin for the strawberry view (put it before ``GraphQL`` in the bases).

    * anything strawberry refuses at the HTTP level becomes a JSON error with a code, with the
      status strawberry chose (400, 405, 415, ...), never a plain-text body or a 500;
    * ``POST`` with an ``application/json`` body, or ``GET`` with URL parameters (queries
      only: a mutation over ``GET`` is 405 with ``Allow: POST``);
    * a JSON array body is a batch of at most :data:`MAX_BATCH_OPERATIONS` operations, run one
      after another in order, each under every guard (cost, rate, persisted queries) as if it
      were its own request;
    * automatic persisted queries (see :mod:`api.persisted_queries`).

    The view must have a ``runtime`` with ``guards``, ``metrics`` and ``require_services()``,
    and a ``json_response(request, body, status, headers)`` that picks the media type.
    """

    runtime: Any

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        try:
            return await super().run(request, context, root_value)  # type: ignore[misc]
        except HTTPException as exc:
            allow = "POST" if isinstance(exc, MutationOverGet) else "GET, POST"
            return self.http_error(request, exc.status_code, exc.reason, allow=allow)

    def http_error(self, request: Any, status: int, message: str, *,
                   allow: str = "GET, POST") -> Response:
        guards: GuardState = self.runtime.guards
        code = _HTTP_CODES.get(status, BAD_REQUEST)
        self.runtime.metrics.graphql_errors.labels(code).inc()
        key = guards.key_for_headers(request.headers, client_host(request))
        request_id = getattr(request.state, "request_id", "")
        headers = {"Allow": allow} if status == 405 else None
        return self.json_response(  # type: ignore[attr-defined, no-any-return]
            request, error_body(message, code, request_id, guards.cost_report(key, 0)),
            status, headers)

    def decode_json(self, data: str | bytes) -> object:
        try:
            return json.loads(data)
        except (ValueError, RecursionError) as exc:
            # strawberry only expects JSONDecodeError; bad UTF-8, over-long integers and deep
            # nesting raise other errors that would otherwise surface as a 500
            raise HTTPException(400, "Unable to parse request body as JSON") from exc

    async def parse_http_body(self, request: Any
                              ) -> GraphQLRequestData | list[GraphQLRequestData]:
        if request.method == "GET":
            _check_operation(dict(request.query_params))
            return await super().parse_http_body(request)  # type: ignore[misc, no-any-return]
        content_type, _ = parse_content_type(request.content_type or "")
        if content_type != "application/json":
            raise HTTPException(415, "Content-Type must be application/json")
        # Checked here because strawberry assumes an object and would fail on anything else;
        # it parses the (at most 1 MiB) body again, a price paid once per request.
        body = self.parse_json(await request.get_body())  # type: ignore[attr-defined]
        if isinstance(body, list):
            return _batch(body)
        _check_operation(body)
        return await super().parse_http_body(request)  # type: ignore[misc, no-any-return]

    async def execute_operation(self, request: Any, request_adapter: Any,
                                request_data: GraphQLRequestData | list[GraphQLRequestData],
                                context: Any, root_value: Any, sub_response: Any) -> Any:
        if not isinstance(request_data, list):
            return await super().execute_operation(  # type: ignore[misc]
                request=request, request_adapter=request_adapter, request_data=request_data,
                context=context, root_value=root_value, sub_response=sub_response)
        # In order, one after another (strawberry would run them concurrently): a batch that
        # records an event and then reads its effect must see it, as two requests would.
        results = []
        for item in request_data:
            try:
                results.append(await self.execute_single(
                    request=request, request_adapter=request_adapter,
                    sub_response=sub_response, context=context, root_value=root_value,
                    request_data=item))
            except HTTPException as exc:  # one bad element must not sink the others
                results.append(ExecutionResult(data=None, errors=[GraphQLError(
                    exc.reason, extensions={"code": _HTTP_CODES.get(exc.status_code,
                                                                    BAD_REQUEST)})]))
        return results

    async def execute_single(self, request: Any, request_adapter: Any, sub_response: Any,
                             context: Any, root_value: Any,
                             request_data: GraphQLRequestData) -> ExecutionResult:
        guards: GuardState = self.runtime.guards
        repository = PersistedQueryRepository(self.runtime.require_services().store)
        principal = getattr(context, "principal", None)
        try:
            persisted = await guards.persisted.resolve(
                repository, request_data.query, request_data.extensions,
                caller=principal.sub if principal is not None else None)
        except PersistedQueryError as exc:
            key = rate_key(getattr(context, "principal", None), client_host(request))
            return ExecutionResult(data=None, errors=[exc.as_graphql_error()],
                                   extensions={"cost": guards.cost_report(key, 0)})
        if persisted is not None:
            request_data = dataclasses.replace(request_data, query=persisted.query)
        try:
            result: ExecutionResult = await super().execute_single(  # type: ignore[misc]
                request=request, request_adapter=request_adapter, sub_response=sub_response,
                context=context, root_value=root_value, request_data=request_data)
        except HTTPException as exc:
            if request_adapter.method == "GET" and isinstance(exc.__cause__,
                                                               InvalidOperationTypeError):
                raise MutationOverGet() from exc
            raise
        # Only text that parsed, validated and ran is kept: junk cannot fill the store.
        if persisted is not None and persisted.register and _executed(result):
            await guards.persisted.register(repository, persisted)
        return result


def _check_operation(body: object) -> None:
    """The shape strawberry assumes of one operation's parameters."""
    if not isinstance(body, dict):
        raise HTTPException(400, "Each operation must be a JSON object: "
                                 "{query, variables, operationName, extensions}")
    if not isinstance(body.get("operationName"), (str, type(None))):
        raise HTTPException(400, "operationName must be a string or null")


def _batch(body: list[Any]) -> list[GraphQLRequestData]:
    """A batched request: an array of operations, each checked as a single request is."""
    if not body:
        raise HTTPException(400, "A batch must hold at least one operation")
    if len(body) > MAX_BATCH_OPERATIONS:
        raise HTTPException(400, f"A batch may hold at most {MAX_BATCH_OPERATIONS} operations")
    batch = []
    for item in body:
        _check_operation(item)
        query, variables, extensions = (item.get("query"), item.get("variables"),
                                        item.get("extensions"))
        if not isinstance(query, (str, type(None))):
            raise HTTPException(400, "query must be a string")
        if not isinstance(variables, (dict, type(None))):
            raise HTTPException(400, "variables must be an object or null")
        if not isinstance(extensions, (dict, type(None))):
            raise HTTPException(400, "extensions must be an object or null")
        batch.append(GraphQLRequestData(query=query, variables=variables,
                                        operation_name=item.get("operationName"),
                                        extensions=extensions))
    return batch
