"""The root Query, Mutation and Subscription types and the schema factory."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from resolvers.discovery_fields import DiscoveryMutations, DiscoveryQueries
from resolvers.event_mutations import EventMutations
from resolvers.history_fields import DataRightsMutations, HistoryQueries, HistorySubscriptions
from resolvers.insights_fields import InsightsQueries
from resolvers.queue_fields import QueueMutations, QueueQueries
from resolvers.segment_fields import SegmentMutations, SegmentQueries
from schema.context import Info
from schema.me import Me
from schema.permissions import IsAuthenticated, require_principal


@strawberry.type
class Query(SegmentQueries, DiscoveryQueries, InsightsQueries, QueueQueries, HistoryQueries):
    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="The signed-in user.")
    def me(self, info: Info) -> Me:
        return Me.from_domain(require_principal(info.context))


@strawberry.type
class Mutation(EventMutations, SegmentMutations, DiscoveryMutations, QueueMutations,
               DataRightsMutations):
    pass


@strawberry.type
class Subscription(HistorySubscriptions):
    pass


def build_schema(extensions: list[Callable[[], SchemaExtension]] | None = None
                 ) -> strawberry.Schema:
    """The GraphQL schema, with the given extensions (guards, limits): classes or factories,
    so that every request gets fresh instances."""
    return AudienceSchema(query=Query, mutation=Mutation, subscription=Subscription,
                          extensions=extensions or [])


class AudienceSchema(strawberry.Schema):
    """Strawberry's schema without its per-error logging.

    Strawberry logs every error with a stack trace, FORBIDDEN and validation errors included;
    ``schema.errors.format_error`` already logs the unexpected ones once, with the request id.
    """

    def process_errors(self, errors: list[GraphQLError],
                       execution_context: ExecutionContext | None = None) -> None:
        return None
