"""Which recomputation an accepted event causes.

A pair event recomputes its pair; a transaction moves the viewer's budget for every creator;
a location or interest change moves every pair the user is in, as viewer or as creator.
"""

from __future__ import annotations

from domain.events import Event, EventType
from services.segments import SegmentService

#: events whose effect reaches every pair of the user, not only one
VIEWER_WIDE = {EventType.TRANSACTION_COMPLETED}
PROFILE_WIDE = {EventType.LOCATION_UPDATED, EventType.PROFILE_INTERESTS_UPDATED}


class InlineScheduler:
    """Runs the recomputation an event calls for right away, in the request."""

    def __init__(self, segments: SegmentService) -> None:
        self.segments = segments

    async def __call__(self, event: Event) -> None:
        if event.type in PROFILE_WIDE and event.user_id:
            await self.segments.recompute_viewer(event.user_id)
            await self.segments.recompute_creator(event.user_id)
        elif event.type in VIEWER_WIDE and event.viewer_id:
            await self.segments.recompute_viewer(event.viewer_id)
        elif event.viewer_id and event.creator_id:
            await self.segments.recompute(event.viewer_id, event.creator_id)
