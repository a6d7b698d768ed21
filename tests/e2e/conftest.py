"""End-to-end fixtures for apps built with non-default settings (limits, rate budgets)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.settings import Settings
from store.database import Store
from tests.conftest import Api

ApiFactory = Callable[..., AbstractAsyncContextManager[Api]]


@pytest.fixture
def make_api(settings: Settings, store: Store) -> ApiFactory:
    """``async with make_api(audience_max_depth=3) as api:`` — an app on the test store with
    some settings changed. Each call is a new app (own guards and rate buckets), as a second
    API process would be."""

    @asynccontextmanager
    async def build(**overrides: Any) -> AsyncIterator[Api]:
        application = create_app(settings.model_copy(update=overrides), store=store)
        async with application.router.lifespan_context(application):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
                yield Api(http)

    return build
