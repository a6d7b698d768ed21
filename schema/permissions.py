"""Permission classes: who may call a field (contract §2). Reused across fields."""

from __future__ import annotations

from typing import Any, ClassVar

from strawberry.permission import BasePermission

from api.auth import Principal, Role
from schema.context import RequestContext
from schema.errors import FORBIDDEN, unauthenticated


def require_principal(context: RequestContext) -> Principal:
    """The caller, or an UNAUTHENTICATED error when the token is missing or bad."""
    if context.principal is None:
        raise unauthenticated(context.auth_error or "Authentication required")
    return context.principal


class _RoleGate(BasePermission):
    """Signed in, and holding one of ``roles`` (an empty set admits any signed-in user)."""

    roles: ClassVar[frozenset[Role]] = frozenset()
    message = "You are not allowed to read or change this."
    # Typed by BasePermission as an (optional) instance attribute; a ClassVar would clash.
    error_extensions = {"code": FORBIDDEN}

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        principal = require_principal(info.context)
        return not self.roles or bool(principal.roles & self.roles)


class IsAuthenticated(_RoleGate):
    """Any signed-in user (every user may act as a viewer of their own data)."""


class IsService(_RoleGate):
    roles = frozenset({Role.SERVICE})


class IsServiceOrAdmin(_RoleGate):
    roles = frozenset({Role.SERVICE, Role.ADMIN})


class IsSafetyTeam(_RoleGate):
    roles = frozenset({Role.SAFETY_TEAM})


class IsSafetyTeamOrAdmin(_RoleGate):
    roles = frozenset({Role.SAFETY_TEAM, Role.ADMIN})


class IsServiceOrSafetyTeam(_RoleGate):
    """Operators following every segment change (the change feed and its subscription)."""

    roles = frozenset({Role.SERVICE, Role.SAFETY_TEAM})


class IsAdmin(_RoleGate):
    roles = frozenset({Role.ADMIN})


class IsCreatorOrAdmin(_RoleGate):
    roles = frozenset({Role.CREATOR, Role.ADMIN})


class IsThisCreatorOrAdmin(BasePermission):
    """An admin, or a creator reading their own audience: the field's ``creatorId`` argument
    must be the token's ``sub`` (contract §5). Viewers, services, the safety team and every
    other creator are refused."""

    message = "Only that creator, or an admin, may read a creator's audience."
    # Typed by BasePermission as an (optional) instance attribute; a ClassVar would clash.
    error_extensions = {"code": FORBIDDEN}

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        principal = require_principal(info.context)
        if Role.ADMIN in principal.roles:
            return True
        return Role.CREATOR in principal.roles and kwargs.get("creator_id") == principal.sub
