"""The creator dashboard page (contract §10): ``GET /dashboard`` and its static assets.

The page is plain files under ``api/static/dashboard`` (HTML, CSS, the page's JavaScript and the
vendored Chart.js build from ``package-lock.json``, refreshed by ``make assets``), so it loads
with no internet access and needs no npm at run time. It holds no secret: it signs in with a
token the reader supplies and talks to ``/graphql`` like any other client.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import TextIO

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import Role, mint_token

STATIC_DIR = Path(__file__).parent / "static" / "dashboard"
PATH = "/dashboard"
ASSETS_PATH = "/dashboard/assets"
#: the creator `make run` links to: the default demo world's largest audience (README, "A first
#: query"); a smaller world may not have that creator, so it gets its first one
DEMO_CREATOR = "creator-141"
SMALL_WORLD_CREATOR = "creator-001"
DEMO_TOKEN_HOURS = 12

#: Everything the page needs comes from this server; nothing inline, nothing framed.
PAGE_HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; script-src 'self'; style-src 'self'; "
                                "img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
                                "form-action 'none'; frame-ancestors 'none'"),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    # the page is static, but a cached copy must not outlive a deploy of new assets
    "Cache-Control": "no-cache",
}


async def page(request: Request) -> Response:
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8",
                        headers=PAGE_HEADERS)


def dashboard_routes() -> list[BaseRoute]:
    """The page and its assets (no token needed: the page asks for one)."""
    return [
        Route(PATH, page, methods=["GET"]),
        Mount(ASSETS_PATH, app=StaticFiles(directory=STATIC_DIR), name="dashboard-assets"),
    ]


def demo_creator(creators: int) -> str:
    """The demo creator to sign in, for a demo world of ``creators`` creators."""
    return DEMO_CREATOR if creators >= int(DEMO_CREATOR.rsplit("-", 1)[1]) else SMALL_WORLD_CREATOR


def dashboard_link(secret: str, host: str, port: int, creator: str) -> str:
    """A ready-to-open address that signs ``creator`` in (the token rides in the fragment,
    which browsers never send to a server, and the page removes it from the address bar)."""
    token = mint_token(secret, creator, [Role.CREATOR.value], timedelta(hours=DEMO_TOKEN_HOURS))
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    if ":" in shown_host:
        shown_host = f"[{shown_host}]"
    return f"http://{shown_host}:{port}{PATH}#token={token}"


def announce_when_ready(app: ASGIApp, line: str, out: TextIO = sys.stdout) -> ASGIApp:
    """Wrap ``app`` so ``line`` is printed once the lifespan start-up has finished — after the
    demo world is in — rather than scrolled away above the start-up log."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return

        async def send_and_announce(message: Message) -> None:
            await send(message)
            if message["type"] == "lifespan.startup.complete":
                print(line, file=out, flush=True)

        await app(scope, receive, send_and_announce)

    return wrapped
