"""GraphQL errors with the contract's ``extensions.code`` values, and the final error filter."""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError, GraphQLFormattedError

UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"
BAD_USER_INPUT = "BAD_USER_INPUT"
NOT_FOUND = "NOT_FOUND"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"

log = logging.getLogger("audience.errors")


def unauthenticated(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": UNAUTHENTICATED})


def forbidden(message: str = "You are not allowed to read or change this.") -> GraphQLError:
    return GraphQLError(message, extensions={"code": FORBIDDEN})


def bad_input(message: str, field: str | None = None) -> GraphQLError:
    ext: dict[str, Any] = {"code": BAD_USER_INPUT}
    if field:
        ext["field"] = field
    return GraphQLError(message, extensions=ext)


# Validation messages that are about a value the client supplied, not about the query's shape.
_INPUT_MARKERS = (
    "Variable '$", "cannot represent", "Expected value of type", "of required type",
    "was not provided", "is not defined by type", "OneOf", "oneOf", "Int cannot",
    "Float cannot", "String cannot", "Boolean cannot", "ID cannot", "Enum ",
    "does not exist in", "is required, but it was not provided",
)


def classify(error: GraphQLError) -> str:
    """The code for an error raised before our resolvers ran (parse, validation, coercion)."""
    message = error.message
    if message.startswith("Syntax Error"):
        return GRAPHQL_PARSE_FAILED
    if any(marker in message for marker in _INPUT_MARKERS):
        return BAD_USER_INPUT
    return GRAPHQL_VALIDATION_FAILED


def format_error(error: GraphQLError, request_id: str) -> GraphQLFormattedError:
    """Give every error a code; mask anything unexpected and log it with the request id."""
    formatted = error.formatted
    extensions = dict(formatted.get("extensions") or {})
    if "code" not in extensions:
        if error.original_error is not None and not isinstance(error.original_error, GraphQLError):
            log.error("unexpected error", exc_info=error.original_error,
                      extra={"request_id": request_id, "path": formatted.get("path")})
            formatted["message"] = "Internal server error"
            extensions = {"code": INTERNAL_SERVER_ERROR}
        else:
            extensions["code"] = classify(error)
    extensions["requestId"] = request_id
    formatted["extensions"] = extensions
    return formatted
