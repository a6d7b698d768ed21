"""Automatic persisted queries (APQ), in Apollo's protocol, so Apollo clients work unchanged.

A client sends ``extensions.persistedQuery = {version: 1, sha256Hash}`` and no ``query``. If
the server knows the hash it runs the stored text; otherwise it answers the error
``PersistedQueryNotFound`` (code ``PERSISTED_QUERY_NOT_FOUND``) and the client sends the hash
again together with the full text, which the server checks against the hash, runs, and keeps.

Known hashes live in a bounded in-process LRU in front of the shared ``persisted_queries``
collection, so a query registered through one API process is found by every other one.

Registering is bounded (contract §8): only a signed-in caller's text is kept (an anonymous
request with text runs, but is not kept), each caller may register at most
``AUDIENCE_PERSISTED_QUERIES_PER_CALLER`` texts (beyond that: ``PERSISTED_QUERY_LIMIT_EXCEEDED``,
before anything runs), and a hash, once known, runs for anyone whom the query's fields admit.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError

from schema.errors import BAD_USER_INPUT
from store.persisted_queries import PersistedQueryRepository

PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
PERSISTED_QUERY_LIMIT_EXCEEDED = "PERSISTED_QUERY_LIMIT_EXCEEDED"
#: the exact message Apollo clients look for before resending the full text
NOT_FOUND_MESSAGE = "PersistedQueryNotFound"
SUPPORTED_VERSION = 1

_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
log = logging.getLogger("audience.apq")


class PersistedQueryError(Exception):
    """A persisted-query request the server cannot serve; becomes one GraphQL error."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def as_graphql_error(self) -> GraphQLError:
        return GraphQLError(self.message, extensions={"code": self.code})


@dataclass(frozen=True)
class PersistedRequest:
    """The query text a persisted-query request stands for."""

    sha256: str
    query: str
    #: keep the text once it has run, charged to this caller (``None``: do not keep it)
    owner: str | None = None

    @property
    def register(self) -> bool:
        return self.owner is not None


def requested_hash(extensions: dict[str, Any] | None) -> str | None:
    """The hash a request asks for, ``None`` when it does not use APQ at all."""
    persisted = (extensions or {}).get("persistedQuery")
    if persisted is None:
        return None
    if not isinstance(persisted, dict):
        raise PersistedQueryError("extensions.persistedQuery must be an object", BAD_USER_INPUT)
    if persisted.get("version") != SUPPORTED_VERSION:
        raise PersistedQueryError("Unsupported persisted query version", BAD_USER_INPUT)
    sha256 = persisted.get("sha256Hash")
    if not isinstance(sha256, str) or not _SHA256_HEX.match(sha256.lower()):
        raise PersistedQueryError("persistedQuery.sha256Hash must be a hex SHA-256 digest",
                                  BAD_USER_INPUT)
    return sha256.lower()


def sha256_of(query: str) -> str:
    return hashlib.sha256(query.encode("utf-8")).hexdigest()


class PersistedQueries:
    """hash → query: a bounded LRU in this process, backed by the shared collection."""

    def __init__(self, capacity: int = 1000, per_caller: int = 200) -> None:
        self.capacity = capacity
        #: how many texts one caller may register
        self.per_caller = per_caller
        self._recent: OrderedDict[str, str] = OrderedDict()

    async def resolve(self, repository: PersistedQueryRepository, query: str | None,
                      extensions: dict[str, Any] | None, caller: str | None = None
                      ) -> PersistedRequest | None:
        """The text to run, or ``None`` for a request that does not use APQ. ``caller`` is
        the signed-in subject (``None`` without a valid token: nothing is kept)."""
        sha256 = requested_hash(extensions)
        if sha256 is None:
            return None
        if query is not None:
            if sha256_of(query) != sha256:
                raise PersistedQueryError("provided sha does not match query", BAD_USER_INPUT)
            if caller is None or await self._lookup(repository, sha256) is not None:
                return PersistedRequest(sha256=sha256, query=query)
            await self._check_cap(repository, caller)
            return PersistedRequest(sha256=sha256, query=query, owner=caller)
        known = await self._lookup(repository, sha256)
        if known is None:
            raise PersistedQueryError(NOT_FOUND_MESSAGE, PERSISTED_QUERY_NOT_FOUND)
        return PersistedRequest(sha256=sha256, query=known)

    async def _lookup(self, repository: PersistedQueryRepository, sha256: str) -> str | None:
        known = self._recent.get(sha256)
        if known is None:
            try:
                known = await repository.get(sha256)
            except Exception:
                # the store being away must not break clients: they resend the text and the
                # request still runs
                log.warning("persisted query lookup failed", exc_info=True)
        if known is not None:
            self._remember(sha256, known)
        return known

    async def _check_cap(self, repository: PersistedQueryRepository, caller: str) -> None:
        try:
            owned = await repository.count_owned(caller, self.per_caller)
        except Exception:  # as above: a store outage costs registration, not the request
            log.warning("persisted query count failed", exc_info=True)
            return
        if owned >= self.per_caller:
            raise PersistedQueryError(
                f"You have registered {self.per_caller} persisted queries, the most one caller "
                "may; send the query text without extensions.persistedQuery",
                PERSISTED_QUERY_LIMIT_EXCEEDED)

    async def register(self, repository: PersistedQueryRepository,
                       request: PersistedRequest) -> None:
        """Keep a query a signed-in client sent in full (call once it has run)."""
        if request.owner is None:
            return
        self._remember(request.sha256, request.query)
        try:
            await repository.put(request.sha256, request.query, request.owner)
        except Exception:
            log.warning("persisted query registration failed", exc_info=True)

    def _remember(self, sha256: str, query: str) -> None:
        self._recent[sha256] = query
        self._recent.move_to_end(sha256)
        while len(self._recent) > self.capacity:
            self._recent.popitem(last=False)
