"""Root field for creator insights (contract §5), guarded by the creator-or-admin permission."""

from __future__ import annotations

import strawberry

from resolvers import insights as r
from schema.context import Info
from schema.insights import CreatorAudienceInsights
from schema.permissions import IsAdmin, IsThisCreatorOrAdmin
from schema.platform import PlatformInsights


@strawberry.type
class InsightsQueries:
    @strawberry.field(permission_classes=[IsThisCreatorOrAdmin],
                      description="A creator's audience in aggregate: that creator, or admin. "
                                  "forceRefresh (admin, once a minute per creator) cuts a "
                                  "release now if the rules allow one, instead of waiting.")
    async def creator_audience(self, info: Info, creator_id: strawberry.ID,
                               force_refresh: bool = False) -> CreatorAudienceInsights | None:
        return CreatorAudienceInsights.from_domain(
            await r.creator_audience(info, creator_id, force_refresh))

    @strawberry.field(permission_classes=[IsAdmin],
                      description="The whole platform's audience (admin): every creator's "
                                  "published figures summed, under the same privacy rules.")
    async def platform_insights(self, info: Info) -> PlatformInsights:
        return PlatformInsights.from_domain(await r.platform_insights(info))
