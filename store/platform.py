"""``platform_releases``: every creator's published release summed, one document, once a day.

``{_id: "platform", published: {<nested cells>}, dominance: [{cell, top}], creators,
released_at}``. Written by the daily run (and a rebuild) from a paged pass over the releases and
the segments — never on the request path; read by ``platformInsights`` with one lookup by id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.insights.aggregates import CreatorAggregate
from domain.insights.dominance import Top, tops_from_doc, tops_to_doc
from domain.insights.releases import Cells, nested
from store.aggregates import aggregate_from_doc
from store.database import Collections, Store, utc

PLATFORM_ID = "platform"


@dataclass(frozen=True)
class PlatformRelease:
    aggregate: CreatorAggregate
    tops: Mapping[str, Top]
    #: creators whose published release is summed in
    creators: int
    released_at: datetime | None


class PlatformRepository:
    def __init__(self, store: Store) -> None:
        self._platform = store.collection(Collections.PLATFORM_RELEASES)

    async def put(self, cells: Cells, tops: Mapping[str, Top], creators: int,
                  at: datetime) -> None:
        await self._platform.replace_one(
            {"_id": PLATFORM_ID},
            {"published": nested(cells), "dominance": tops_to_doc(tops), "creators": creators,
             "released_at": at}, upsert=True)

    async def get(self) -> PlatformRelease | None:
        found: dict[str, Any] | None = await self._platform.find_one({"_id": PLATFORM_ID})
        if found is None:
            return None
        return PlatformRelease(
            aggregate=aggregate_from_doc({"_id": PLATFORM_ID, **(found.get("published") or {})}),
            tops=tops_from_doc(found.get("dominance")) or {},
            creators=int(found.get("creators", 0)), released_at=utc(found.get("released_at")))
