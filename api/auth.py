"""Bearer-token authentication: HS256 JWTs carrying ``sub`` and ``roles`` (contract §2, §7).

A token's claims are a validated model (:class:`Claims`): a token whose claims do not fit it
exactly is refused as a whole, never repaired (a ``sub`` of ``"creator-141 "`` is not
``creator-141``), and never a 500 (``roles: [["admin"]]`` is just an invalid token).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import jwt
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic import ValidationError as ClaimsError

__all__ = ["AuthenticationError", "Claims", "ClaimsError", "DEFAULT_TOKEN_TTL", "MAX_SUB_LENGTH",
           "Principal", "Role", "mint_token", "principal_from_header"]


class Role(StrEnum):
    VIEWER = "viewer"
    CREATOR = "creator"
    SAFETY_TEAM = "safety_team"
    SERVICE = "service"
    ADMIN = "admin"


#: the longest user id a token may name (contract §7)
MAX_SUB_LENGTH = 128
#: how long a token minted by ``audience token`` lives unless told otherwise (contract §7)
DEFAULT_TOKEN_TTL = timedelta(hours=12)


def _exact_subject(value: str) -> str:
    # isprintable() is False for control characters and for every space but U+0020
    if not value.isprintable():
        raise ValueError("sub must hold printable characters only")
    if value != value.strip():
        raise ValueError("sub must not start or end with whitespace")
    return value


Subject = Annotated[str, StringConstraints(min_length=1, max_length=MAX_SUB_LENGTH),
                    AfterValidator(_exact_subject)]


class Claims(BaseModel):
    """The claims a token must carry, exactly: strict types, nothing coerced or trimmed."""

    model_config = ConfigDict(strict=True, frozen=True, extra="ignore")

    sub: Subject
    #: strings among the known roles; an unknown role means the token is not one of ours
    roles: list[Role] = Field(default_factory=list)
    #: expiry (seconds since the epoch); PyJWT has already checked it lies in the future
    exp: int | float | None = None

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> Claims:
        roles = raw.get("roles", [])
        # strict mode takes enum members only; the JSON strings are checked against the enum
        # here, and anything but a list of strings is refused as it stands
        if isinstance(roles, list) and all(isinstance(r, str) for r in roles):
            raw = {**raw, "roles": [Role(r) if r in Role._value2member_map_ else r
                                    for r in roles]}
        return cls.model_validate(raw)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the user id and the roles the token grants."""

    sub: str
    roles: frozenset[Role]

    def has(self, *roles: Role) -> bool:
        return any(r in self.roles for r in roles)


class AuthenticationError(Exception):
    """The request's credentials are missing or not acceptable."""


def principal_from_header(header: str | None, secret: str, *,
                          require_exp: bool = False) -> Principal:
    """Decode ``Authorization: Bearer <jwt>``; raise :class:`AuthenticationError` otherwise.

    ``require_exp`` refuses tokens that never expire (contract §7: on a real store).
    """
    if not header:
        raise AuthenticationError("Authentication required: send Authorization: Bearer <token>")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("Authorization header must be 'Bearer <token>'")
    required = ["sub", "exp"] if require_exp else ["sub"]
    try:
        raw = jwt.decode(token.strip(), secret, algorithms=["HS256"],
                         options={"require": required})
    except jwt.ExpiredSignatureError:
        raise AuthenticationError("Token has expired") from None
    except jwt.MissingRequiredClaimError as exc:
        raise AuthenticationError(f"Token has no '{exc.claim}' claim") from None
    except jwt.PyJWTError:
        raise AuthenticationError("Token is invalid") from None
    try:
        claims = Claims.parse(raw)
    except ClaimsError as exc:
        where = ".".join(str(part) for part in exc.errors()[0]["loc"]) or "claims"
        raise AuthenticationError(f"Token claim '{where}' is not acceptable") from None
    return Principal(sub=claims.sub, roles=frozenset(claims.roles))


def mint_token(secret: str, sub: str, roles: list[str],
               ttl: timedelta | None = DEFAULT_TOKEN_TTL) -> str:
    """Sign a token (development CLI, tests, benches); ``ttl=None`` mints one that never
    expires, which only the embedded store accepts."""
    now = datetime.now(UTC)
    claims: dict[str, object] = {"sub": sub, "roles": roles, "iat": int(now.timestamp())}
    if ttl is not None:
        claims["exp"] = int((now + ttl).timestamp())
    return jwt.encode(claims, secret, algorithm="HS256")
