"""Data rights: everything stored about a user, for that user (GDPR article 15).

``MyData`` reads only the caller's own records: their events (paged), their segments, their
history, their profile and the cell of their location — never a risk label, and never the exact
coordinates a location event carried (the cell stands for them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.rollups import Profile
from store.ledger import EventLedger
from store.rollups import RollupRepository

#: event fields never shown back, even to their owner (the cell stands for them)
HIDDEN_FIELDS = frozenset({"latitude", "longitude"})


@dataclass(frozen=True)
class OwnEvent:
    """One stored event of the caller's, as they may see it."""

    event_id: str
    type: str
    occurred_at: datetime
    fields: Mapping[str, Any]


@dataclass(frozen=True)
class OwnProfile:
    """A user's profile as they may see it: the cell of their location, not the point."""

    interests: tuple[str, ...]
    location_cell: str | None


def own_profile(profile: Profile) -> OwnProfile:
    # the stored H3 cell is all there is: exact coordinates are never kept (domain.locations)
    cell = profile.location.index if profile.location is not None else None
    return OwnProfile(tuple(profile.interests), cell)


class DataRights:
    def __init__(self, ledger: EventLedger, rollups: RollupRepository) -> None:
        self.ledger = ledger
        self.rollups = rollups

    async def events(self, user_id: str, after_id: str | None, limit: int) -> list[OwnEvent]:
        """Up to ``limit`` of the user's events (as viewer or as the user), by event id."""
        rows = await self.ledger.of_user(user_id, after_id, limit)
        return [OwnEvent(e.event_id, e.type.value, e.occurred_at,
                         {k: v for k, v in e.fields.items() if k not in HIDDEN_FIELDS})
                for e in rows]

    async def profile(self, user_id: str) -> OwnProfile | None:
        [profile] = await self.rollups.profiles([user_id])
        return own_profile(profile) if profile is not None else None
