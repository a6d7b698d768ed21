"""Per-request DataLoaders: nested lookups batch into one store call per kind per tick."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aiodataloader import DataLoader

from domain.rollups import Profile
from domain.segments.classify import AudienceSegment
from services.container import Services

PairKey = tuple[str, str]  # (viewer id, creator id)


@dataclass
class Loaders:
    """Fresh for every request, so no cached value outlives the request that read it."""

    segments: DataLoader
    profiles: DataLoader


def build_loaders(services: Services) -> Loaders:
    async def load_segments(keys: Sequence[PairKey]) -> list[AudienceSegment | None]:
        # Read-your-writes: queued work covering these pairs runs first (one query when
        # nothing is queued), so a client never reads a segment older than its own events.
        await services.freshness.pairs(list(keys))
        return await services.segments.get_many(keys)

    async def load_profiles(user_ids: Sequence[str]) -> list[Profile | None]:
        return await services.segments.profiles(user_ids)

    return Loaders(segments=DataLoader(load_segments), profiles=DataLoader(load_profiles))
