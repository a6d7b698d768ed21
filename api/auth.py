"""Bearer-token authentication: HS256 JWTs carrying ``sub`` and ``roles`` (contract §2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import jwt


class Role(StrEnum):
    VIEWER = "viewer"
    CREATOR = "creator"
    SAFETY_TEAM = "safety_team"
    SERVICE = "service"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the user id and the roles the token grants."""

    sub: str
    roles: frozenset[Role]

    def has(self, *roles: Role) -> bool:
        return any(r in self.roles for r in roles)


class AuthenticationError(Exception):
    """The request's credentials are missing or not acceptable."""


def principal_from_header(header: str | None, secret: str) -> Principal:
    """Decode ``Authorization: Bearer <jwt>``; raise :class:`AuthenticationError` otherwise."""
    if not header:
        raise AuthenticationError("Authentication required: send Authorization: Bearer <token>")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("Authorization header must be 'Bearer <token>'")
    try:
        claims = jwt.decode(token.strip(), secret, algorithms=["HS256"],
                            options={"require": ["sub"]})
    except jwt.ExpiredSignatureError:
        raise AuthenticationError("Token has expired") from None
    except jwt.PyJWTError:
        raise AuthenticationError("Token is invalid") from None
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise AuthenticationError("Token has no subject")
    raw_roles = claims.get("roles", [])
    if not isinstance(raw_roles, list):
        raise AuthenticationError("Token roles must be a list")
    roles = frozenset(Role(r) for r in raw_roles if r in Role._value2member_map_)
    return Principal(sub=sub, roles=roles)


def mint_token(secret: str, sub: str, roles: list[str], ttl: timedelta | None = None) -> str:
    """Sign a token (development CLI and tests)."""
    now = datetime.now(UTC)
    claims: dict[str, object] = {"sub": sub, "roles": roles, "iat": int(now.timestamp())}
    if ttl is not None:
        claims["exp"] = int((now + ttl).timestamp())
    return jwt.encode(claims, secret, algorithm="HS256")
