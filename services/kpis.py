"""The product's KPIs (contract §8): counted where they happen, read where they are stored.

Counters move in the process that did the work (Prometheus sums the processes): impressions
written, conversions claimed, segment computations by outcome. Gauges are read from the store
when ``/metrics`` is scraped, each in one O(1) round trip, never a scan:

- ``audience_segment_coverage_ratio``: (viewer, creator) pairs holding a segment over pairs
  with an interaction — a viewer holds one segment per creator they interacted with, so this is
  the share of viewers-with-an-interaction who hold their segment; below 1 while queued work
  waits or fails. Both counts are the collections' metadata counts.
- ``audience_analytics_refresh_age_seconds``: age of the oldest release still current (the
  creator whose dashboard figures are the oldest), from one index entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from store.releases import ReleaseRepository
from store.rollups import RollupRepository
from store.segments import SegmentRepository

#: a paid interaction this long after an impression of its creator is a discovery conversion
KPI_CONVERSION_WINDOW = timedelta(hours=24)


class ComputationOutcome(StrEnum):
    """``audience_segment_computations_total{outcome}``"""

    CHANGED = "changed"  # the pair's segment moved (a transition)
    UNCHANGED = "unchanged"  # classified again, same answer
    CONFLICT = "conflict"  # another writer got there first: classified again from fresh reads
    FAILED = "failed"  # the batch raised; its queue jobs retry


class KpiCounters(Protocol):
    """The port the use cases count KPIs through (the API's ``Metrics``)."""

    def count_impressions(self, n: int) -> None: ...

    def count_conversions(self, n: int) -> None: ...

    def count_computations(self, outcome: str, n: int) -> None: ...


class NoKpis:
    """For processes that export no metrics (the CLI, tests that do not look)."""

    def count_impressions(self, n: int) -> None:
        pass

    def count_conversions(self, n: int) -> None:
        pass

    def count_computations(self, outcome: str, n: int) -> None:
        pass


@dataclass(frozen=True)
class KpiGauges:
    coverage_ratio: float
    refresh_age_seconds: float


async def kpi_gauges(rollups: RollupRepository, segments: SegmentRepository,
                     releases: ReleaseRepository, now: datetime) -> KpiGauges:
    """The gauges in three O(1) reads (see the module doc)."""
    pairs = await rollups.estimated_pairs()
    held = await segments.estimated_count()
    oldest = await releases.oldest_release()
    return KpiGauges(
        coverage_ratio=min(1.0, held / pairs) if pairs else 1.0,
        refresh_age_seconds=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
