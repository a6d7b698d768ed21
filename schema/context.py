"""The typed per-request context every resolver reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from strawberry.types import Info as _Info

from api.auth import Principal
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
    loaders: dict[str, Any] = field(default_factory=dict)


Info = _Info[RequestContext, None]
