"""The change records segment history is made of.

Each dimension's value is read through the dimensions table (domain/segments/dimensions.py):
a tier name, or "true"/"false" for a passion flag. ``changes_between`` turns one segment
transition into one ``SegmentChange`` per dimension that moved, each with an id derived from the
transition's id, so a transition delivered twice yields the same records (the log keeps one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.segments.classify import AudienceSegment
from domain.segments.dimensions import SegmentDimension, segment_values


def dimension_values(segment: AudienceSegment | None) -> dict[SegmentDimension, str | None]:
    """Every dimension's value (all ``None`` when there is no segment), in table order."""
    if segment is None:
        return dict.fromkeys(SegmentDimension)
    return dict(segment_values(segment))


@dataclass(frozen=True)
class SegmentChange:
    """One dimension of one pair moving from one value to another.

    ``before`` is None when the pair first appears, ``after`` None when its segment is removed.
    ``id`` is stable across redeliveries of the same transition (consumers deduplicate by it);
    ``position`` is the record's place in the log, assigned when it is first written (0 before).
    """

    id: str
    viewer_id: str
    creator_id: str
    dimension: SegmentDimension
    before: str | None
    after: str | None
    at: datetime
    position: int = 0


def change_id(transition_id: str, dimension: SegmentDimension) -> str:
    return f"{transition_id}:{dimension.value}"


def changes_between(transition_id: str, viewer_id: str, creator_id: str,
                    before: AudienceSegment | None, after: AudienceSegment | None,
                    at: datetime) -> list[SegmentChange]:
    """The records of one transition: one per dimension whose value differs, in table order."""
    old, new = dimension_values(before), dimension_values(after)
    return [SegmentChange(change_id(transition_id, d), viewer_id, creator_id, d, old[d], new[d],
                          at)
            for d in SegmentDimension if old[d] != new[d]]


#: (dimension, from, to): one kind of move a threshold change causes
Move = tuple[SegmentDimension, str | None, str | None]


def moves_between(before: AudienceSegment | None, after: AudienceSegment | None
                  ) -> list[Move]:
    """The dimensions whose value differs between two classifications of one pair."""
    old, new = dimension_values(before), dimension_values(after)
    return [(d, old[d], new[d]) for d in SegmentDimension if old[d] != new[d]]


@dataclass(frozen=True)
class ThresholdPreview:
    """What saving proposed thresholds would do to the pairs evaluated (nothing is saved).

    ``moves`` counts pairs per (dimension, from, to), most pairs first; ``pairs_total`` is
    every pair there is, so ``pairs_evaluated < pairs_total`` says the preview is a sample.
    """

    pairs_evaluated: int
    pairs_total: int
    moves: tuple[tuple[Move, int], ...]
