"""Root fields for discovery (contract §6): everything is for the signed-in viewer."""

from __future__ import annotations

import strawberry

from resolvers import discovery as r
from schema.context import Info
from schema.discovery import (
    DiscoveryContext,
    DiscoveryFilters,
    EngagementSuggestion,
    RankedCreator,
)
from schema.permissions import IsAuthenticated, IsServiceOrAdmin


@strawberry.type
class DiscoveryQueries:
    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Creators recommended to the signed-in viewer, best first "
                                  f"(limit 0–{r.MAX_LIMIT}, default {r.DEFAULT_LIMIT}). A "
                                  "viewer with no history is ranked by proximity, then "
                                  "popularity.")
    async def segment_recommendations(self, info: Info, limit: int | None = r.DEFAULT_LIMIT,
                                      filters: DiscoveryFilters | None = None
                                      ) -> list[RankedCreator]:
        return await r.segment_recommendations(info, limit, filters)

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="The given creators (at most "
                                  f"{r.MAX_CANDIDATES}) ranked for the signed-in viewer in a "
                                  "context (default FEED); blocked accounts, the viewer "
                                  "and repeated ids are dropped.")
    async def filter_discovery_feed(self, info: Info, candidates: list[strawberry.ID],
                                    context: DiscoveryContext | None = None
                                    ) -> list[RankedCreator]:
        return await r.filter_discovery_feed(info, candidates, context)

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="How the signed-in viewer might engage with a creator; null "
                                  "when nothing is known of the creator.")
    async def engagement_suggestion(self, info: Info, creator_id: strawberry.ID
                                    ) -> EngagementSuggestion | None:
        return await r.engagement_suggestion(info, creator_id)

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="The ids best first, as filterDiscoveryFeed ranks them in "
                                  f"FEED (at most {r.MAX_CANDIDATES}); blocked accounts, the "
                                  "viewer and repeats are removed.")
    async def reorder_discovery_queue(self, info: Info, creator_ids: list[strawberry.ID]
                                      ) -> list[strawberry.ID]:
        return await r.reorder_discovery_queue(info, creator_ids)  # type: ignore[return-value]

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="The visibility boost this creator gets for the signed-in "
                                  "viewer, as a MULTIPLIER of the match score: 1.0 = no boost, "
                                  "1.3 = +30 %, up to 1.95 when all three rules hold.")
    async def creator_visibility_boost(self, info: Info, creator_id: strawberry.ID) -> float:
        return await r.creator_visibility_boost(info, creator_id)


@strawberry.type
class DiscoveryMutations:
    @strawberry.mutation(permission_classes=[IsServiceOrAdmin],
                         description="Write the buffered discovery impressions now (they are "
                                     "otherwise written in the background within a second); "
                                     "answers how many were written.")
    async def flush_discovery_impressions(self, info: Info) -> int:
        return await r.flush_impressions(info)
