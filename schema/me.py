"""``me``: who the server thinks is calling (handy in GraphiQL)."""

from __future__ import annotations

import strawberry

from api.auth import Principal


@strawberry.type(description="The signed-in user, as their token describes them.")
class Me:
    user_id: strawberry.ID
    roles: list[str]

    @classmethod
    def from_domain(cls, principal: Principal) -> Me:
        return cls(user_id=strawberry.ID(principal.sub), roles=sorted(principal.roles))
