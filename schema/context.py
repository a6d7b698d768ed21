"""The typed per-request context every resolver reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from strawberry.types import Info as _Info

from api.auth import Principal
from resolvers.loaders import Loaders, build_loaders
from services.container import Services


@dataclass
class RequestContext:
    """Who is calling, what they may reach, and this request's DataLoaders."""

    services: Services
    principal: Principal | None
    auth_error: str | None
    request_id: str
    request: Any = None
    response: Any = None
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = build_loaders(self.services)


Info = _Info[RequestContext, None]
