"""Root fields for segments (contract §4), each guarded by a permission class."""

from __future__ import annotations

import strawberry

from resolvers import segments as r
from schema.configuration import SegmentConfiguration, SegmentConfigurationInput
from schema.configuration_preview import ConfigurationPreview
from schema.context import Info
from schema.enums import RiskLevel
from schema.permissions import (
    IsAdmin,
    IsAuthenticated,
    IsSafetyTeam,
    IsSafetyTeamOrAdmin,
    IsServiceOrAdmin,
)
from schema.risk import ViewerRiskChange
from schema.segment import AudienceSegment, AudienceSegmentConnection


@strawberry.type
class SegmentQueries:
    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="The signed-in viewer's segment for a creator; null when the "
                                  "two never interacted.")
    async def my_segment(self, info: Info, creator_id: strawberry.ID) -> AudienceSegment | None:
        return await r.my_segment(info, creator_id)

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="The signed-in viewer's segments, ordered by creator id.")
    async def my_segments(self, info: Info, first: int | None = r.DEFAULT_PAGE,
                          after: str | None = None) -> AudienceSegmentConnection:
        return await r.my_segments(info, first, after)

    @strawberry.field(permission_classes=[IsSafetyTeamOrAdmin],
                      description="Any individual segment (safety team, admin).")
    async def segment(self, info: Info, viewer_id: strawberry.ID,
                      creator_id: strawberry.ID) -> AudienceSegment | None:
        return await r.segment(info, viewer_id, creator_id)

    # risk is the safety team's alone; admin reads segments, never risk (contract §4)
    @strawberry.field(permission_classes=[IsSafetyTeam],
                      description="A viewer's risk changes, newest first (safety team).")
    async def viewer_risk_history(self, info: Info,
                                  viewer_id: strawberry.ID) -> list[ViewerRiskChange]:
        return await r.risk_history(info, viewer_id)

    @strawberry.field(permission_classes=[IsAdmin],
                      description="What saving these thresholds would move, from the current "
                                  "counters; saves nothing (a sample beyond 10,000 pairs).")
    async def preview_segment_configuration(self, info: Info, input: SegmentConfigurationInput
                                            ) -> ConfigurationPreview:  # noqa: A002
        return await r.preview_segment_configuration(info, input)

    @strawberry.field(permission_classes=[IsAdmin], description="The live thresholds.")
    async def segment_configuration(self, info: Info) -> SegmentConfiguration | None:
        return await r.segment_configuration(info)


@strawberry.type
class SegmentMutations:
    @strawberry.mutation(permission_classes=[IsServiceOrAdmin],
                         description="Recompute a pair now and return it.")
    async def refresh_segment(self, info: Info, viewer_id: strawberry.ID,
                              creator_id: strawberry.ID) -> AudienceSegment | None:
        return await r.refresh_segment(info, viewer_id, creator_id)

    @strawberry.mutation(permission_classes=[IsSafetyTeam],
                         description="Set a viewer's risk level; every change is audited.")
    async def set_viewer_risk(self, info: Info, viewer_id: strawberry.ID, level: RiskLevel,
                              reason: str) -> ViewerRiskChange | None:
        return await r.set_viewer_risk(info, viewer_id, level, reason)

    @strawberry.mutation(permission_classes=[IsAdmin],
                         description="Change thresholds; the next computation reads them.")
    async def update_segment_configuration(self, info: Info, input: SegmentConfigurationInput
                                           ) -> SegmentConfiguration | None:  # noqa: A002
        return await r.update_segment_configuration(info, input)
