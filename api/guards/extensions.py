"""The schema extensions that enforce the limits during parsing and validation: tokens, cost
and rate, depth, aliases, introspection, one operation per request; each refusal carries its
code. Without introspection, error messages lose their "Did you mean" hints."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSyntaxError,
    OperationDefinitionNode,
)
from graphql.validation import ValidationContext
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)

from api.guards.codes import (
    BAD_REQUEST,
    INTROSPECTION_DISABLED,
    MAX_COST_EXCEEDED,
    MAX_EXPANDED_FIELDS,
    PARSE_CACHE_SIZE,
    QUERY_TOO_DEEP,
    RATE_LIMITED,
    TOO_MANY_ALIASES,
    TOO_MANY_TOKENS,
)
from api.guards.rate import client_host, rate_key
from api.guards.state import GuardState
from schema.cost import query_cost
from schema.errors import UNAUTHENTICATED


class _CodingContext:
    """A validation context that stamps ``extensions.code`` on every error a rule reports."""

    def __init__(self, inner: ValidationContext, extensions: dict[str, Any]) -> None:
        self._inner = inner
        self._extensions = extensions

    def report_error(self, error: GraphQLError) -> None:
        error.extensions = {**(error.extensions or {}), **self._extensions}
        self._inner.report_error(error)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def with_code(rule: type[ASTValidationRule], code: str, **extra: Any
              ) -> type[ASTValidationRule]:
    """``rule``, reporting its errors with ``extensions.code = code`` (and ``extra``).

    Strawberry's limiters report plain errors through the context they are given (some from
    ``__init__``, some from visitor hooks), so wrapping the context catches every one of them.
    """

    class Coded(rule):  # type: ignore[valid-type, misc]
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(_CodingContext(context, {"code": code, **extra}))

    Coded.__name__ = Coded.__qualname__ = f"Coded{rule.__name__}"
    return Coded


def _coded_rules(extension: Any, code: str, **extra: Any) -> Any:
    """A strawberry ``AddValidationRules`` extension whose rules report ``code``."""
    extension.validation_rules = [with_code(rule, code, **extra)
                                  for rule in extension.validation_rules]
    return extension


class CodedMaxTokensLimiter(MaxTokensLimiter):
    """Strawberry's token limit, plus codes on the two parser refusals that are limits.

    graphql-core reports both as plain syntax errors: too many tokens, and nesting beyond what
    the parser's recursion can follow. Neither is a typo, so each gets its own code.
    """

    def __init__(self, max_token_count: int | None,
                 cached_parse: Callable[..., DocumentNode]) -> None:
        super().__init__(max_token_count=max_token_count)  # type: ignore[arg-type]
        self.cached_parse = cached_parse

    def on_operation(self) -> Iterator[None]:
        if self.max_token_count is not None:
            self.execution_context.parse_options["max_tokens"] = self.max_token_count
        yield

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        try:
            ctx.graphql_document = self.cached_parse(ctx.query, **ctx.parse_options)
        except GraphQLSyntaxError as error:
            self._code(error)
            raise
        yield

    def _code(self, error: GraphQLSyntaxError) -> None:
        if self.max_token_count is not None and (
                f"more than {self.max_token_count} tokens" in error.message):
            error.extensions = {"code": TOO_MANY_TOKENS, "maxTokens": self.max_token_count}
        elif "nested too deeply" in error.message:
            error.extensions = {"code": QUERY_TOO_DEEP}


class CostGuard(SchemaExtension):
    """Refuse operations over the cost limit, charge the rest to the caller's rate budget,
    and report ``extensions.cost`` on every result."""

    def __init__(self, guards: GuardState) -> None:
        self.guards = guards
        self.requested = 0

    def on_validate(self) -> Iterator[None]:
        # An error set here makes strawberry skip validation and execution altogether.
        if self.execution_context.pre_execution_errors:
            yield
            return
        error = self._check()
        if error is not None:
            self.execution_context.pre_execution_errors = [error]
        yield

    def get_results(self) -> dict[str, Any]:
        return {"cost": self.guards.cost_report(self._key(), self.requested)}

    def _key(self) -> str:
        context = self.execution_context.context
        return rate_key(getattr(context, "principal", None),
                        client_host(getattr(context, "request", None)))

    def _check(self) -> GraphQLError | None:
        ctx = self.execution_context
        if ctx.graphql_document is None:
            return None
        variables = ctx.variables if isinstance(ctx.variables, dict) else {}
        measured = query_cost(ctx.schema._schema, ctx.graphql_document, ctx.operation_name,
                              variables)
        self.requested = measured.cost
        if measured.fields > MAX_EXPANDED_FIELDS:
            return GraphQLError(
                f"The operation expands to {measured.fields} fields through its fragments; "
                f"at most {MAX_EXPANDED_FIELDS} are allowed.",
                extensions={"code": MAX_COST_EXCEEDED, "maxFields": MAX_EXPANDED_FIELDS})
        if (getattr(ctx.context, "principal", None) is None
                and measured.cost > self.guards.anonymous_max_cost):
            # refused here, before validation and execution: an anonymous caller never makes
            # the server walk the schema more than once per request
            return GraphQLError(
                f"Without a token an operation may cost at most "
                f"{self.guards.anonymous_max_cost} (this one costs {measured.cost}). Send "
                "Authorization: Bearer <token>, or read the schema from /schema.graphql.",
                extensions={"code": UNAUTHENTICATED, "cost": measured.cost,
                            "maximumCost": self.guards.anonymous_max_cost})
        limit = self.guards.cost_limit
        if limit is not None and measured.cost > limit:
            return GraphQLError(
                f"The operation's cost {measured.cost} exceeds the maximum of {limit}. "
                "Ask for fewer items (first / limit) or fewer fields.",
                extensions={"code": MAX_COST_EXCEEDED, "cost": measured.cost,
                            "maximumCost": limit})
        limiter = self.guards.limiter
        if limiter is None:
            return None
        # charged before validation, so even an invalid operation spends at least 1
        throttle = limiter.take(self._key(), max(measured.cost, 1))
        if throttle.allowed:
            return None
        seconds = max(1, math.ceil(throttle.retry_after))
        response = getattr(ctx.context, "response", None)
        if response is not None:
            # An HTTP-level refusal: 429 tells proxies and generic HTTP clients to back off, and
            # Retry-After is only meaningful on such a status.
            response.status_code = 429
            response.headers["Retry-After"] = str(seconds)
        return GraphQLError(
            f"Rate limit exceeded: this operation costs {measured.cost} and "
            f"{math.floor(throttle.available)} is available; retry in {seconds} s.",
            extensions={"code": RATE_LIMITED, "retryAfter": seconds})


class OneOperationGuard(SchemaExtension):
    """A document with several operations must say which one to run (``operationName``).

    Strawberry falls back to the first operation, which silently runs something the client
    may not have meant; the GraphQL specification calls this a request error.
    """

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        document = ctx.graphql_document
        # the name the client sent: ``ctx.operation_name`` falls back to the first operation's
        provided = getattr(ctx, "_provided_operation_name", None)
        if document is not None and provided is None and not ctx.pre_execution_errors:
            operations = [d for d in document.definitions
                          if isinstance(d, OperationDefinitionNode)]
            if len(operations) > 1:
                ctx.pre_execution_errors = [GraphQLError(
                    "The document has several operations: say which one to run with "
                    "operationName.", extensions={"code": BAD_REQUEST})]
        yield


_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


class HideSuggestions(SchemaExtension):
    """With introspection off, error messages must not leak names through "Did you mean"
    hints (graphql-core can hide them, but strawberry does not pass the option on)."""

    def on_operation(self) -> Iterator[None]:
        yield
        ctx = self.execution_context
        errors = list(ctx.pre_execution_errors or ())
        if ctx.result is not None:
            errors += list(ctx.result.errors or ())
        for error in errors:
            error.message = strip_suggestions(error.message)


def strip_suggestions(message: str) -> str:
    return _SUGGESTION.sub("", message)


def guard_extensions(guards: GuardState) -> list[Callable[[], SchemaExtension]]:
    """Schema extension factories (a fresh instance per request) for ``build_schema``.

    The coded validation rules are built once here, not per request: the validation cache is
    keyed by the rule classes, so rebuilding them per request would defeat it.
    """
    rules: list[type[ASTValidationRule]] = []
    if guards.max_depth is not None:
        rules += _coded_rules(QueryDepthLimiter(max_depth=guards.max_depth), QUERY_TOO_DEEP,
                              maxDepth=guards.max_depth).validation_rules
    if guards.max_aliases is not None:
        rules += _coded_rules(MaxAliasesLimiter(max_alias_count=guards.max_aliases),
                              TOO_MANY_ALIASES, maxAliases=guards.max_aliases).validation_rules
    if not guards.introspection:
        rules += _coded_rules(DisableIntrospection(), INTROSPECTION_DISABLED).validation_rules
    frozen_rules = tuple(rules)
    # Order matters: the token limit parses (through the per-app cache); the cost guard runs
    # before any validation rule, since strawberry's depth and alias limiters take exponential
    # time on nested fragments that the cost guard refuses in linear time.
    factories: list[Callable[[], SchemaExtension]] = [
        lambda: CodedMaxTokensLimiter(guards.max_tokens, guards.parse),
        OneOperationGuard,
        lambda: CostGuard(guards),
        lambda: AddValidationRules(list(frozen_rules)),
        lambda: _ValidationCacheAfterGuards(maxsize=PARSE_CACHE_SIZE),
    ]
    if not guards.introspection:
        factories.insert(0, HideSuggestions)
    return factories


class _ValidationCacheAfterGuards(ValidationCache):
    """Strawberry's validation cache, skipped once a guard has already refused the operation
    (the stock one would overwrite that refusal with the validation result)."""

    def on_validate(self) -> Iterator[None]:
        if self.execution_context.pre_execution_errors:
            yield
            return
        yield from super().on_validate()
