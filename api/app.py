"""The one wiring point: ``create_app(settings) -> Starlette``.

The store opens in the lifespan (nothing connects at import time); the GraphQL view builds a
typed :class:`RequestContext` per request; every error leaves through one formatter.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from api.auth import AuthenticationError, principal_from_header
from api.bootstrap import bootstrap
from api.dashboard import dashboard_routes
from api.edge import (
    GRAPHQL_RESPONSE_JSON,
    STATIC_DIR,
    SecurityHeaders,
    cors_middleware,
    graphiql_page,
    hashed_sub,
    log_access,
    operation_label,
    response_media_type,
)
from api.guards import BodySizeLimit, GuardedView, GuardState, guard_extensions
from api.logs import configure_logging
from api.metrics import Metrics
from api.persisted_queries import PERSISTED_QUERY_NOT_FOUND
from api.progress import progress_bar
from api.settings import Settings
from resolvers.loaders import build_loaders
from resolvers.root import build_schema
from schema.context import RequestContext
from schema.errors import format_error
from services.container import Services
from services.health import segment_health
from services.worker import QueueWorker, default_worker_id
from store.database import Store

log = logging.getLogger("audience.api")
T = TypeVar("T")


@dataclass
class Runtime:
    """State that lives as long as the app: built in lifespan, read by handlers."""

    settings: Settings
    metrics: Metrics = field(default_factory=Metrics)
    services: Services | None = None
    #: set once the demo world (when asked for) is in; /readyz waits for it
    demo_loaded: asyncio.Event = field(default_factory=asyncio.Event)
    #: limits, rate buckets and the persisted-query cache (api/guards.py)
    guards: GuardState = field(init=False)

    def __post_init__(self) -> None:
        self.guards = GuardState.from_settings(self.settings)

    def require_services(self) -> Services:
        if self.services is None:
            raise RuntimeError("the app has not started (lifespan not run)")
        return self.services


class AudienceGraphQL(GuardedView, GraphQL[RequestContext, None]):
    """Strawberry's ASGI view with our context and error discipline.

    Responses use the media type the client accepts (:func:`api.edge.response_media_type`);
    with ``application/graphql-response+json`` a request that never reached execution
    (unparsable, invalid, refused by a guard) is HTTP 400, as the GraphQL over HTTP
    specification asks; ``application/json`` keeps HTTP 200 with ``errors``.
    """

    def __init__(self, runtime: Runtime, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.runtime = runtime

    async def get_context(self, request: Any, response: Any) -> RequestContext:
        settings = self.runtime.settings
        principal, auth_error = None, None
        try:
            principal = principal_from_header(request.headers.get("authorization"),
                                              settings.jwt_secret(),
                                              require_exp=settings.require_token_expiry)
        except AuthenticationError as exc:
            auth_error = str(exc)
        if principal is not None:
            request.state.caller = hashed_sub(principal.sub)
        request_id = getattr(request.state, "request_id", None) or uuid.uuid4().hex
        services = self.runtime.require_services()
        return RequestContext(services=services, principal=principal, auth_error=auth_error,
                              request_id=request_id, loaders=build_loaders(services),
                              request=request, response=response)

    async def get_sub_response(self, request: Any) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = response_media_type(request.headers.get("accept"))
        return sub_response

    async def execute_operation(self, request: Any, request_adapter: Any,
                                request_data: GraphQLRequestData | list[GraphQLRequestData],
                                context: Any, root_value: Any, sub_response: Any) -> Any:
        items = request_data if isinstance(request_data, list) else [request_data]
        labels = [operation_label(i.query, i.operation_name) or "-" for i in items]
        request.state.operation_name = ",".join(labels)  # for the access log line
        return await super().execute_operation(
            request=request, request_adapter=request_adapter, request_data=request_data,
            context=context, root_value=root_value, sub_response=sub_response)

    def create_response(self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
                        sub_response: Response) -> Response:
        media_type = sub_response.media_type or "application/json"
        request_error = False
        if media_type == GRAPHQL_RESPONSE_JSON and isinstance(response_data, dict):
            request_error = _request_error(response_data)
            if request_error:  # the spec's request error: no data entry at all
                response_data = {k: v for k, v in response_data.items()  # type: ignore[assignment]
                                 if k != "data"}
        response = super().create_response(response_data, sub_response)
        response.headers["content-type"] = media_type
        if request_error and not sub_response.status_code:
            response.status_code = 400
        return response

    def json_response(self, request: Any, body: Any, status: int,
                      headers: dict[str, str] | None) -> Response:
        """An error document for a request refused before execution."""
        return JSONResponse(body, status_code=status, headers=headers,
                            media_type=response_media_type(request.headers.get("accept")))

    def should_render_graphql_ide(self, request: Any) -> bool:
        # Only a browser asking for HTML: an Apollo hashed-query GET has no ``query`` either,
        # and clients that send ``*/*`` want JSON.
        params = request.query_params
        return (request.method == "GET" and "text/html" in request.headers.get("accept", "")
                and params.get("query") is None and params.get("extensions") is None)

    async def render_graphql_ide(self, request: Any) -> Response:
        return HTMLResponse(graphiql_page())

    async def on_ws_connect(self, context: RequestContext
                            ) -> UnsetType | dict[str, object] | None:
        """A WebSocket signs in with its ``connection_init`` payload, as
        ``{"Authorization": "Bearer <JWT>"}``; a missing or bad token is refused (4403)."""
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        header = params.get("Authorization") or params.get("authorization")
        try:
            context.principal = principal_from_header(
                header if isinstance(header, str) else None, self.runtime.settings.jwt_secret())
        except AuthenticationError as exc:
            raise ConnectionRejectionError({"message": str(exc)}) from None
        context.auth_error = None
        return UNSET

    async def process_result(self, request: Any, result: ExecutionResult
                             ) -> GraphQLHTTPResponse:
        request_id = getattr(request.state, "request_id", "")
        data: GraphQLHTTPResponse = {"data": result.data}
        if result.errors:
            errors = [format_error(e, request_id) for e in result.errors]
            for err in errors:
                self.runtime.metrics.graphql_errors.labels(err["extensions"]["code"]).inc()
            # GraphQLHTTPResponse types errors as list[object]; list is invariant, hence the copy.
            data["errors"] = list(errors)
        if result.extensions:
            data["extensions"] = result.extensions
        return data


def _request_error(response: GraphQLHTTPResponse) -> bool:
    """True for a response to a request that never reached execution: no data, and no error
    pointing into data. An unknown persisted-query hash is not one: Apollo clients resend."""
    errors = response.get("errors") or []
    if response.get("data") is not None or not errors:
        return False
    for error in errors:
        if not isinstance(error, dict) or error.get("path"):
            return False
        if (error.get("extensions") or {}).get("code") == PERSISTED_QUERY_NOT_FOUND:
            return False
    return True


class RequestIdAndMetrics:
    """Tag each request with an id (echoed in ``X-Request-ID``), time it, count it and write
    its access log line.

    A plain ASGI middleware: Starlette's ``BaseHTTPMiddleware`` wraps every request in an extra
    task and stream, which measurably slowed each GraphQL request.
    """

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get("x-request-id", "")
        request_id = incoming[:64] if incoming and incoming.isprintable() else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = {"code": 500, "sent": False}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"], status["sent"] = message["status"], True
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error", extra={"request_id": request_id})
            if not status["sent"]:
                response = JSONResponse(
                    {"errors": [{"message": "Internal server error",
                                 "extensions": {"code": "INTERNAL_SERVER_ERROR",
                                                "requestId": request_id}}]},
                    status_code=500, headers={"X-Request-ID": request_id})
                await response(scope, receive, send)
            status["code"] = 500
        path = scope["path"] if scope["path"] in _KNOWN_PATHS else "other"
        metrics = self.runtime.metrics
        metrics.latency.labels(path).observe(time.perf_counter() - started)
        metrics.requests.labels(path, scope["method"], str(status["code"])).inc()
        log_access(scope, status["code"], started)


_KNOWN_PATHS = {"/graphql", "/healthz", "/readyz", "/metrics", "/dashboard",
                "/schema.graphql"}
#: how long /readyz and the /metrics queue read wait for the store
READY_TIMEOUT_SECONDS = 2.0


@dataclass
class InlineWorker:
    """The queue worker running as a task of the API process (embedded store)."""

    task: asyncio.Task[None]
    stop_event: asyncio.Event

    async def stop(self, grace: float = 10.0) -> None:
        """Let the batch in hand finish (up to ``grace`` seconds), then cancel; a cancelled
        batch is safe: its leases expire and its changes are redelivered."""
        self.stop_event.set()
        try:
            await asyncio.wait_for(asyncio.shield(self.task), grace)
        except TimeoutError:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task


def start_inline_worker(settings: Settings, services: Services) -> InlineWorker | None:
    if not settings.inline_worker:
        return None
    stop = asyncio.Event()
    worker = QueueWorker(services, f"api:{default_worker_id()}")
    return InlineWorker(asyncio.create_task(worker.run_forever(stop)), stop)


def create_app(settings: Settings | None = None, *, store: Store | None = None) -> Starlette:
    """Build the ASGI app. ``store`` lets tests and benchmarks share an open store."""
    settings = settings or Settings()
    settings.jwt_secret()  # a missing secret with a real store is a start-up error
    runtime = Runtime(settings=settings)
    schema = build_schema(extensions=guard_extensions(runtime.guards))
    graphql_app = AudienceGraphQL(runtime, schema=schema, graphql_ide="graphiql",
                                  allow_queries_via_get=True,
                                  subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,))
    sdl = schema.as_str() + "\n"

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        own_store = store is None
        active = store or Store.open(settings.mongodb_url, settings.mongodb_db)
        if settings.uses_development_secret:
            log.warning("AUDIENCE_JWT_SECRET is not set: signing tokens with the PUBLIC "
                        "DEVELOPMENT SECRET. Never expose this server.")
        # /metrics counts every round trip and every event outcome through these ports
        active.counter.listeners.append(runtime.metrics.count_store_operation)
        services = bootstrap(active,
                             config_cache_seconds=settings.audience_config_cache_seconds,
                             queue_policy=settings.queue_policy(),
                             event_outcomes=runtime.metrics.count_event,
                             kpis=runtime.metrics,
                             location_grid=settings.location_grid())
        await services.start()
        runtime.services = services
        if active.embedded:
            log.warning("EMBEDDED IN-MEMORY STORE: every event, segment and setting lives in "
                        "this process only and is GONE when it stops. Set MONGODB_URL to keep "
                        "data (docker compose up runs a MongoDB).")
        workers: list[InlineWorker] = []

        def start_serving() -> None:
            worker = start_inline_worker(settings, services)
            if worker is not None:
                workers.append(worker)
            runtime.demo_loaded.set()
            log.info("ready", extra={"embedded": active.embedded, "db": settings.mongodb_db,
                                     "inline_worker": worker is not None})

        async def load_demo() -> None:
            from services.demo import load_demo_world

            with progress_bar("demo world: events loaded") as progress:
                await load_demo_world(services, creators=settings.audience_demo_creators,
                                      viewers=settings.audience_demo_viewers,
                                      seed=settings.audience_demo_seed, progress=progress)
            start_serving()

        loading: asyncio.Task[None] | None = None
        if settings.audience_demo:
            # In the background, so /healthz answers at once; /readyz waits for it.
            loading = asyncio.create_task(load_demo())
            loading.add_done_callback(_report_failure)
        else:
            start_serving()
        try:
            yield
        finally:
            if loading is not None and not loading.done():
                loading.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await loading
            for worker in workers:
                await worker.stop()
            runtime.services = None
            await services.stop()  # write what is buffered (discovery impressions)
            active.counter.listeners.remove(runtime.metrics.count_store_operation)
            if own_store:
                active.close()

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        services = runtime.services
        if services is not None and not runtime.demo_loaded.is_set():
            return JSONResponse({"status": "loading"}, status_code=503)
        try:  # a store that hangs is as unready as one that refuses
            ready = services is not None and await asyncio.wait_for(services.store.ping(),
                                                                    READY_TIMEOUT_SECONDS)
        except TimeoutError:
            ready = False
        if ready:
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "unavailable"}, status_code=503)

    async def schema_graphql(request: Request) -> Response:
        return PlainTextResponse(sdl)

    async def _scraped(read: Awaitable[T], what: str) -> T | None:
        """A /metrics read from the store, or None when it fails or times out (logged)."""
        try:
            return await asyncio.wait_for(read, READY_TIMEOUT_SECONDS)
        except Exception:
            log.warning("%s unavailable for /metrics", what, exc_info=True)
            return None

    async def metrics(request: Request) -> Response:
        services = runtime.services
        if services is not None:  # queue and KPI gauges are read from the store at scrape time
            now = datetime.now(UTC)
            runtime.metrics.observe_health(
                await _scraped(segment_health(services, now), "queue figures"))
            runtime.metrics.observe_kpis(await _scraped(services.kpi_gauges(now), "KPI gauges"))
        return PlainTextResponse(generate_latest(runtime.metrics.registry),
                                 media_type=CONTENT_TYPE_LATEST)

    routes = [
        Route("/graphql", graphql_app, methods=["GET", "POST"]),
        # subscriptions (graphql-transport-ws), signed in by connection_init
        WebSocketRoute("/graphql", graphql_app),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        *dashboard_routes(),
        Route("/schema.graphql", schema_graphql, methods=["GET"]),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    return Starlette(routes=routes, lifespan=lifespan,
                     middleware=[Middleware(SecurityHeaders),
                                 Middleware(RequestIdAndMetrics, runtime=runtime),
                                 cors_middleware(settings.cors_origins),
                                 Middleware(BodySizeLimit, guards=runtime.guards)])


def app_from_environment() -> Starlette:
    """The app as ``audience serve --workers N`` starts it in each worker process: settings
    and log format from the environment."""
    settings = Settings()
    configure_logging(settings.audience_log_level, settings.audience_log_format)
    return create_app(settings)


def _report_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("start-up work failed; the server stays unready",
                  exc_info=task.exception())
