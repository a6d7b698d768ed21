"""The typed per-request context every resolver reads.

schema/ reads it but never builds it: the API (api/app.py) fills in the use cases and a fresh
set of DataLoaders per request, so this module imports nothing above schema/ at run time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from strawberry.types import Info as _Info

if TYPE_CHECKING:
    from api.auth import Principal
    from resolvers.loaders import Loaders
    from services.container import Services


@dataclass
class RequestContext:
    """Who is calling, what they may reach, and this request's DataLoaders."""

    services: Services
    principal: Principal | None
    auth_error: str | None
    request_id: str
    loaders: Loaders
    request: Any = None
    response: Any = None
    #: the ``connection_init`` payload of a WebSocket (strawberry sets it)
    connection_params: Any = None


Info = _Info[RequestContext, None]
