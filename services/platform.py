"""Platform insights: the whole platform's audience, from every creator's published release.

Privacy is the creators' own: the figures are the sum of what creators' releases already
publish (other people's data only through releases, contract §7), shown through the same view
(floors, largest-remainder rounding, the dominance rule). Counts are audience *memberships*: a
viewer in three creators' audiences counts three times, as each creator counts them.

The dominance rule is about people, so its largest contributions are summed per viewer over
every creator they paid (``TopsByViewer``): a fan paying many creators is one contributor. A
viewer's part is what their creators' releases hold of them (live less held back), so nothing
here moves with unreleased events either.

``refresh`` is a paged pass over the releases and the segments: the daily run and a rebuild
run it, never a request; ``audience`` is one document read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime

from domain.insights.aggregates import CreatorAggregate, contribution
from domain.insights.dominance import TopsByViewer
from domain.insights.releases import Family, add, family_of, subtract
from domain.insights.view import PlatformAudience, platform_audience
from services.insights import ThresholdSource, utc_now
from store.platform import PLATFORM_ID, PlatformRepository
from store.releases import ReleaseRepository
from store.segments import SegmentRepository

Clock = Callable[[], datetime]


class PlatformInsights:
    def __init__(self, releases: ReleaseRepository, segments: SegmentRepository,
                 platform: PlatformRepository, thresholds: ThresholdSource,
                 clock: Clock = utc_now) -> None:
        self.releases = releases
        self.segments = segments
        self.platform = platform
        self.thresholds = thresholds
        self.clock = clock

    async def refresh(self) -> int:
        """Sum every published release and the per-viewer largest revenue contributions into
        the platform release; how many creators it sums. Memory: one page and one viewer."""
        cells, creators = await self._published_sum()
        tops = TopsByViewer()
        viewer: str | None = None
        parts: Counter[str] = Counter()
        async for segments in self.segments.viewer_pages():
            # what each viewer's *released* figures hold: the live contribution less what
            # is still held back (published + pending = live), so one viewer's unreleased
            # payments move nothing here either
            held = await self.releases.pending_of([(s.creator_id, s.viewer_id)
                                                   for s in segments])
            for segment in segments:
                if segment.viewer_id != viewer:
                    tops.add_viewer(parts)
                    viewer, parts = segment.viewer_id, Counter()
                released = subtract(dict(contribution(segment)),
                                    held.get((segment.creator_id, segment.viewer_id), {}))
                parts.update({cell: n for cell, n in released.items()
                              if family_of(cell) is Family.REVENUE})
        tops.add_viewer(parts)
        await self.platform.put(cells, tops.tops(), creators, self.clock())
        return creators

    async def _published_sum(self) -> tuple[dict[str, int], int]:
        """Every published release summed, and how many there are (its own frame: the last
        page is let go before the segments are paged)."""
        cells: dict[str, int] = {}
        creators = 0
        async for page in self.releases.published_pages():
            summed = [published for _, published in page if published]
            cells = add(cells, *summed)
            creators += len(summed)
        return cells, creators

    async def audience(self) -> PlatformAudience:
        stored = await self.platform.get()
        thresholds = await self.thresholds()
        if stored is None:
            return platform_audience(CreatorAggregate(PLATFORM_ID), {}, thresholds, None, 0)
        return platform_audience(stored.aggregate, stored.tops, thresholds, stored.released_at,
                                 stored.creators)
