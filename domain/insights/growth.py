"""Growth: how the shown audience changed against a daily snapshot 7 or 30 days back.

Both sides are privacy-safe views of *released* aggregates (the snapshots store the released
view, never the live counters), and every change is the difference of two shown numbers. A tier
is compared only when it is shown on its own at both ends; a tier hidden at either end has no
change to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.insights.labels import OTHER_KEY, SegmentKind
from domain.insights.view import AudienceView

#: windows the growth section reports, in days
GROWTH_WINDOWS = (7, 30)
#: a snapshot this many days older than the target day still counts (the job may have missed)
SNAPSHOT_TOLERANCE_DAYS = 3


@dataclass(frozen=True)
class TierChange:
    kind: str
    key: str
    name: str
    count_change: int
    share_change: float  # percentage points


@dataclass(frozen=True)
class GrowthWindow:
    days: int
    available: bool
    note: str | None = None
    compared_with: date | None = None
    audience_change: int | None = None
    audience_change_percentage: float | None = None
    paying_change: int | None = None
    tiers: tuple[TierChange, ...] = ()


def no_history(days: int) -> GrowthWindow:
    return GrowthWindow(days, False, f"Not enough history: there is no daily snapshot from "
                                     f"{days} days ago yet.")


def compare(days: int, now: AudienceView, then: AudienceView, then_day: date) -> GrowthWindow:
    """The change from ``then`` (a snapshot's view) to ``now`` (the current release's view)."""
    if now.withheld or then.withheld:
        return GrowthWindow(days, False, f"Not enough history: {days} days ago your audience "
                                         "was below the privacy floor, so there is nothing "
                                         "to compare.", then_day)
    tiers = []
    for kind in SegmentKind:
        for row in now.breakdown.get(kind, ()):
            before = then.cell(kind, row.key)
            if row.key == OTHER_KEY or before is None:
                continue
            tiers.append(TierChange(str(kind), row.key, row.name, row.count - before.count,
                                    row.percentage - before.percentage))
    change = now.total - then.total
    paying = (now.paying - then.paying
              if now.paying is not None and then.paying is not None else None)
    return GrowthWindow(days, True, None, then_day, change,
                        round(change / then.total * 100) if then.total else None, paying,
                        tuple(tiers))
