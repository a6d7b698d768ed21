"""A real server for browser tests and screenshots: uvicorn on a free loopback port in a thread,
its own store (embedded, or MONGODB_URL's), seeded with a small demo world, and headless
system Chromium driven by Playwright with the network limited to that server."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pymongo
import uvicorn

from api.app import create_app
from api.auth import mint_token
from api.settings import Settings
from store.database import Store

CHROMIUM = "/usr/bin/chromium"
#: TEAM.md's flags: no GPU, no background traffic of the browser's own
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SECRET = "browser-test-secret-that-is-long-enough-for-hs256"
READY_TIMEOUT_SECONDS = 180.0


@dataclass
class LiveServer:
    base_url: str
    settings: Settings
    loop: asyncio.AbstractEventLoop
    store: Store
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.base_url, timeout=30)

    def run(self, work: Callable[[Store], Coroutine[Any, Any, None]]) -> None:
        """Run ``work(store)`` on the server's own event loop (the store's driver lives there):
        for history no request can make, such as counters of days that have passed."""
        asyncio.run_coroutine_threadsafe(work(self.store), self.loop).result(timeout=60)

    def token(self, sub: str, *roles: str, hours: float = 1.0) -> str:
        return mint_token(SECRET, sub, list(roles), timedelta(hours=hours))

    def graphql(self, query: str, variables: dict[str, Any] | None = None, *,
                token: str) -> dict[str, Any]:
        response = self.http.post("/graphql", json={"query": query, "variables": variables or {}},
                                  headers={"Authorization": f"Bearer {token}"})
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        assert not body.get("errors"), body
        return body["data"]


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def live_server(*, creators: int, viewers: int, seed: int = 7,
                ready_timeout: float = READY_TIMEOUT_SECONDS) -> Iterator[LiveServer]:
    """Serve a fresh database loaded with a demo world of the given size until the block ends."""
    settings = Settings(mongodb_url=os.environ.get("MONGODB_URL") or None,
                        mongodb_db=f"audience_browser_{uuid.uuid4().hex[:10]}",
                        audience_jwt_secret=SECRET, audience_demo=True,
                        audience_demo_creators=creators, audience_demo_viewers=viewers,
                        audience_demo_seed=seed)
    sock = _free_socket()
    port = sock.getsockname()[1]
    started: list[tuple[asyncio.AbstractEventLoop, Store, uvicorn.Server]] = []
    opened = threading.Event()

    async def serve() -> None:
        store = Store.open(settings.mongodb_url, settings.mongodb_db)
        server = uvicorn.Server(uvicorn.Config(create_app(settings, store=store),
                                               log_config=None, access_log=False, lifespan="on"))
        started.append((asyncio.get_running_loop(), store, server))
        opened.set()
        try:
            await server.serve(sockets=[sock])
        finally:
            store.close()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    if not opened.wait(60):
        raise RuntimeError("the server thread did not start")
    loop, store, server = started[0]
    live = LiveServer(f"http://127.0.0.1:{port}", settings, loop, store)
    try:
        deadline = time.monotonic() + ready_timeout
        while True:  # /readyz answers 200 once the store answers and the demo world is in
            if not thread.is_alive():
                raise RuntimeError("the server stopped during start-up")
            try:
                if live.http.get("/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("the server did not become ready")
            time.sleep(0.2)
        yield live
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        live.http.close()
        sock.close()
        if settings.mongodb_url:
            with pymongo.MongoClient(settings.mongodb_url) as client:
                client.drop_database(settings.mongodb_db)


@contextmanager
def browser() -> Iterator[Any]:
    """Headless system Chromium through Playwright's sync API."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Offline:
    """Requests the page tried to send anywhere but the server (each one aborted)."""

    blocked: list[str] = field(default_factory=list)


def new_page(chromium: Any, base_url: str, **context_options: Any) -> tuple[Any, Offline]:
    """A page in its own context whose network reaches ``base_url`` only."""
    context = chromium.new_context(**context_options)
    offline = Offline()

    def only_the_server(route: Any) -> None:
        url = route.request.url
        if url == base_url or url.startswith(base_url + "/"):
            route.continue_()
        else:
            offline.blocked.append(url)
            route.abort()

    context.route("**/*", only_the_server)
    return context.new_page(), offline
