"""Root fields for segment history (contract §9), each guarded by a permission class."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from resolvers import history as r
from schema.context import Info
from schema.erasure import ErasureReceipt
from schema.my_data import MyData
from schema.permissions import IsAuthenticated, IsServiceOrAdmin, IsServiceOrSafetyTeam
from schema.segment_change import SegmentChange, SegmentChangeConnection


@strawberry.type
class HistoryQueries:
    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="The signed-in viewer's own segment changes, newest first "
                                  "(all creators when creatorId is left out).")
    async def my_segment_history(self, info: Info, creator_id: strawberry.ID | None = None,
                                 first: int | None = r.DEFAULT_PAGE, after: str | None = None
                                 ) -> SegmentChangeConnection:
        return await r.my_segment_history(info, creator_id, first, after)

    @strawberry.field(permission_classes=[IsServiceOrSafetyTeam],
                      description="Every segment change in log order (service, safety team). "
                                  "Resume with after: <last cursor>; delivery is "
                                  "at-least-once, so deduplicate by change id.")
    async def segment_changes(self, info: Info, first: int | None = r.DEFAULT_PAGE,
                              after: str | None = None) -> SegmentChangeConnection:
        return await r.segment_changes(info, first, after)


    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Everything stored about the signed-in user (events, "
                                  "segments, history, profile, location cell), except risk "
                                  "labels.")
    def my_data(self, info: Info) -> MyData:
        return r.my_data(info)


@strawberry.type
class DataRightsMutations:
    @strawberry.mutation(permission_classes=[IsServiceOrAdmin],
                         description="Erase a viewer's data (GDPR article 17; service, admin). "
                                     "Idempotent; a replay of an erased event id is a "
                                     "duplicate.")
    async def erase_viewer(self, info: Info, viewer_id: strawberry.ID) -> ErasureReceipt:
        return await r.erase_viewer(info, viewer_id)

    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description="Erase the signed-in user's own data (GDPR article 17).")
    async def erase_my_data(self, info: Info) -> ErasureReceipt:
        return await r.erase_my_data(info)


@strawberry.type
class HistorySubscriptions:
    @strawberry.subscription(permission_classes=[IsServiceOrSafetyTeam],
                             description="Segment changes as they are written (service, "
                                         "safety team), from after: <cursor> or from now. A "
                                         "subscriber that falls too far behind is closed "
                                         "with code 1008 and resumes with segmentChanges.")
    async def segment_changed(self, info: Info, after: str | None = None
                              ) -> AsyncGenerator[SegmentChange, None]:
        async for change in r.segment_changed(info, after):
            yield change
