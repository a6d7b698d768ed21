"""Creator insights: read the creator's last release (the fields below it are in
schema/insights.py and read the same use case)."""

from __future__ import annotations

from domain.insights.view import ReleasedAudience
from resolvers.segments import check_id
from schema.context import Info


async def creator_audience(info: Info, creator_id: str) -> ReleasedAudience:
    return await info.context.services.insights.audience(check_id("creatorId", creator_id))
