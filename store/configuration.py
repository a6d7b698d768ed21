"""``segment_configuration``: live thresholds, one document per kind, behind a short cache."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from domain.segments.thresholds import THRESHOLD_KINDS, SegmentThresholds
from store.database import Collections, Store


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0


class ConfigurationRepository:
    """Reads thresholds (defaults overlaid with stored overrides) and validates updates.

    A change made through this process applies to its next computation at once; other
    processes see it within ``cache_seconds``.
    """

    def __init__(self, store: Store, cache_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._docs = store.collection(Collections.SEGMENT_CONFIGURATION)
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._cached: SegmentThresholds | None = None
        self._cached_at = 0.0
        self.stats = CacheStats()

    async def current(self) -> SegmentThresholds:
        if self._cached is not None and self._clock() - self._cached_at < self._cache_seconds:
            self.stats.hits += 1
            return self._cached
        self.stats.misses += 1
        stored = {d["_id"]: {k: v for k, v in d.items() if k not in ("_id", "updated_at",
                                                                      "updated_by")}
                  async for d in self._docs.find({"_id": {"$in": list(THRESHOLD_KINDS)}})}
        thresholds = SegmentThresholds.model_validate(
            {kind: stored[kind] for kind in THRESHOLD_KINDS if kind in stored})
        self._cached, self._cached_at = thresholds, self._clock()
        return thresholds

    async def proposed(self, changes: Mapping[str, Mapping[str, Any]]) -> SegmentThresholds:
        """``changes`` (kind → field → value) merged over the current values and validated,
        stored nowhere. Raises pydantic's ValidationError when any result is invalid."""
        merged = (await self.current()).model_dump()
        for kind, fields in changes.items():
            merged[kind] = {**merged[kind], **fields}
        return SegmentThresholds.model_validate(merged)

    async def update(self, changes: Mapping[str, Mapping[str, Any]], updated_by: str
                     ) -> SegmentThresholds:
        """Merge ``changes`` over the current values, validate, store.

        Raises pydantic's ValidationError (nothing stored) when any result is invalid.
        """
        self._cached = None
        validated = await self.proposed(changes)
        for kind in changes:
            values = getattr(validated, kind).model_dump()
            await self._docs.replace_one(
                {"_id": kind}, {**values, "updated_by": updated_by, "updated_at": time.time()},
                upsert=True)
        self._cached = None
        return validated
