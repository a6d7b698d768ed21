"""Shared fixtures: a fresh store per test (mongomock, or real MongoDB when MONGODB_URL is set),
the ASGI app with its lifespan running, and an HTTP client that sends real signed tokens."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import settings as hypothesis_settings

from api.app import create_app
from api.auth import mint_token
from api.bootstrap import bootstrap
from api.settings import Settings
from services.container import Services
from store.database import Store

# CI replays the same generated examples every run (a landing must not depend on luck);
# locally every run explores new ones.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

SECRET = "test-secret-that-is-long-enough-for-hs256-keys"


@pytest.fixture
def settings() -> Settings:
    return Settings(mongodb_url=os.environ.get("MONGODB_URL") or None,
                    mongodb_db=f"audience_test_{uuid.uuid4().hex[:10]}",
                    audience_jwt_secret=SECRET, audience_demo=False,
                    audience_inline_worker=False, audience_config_cache_seconds=0)


@pytest.fixture
async def store(settings: Settings) -> AsyncIterator[Store]:
    store = Store.open(settings.mongodb_url, settings.mongodb_db)
    yield store
    if not store.embedded:
        await store.client.drop_database(settings.mongodb_db)
    store.close()


@pytest.fixture
async def services(store: Store) -> Services:
    services = bootstrap(store, config_cache_seconds=0)
    await services.start()
    return services


def token(sub: str, *roles: str) -> str:
    return mint_token(SECRET, sub, list(roles))


@dataclass
class Api:
    """Sends GraphQL over HTTP the way a client would."""

    http: httpx.AsyncClient

    async def post(self, query: str, variables: dict[str, Any] | None = None, *,
                   sub: str | None = "svc", roles: tuple[str, ...] = ("service",),
                   headers: dict[str, str] | None = None) -> dict[str, Any]:
        hdrs = dict(headers or {})
        if sub is not None:
            hdrs.setdefault("Authorization", f"Bearer {token(sub, *roles)}")
        response = await self.http.post("/graphql", json={"query": query,
                                                          "variables": variables or {}},
                                        headers=hdrs)
        assert response.status_code == 200, response.text
        return response.json()

    async def as_service(self, query: str, variables: dict[str, Any] | None = None
                         ) -> dict[str, Any]:
        return await self.post(query, variables, sub="svc", roles=("service",))


@pytest.fixture
async def app(settings: Settings, store: Store) -> AsyncIterator[Any]:
    application = create_app(settings, store=store)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def api(app: Any) -> AsyncIterator[Api]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield Api(http)


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors") or []]


async def wait_until_ready(http: httpx.AsyncClient, seconds: float = 60.0) -> None:
    """Poll /readyz until the app is ready (the demo world loads in the background)."""
    for _ in range(int(seconds / 0.05)):
        if (await http.get("/readyz")).status_code == 200:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the app never became ready (the demo world never finished loading)")
