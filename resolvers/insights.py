"""Creator insights: read the creator's last release (the fields below it are in
schema/insights.py and read the same use case)."""

from __future__ import annotations

from graphql import GraphQLError

from api.auth import Role
from api.guards.codes import RATE_LIMITED
from domain.insights.view import PlatformAudience, ReleasedAudience
from resolvers.segments import check_id
from schema.context import Info
from schema.errors import forbidden
from schema.permissions import require_principal
from services.insights import FORCE_INTERVAL_SECONDS


async def creator_audience(info: Info, creator_id: str, force_refresh: bool = False
                           ) -> ReleasedAudience:
    creator = check_id("creatorId", creator_id)
    insights = info.context.services.insights
    if force_refresh:
        if Role.ADMIN not in require_principal(info.context).roles:
            raise forbidden("Only an admin may force a release.")
        if not insights.may_force(creator):
            raise GraphQLError(f"A release of this creator was forced less than "
                               f"{FORCE_INTERVAL_SECONDS:g} s ago; try again later.",
                               extensions={"code": RATE_LIMITED})
        await insights.force_release(creator)
    return await insights.audience(creator)


async def platform_insights(info: Info) -> PlatformAudience:
    return await info.context.services.platform.audience()
