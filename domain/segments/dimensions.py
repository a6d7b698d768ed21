"""The segment dimensions, declared once: every reader (labels, breakdowns, change logs,
previews, GraphQL enums) takes them from ``DIMENSIONS``.

| dimension | kind | breakdown group | read from ``AudienceSegment`` | values |
|---|---|---|---|---|
| BUDGET | tier | ``budget`` | ``budget`` | ``BudgetTier`` (LOW, MID, HIGH) |
| INTENT | tier | ``intent`` | ``intent`` | ``Intent`` (CHAT, CALL, MEETING, EVENT) |
| PROXIMITY | tier | ``proximity`` | ``proximity`` | ``Proximity`` (LOCAL, NEARBY, REMOTE) |
| SHARED_INTERESTS | flag | ``passion`` | ``passion.shared_interests`` | "true", "false" |
| VISUAL_ATTRACTION | flag | ``passion`` | ``passion.visual_attraction`` | "true", "false" |
| LOYAL_FOLLOWER | flag | ``passion`` | ``passion.loyal_follower`` | "true", "false" |

A tier dimension puts every pair in exactly one of its values; a flag holds or not, and a
creator's breakdown counts the pairs it holds for (the passion group).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from domain.segments.budget import BudgetTier
from domain.segments.intent import Intent
from domain.segments.proximity import Proximity

if TYPE_CHECKING:
    from domain.segments.classify import AudienceSegment


class SegmentKind(StrEnum):
    """The tier dimensions, as a creator's breakdown names them."""

    BUDGET = "budget"
    INTENT = "intent"
    PROXIMITY = "proximity"


#: the breakdown group of the flag dimensions (their field names on ``PassionSignals``)
PASSION_KIND = "passion"


class SegmentDimension(StrEnum):
    """Every dimension a pair's segment has; a change log records moves along each."""

    BUDGET = "BUDGET"
    INTENT = "INTENT"
    PROXIMITY = "PROXIMITY"
    SHARED_INTERESTS = "SHARED_INTERESTS"
    VISUAL_ATTRACTION = "VISUAL_ATTRACTION"
    LOYAL_FOLLOWER = "LOYAL_FOLLOWER"


FLAG_VALUES: tuple[str, str] = ("true", "false")


@dataclass(frozen=True)
class DimensionSpec:
    """One row of ``DIMENSIONS``."""

    dimension: SegmentDimension
    group: str  # a SegmentKind value, or PASSION_KIND for the flags
    attribute: str  # on AudienceSegment for tiers, on PassionSignals for flags
    values: tuple[str, ...]

    @property
    def is_flag(self) -> bool:
        return self.group == PASSION_KIND

    def value_of(self, segment: AudienceSegment) -> str:
        """This dimension's value for a pair: a tier name, or "true" / "false"."""
        if self.is_flag:
            return "true" if getattr(segment.passion, self.attribute) else "false"
        return str(getattr(segment, self.attribute).value)


DIMENSIONS: tuple[DimensionSpec, ...] = (
    DimensionSpec(SegmentDimension.BUDGET, SegmentKind.BUDGET, "budget",
                  tuple(t.value for t in BudgetTier)),
    DimensionSpec(SegmentDimension.INTENT, SegmentKind.INTENT, "intent",
                  tuple(i.value for i in Intent)),
    DimensionSpec(SegmentDimension.PROXIMITY, SegmentKind.PROXIMITY, "proximity",
                  tuple(p.value for p in Proximity)),
    DimensionSpec(SegmentDimension.SHARED_INTERESTS, PASSION_KIND, "shared_interests",
                  FLAG_VALUES),
    DimensionSpec(SegmentDimension.VISUAL_ATTRACTION, PASSION_KIND, "visual_attraction",
                  FLAG_VALUES),
    DimensionSpec(SegmentDimension.LOYAL_FOLLOWER, PASSION_KIND, "loyal_follower",
                  FLAG_VALUES),
)

BY_DIMENSION: dict[SegmentDimension, DimensionSpec] = {d.dimension: d for d in DIMENSIONS}


def segment_values(segment: AudienceSegment) -> dict[SegmentDimension, str]:
    """Every dimension's value for a pair, in table order."""
    return {d.dimension: d.value_of(segment) for d in DIMENSIONS}


def flag_attributes() -> tuple[str, ...]:
    """The passion signals, in table order (their ``PassionSignals`` field names)."""
    return tuple(d.attribute for d in DIMENSIONS if d.is_flag)
