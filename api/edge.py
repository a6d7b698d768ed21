"""The HTTP edge around the GraphQL view: media types, security headers, CORS, access logs,
and the self-hosted pages (GraphiQL) with their static assets.

What belongs here is what every response or every browser needs, whatever the route: the
GraphQL view itself (and its guards) lives in :mod:`api.app` and :mod:`api.guards`.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from pathlib import Path

from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: the GraphQL over HTTP specification's own media type, and the legacy one
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
APPLICATION_JSON = "application/json"

#: assets served under ``/static`` (GraphiQL's vendored build, the dashboard's)
STATIC_DIR = Path(__file__).parent / "static"

#: Every page the server serves loads its scripts, styles and fonts from the server itself
#: (``'self'``). Styles allow inline because GraphiQL and CodeMirror set style attributes;
#: scripts never run inline. ``connect-src 'self'`` covers fetch and the same-origin WebSocket.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
}

access_log = logging.getLogger("audience.access")


def response_media_type(accept: str | None) -> str:
    """The media type of a GraphQL response for this ``Accept`` header.

    ``application/graphql-response+json`` when the client ranks it at least as high as JSON;
    otherwise ``application/json`` (also for no header, ``*/*``, or nothing we serve: the
    specification allows answering the default instead of 406).
    """
    if not accept:
        return APPLICATION_JSON
    ranks: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        media = media.lower()
        ranks[media] = max(quality, ranks.get(media, 0.0))
    graphql = ranks.get(GRAPHQL_RESPONSE_JSON, 0.0)
    json_rank = max(ranks.get(APPLICATION_JSON, 0.0), ranks.get("application/*", 0.0),
                    ranks.get("*/*", 0.0))
    return GRAPHQL_RESPONSE_JSON if graphql > 0 and graphql >= json_rank else APPLICATION_JSON


def hashed_sub(sub: str) -> str:
    """A stable pseudonym for a caller in logs: correlates requests, never names a user."""
    return hashlib.sha256(f"audience-log:{sub}".encode()).hexdigest()[:16]


_OPERATION_NAME = re.compile(r"^\s*(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)")


def operation_label(query: str | None, operation_name: str | None) -> str | None:
    """What an access log line calls an operation: the name sent, else the document's own."""
    if operation_name:
        return operation_name[:100]
    if query:
        match = _OPERATION_NAME.match(query)
        if match:
            return match.group(1)
    return None


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every HTTP response, errors and preflights included
    (hence a plain ASGI middleware outside everything else)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def cors_middleware(origins: list[str]) -> Middleware:
    """Starlette's CORS for the configured origins: no credentials (tokens travel in
    ``Authorization``, never in cookies), preflights answered for GET and POST."""
    return Middleware(CORSMiddleware, allow_origins=origins, allow_credentials=False,
                      allow_methods=["GET", "POST"],
                      allow_headers=["Authorization", "Content-Type", "Accept", "X-Request-ID"],
                      expose_headers=["X-Request-ID", "Retry-After"], max_age=600)


def log_access(scope: Scope, status: int, started: float) -> None:
    """One structured line per request."""
    state = scope.get("state", {})
    access_log.info("%s %s %d", scope["method"], scope["path"], status, extra={
        "method": scope["method"], "path": scope["path"], "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        "operation": state.get("operation_name"), "caller": state.get("caller"),
        "request_id": state.get("request_id"),
    })


def graphiql_page() -> str:
    """GraphiQL's HTML: every script and style from ``/static/graphiql`` (no CDN)."""
    return (STATIC_DIR / "graphiql" / "index.html").read_text(encoding="utf-8")
