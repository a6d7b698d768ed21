"""What creators read instead of enum values: one table of segment names and descriptions.

Every label a creator sees ("High Spenders", "Call Lovers", "Local Fans", ...) comes from
``LABELS``; recommendations, messaging and the GraphQL breakdown all look names up here, so a
rename happens in one place. ``trait`` is the sentence used when a segment's characteristics are
listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# The dimensions themselves are declared in domain/segments/dimensions.py; these names are
# imported from here by the insight modules.
from domain.segments.dimensions import PASSION_KIND, SegmentKind


class Dimension(StrEnum):
    """Every group a creator sees a breakdown of: the tier dimensions and passion."""

    BUDGET = SegmentKind.BUDGET.value
    INTENT = SegmentKind.INTENT.value
    PROXIMITY = SegmentKind.PROXIMITY.value
    PASSION = PASSION_KIND


OTHER_KEY = "OTHER"


@dataclass(frozen=True)
class SegmentLabel:
    name: str  # plural noun phrase shown on the dashboard
    trait: str  # one characteristic, as a sentence fragment


LABELS: dict[str, dict[str, SegmentLabel]] = {
    SegmentKind.BUDGET: {
        "LOW": SegmentLabel("Casual Supporters", "spend under 5,000 tokens a month"),
        "MID": SegmentLabel("Regular Supporters", "spend 5,000 to 20,000 tokens a month"),
        "HIGH": SegmentLabel("High Spenders", "spend over 20,000 tokens a month"),
    },
    SegmentKind.INTENT: {
        "CHAT": SegmentLabel("Chat Enthusiasts", "mostly chat with you"),
        "CALL": SegmentLabel("Call Lovers", "mostly call you"),
        "MEETING": SegmentLabel("Meetup Seekers", "book meetings with you"),
        "EVENT": SegmentLabel("Event Goers", "come to your events"),
    },
    SegmentKind.PROXIMITY: {
        "LOCAL": SegmentLabel("Local Fans", "live within 50 km of you"),
        "NEARBY": SegmentLabel("Nearby Fans", "live within 200 km of you"),
        "REMOTE": SegmentLabel("Distant Fans", "live further away or have not shared a location"),
    },
    PASSION_KIND: {
        "shared_interests": SegmentLabel("Kindred Spirits", "share at least 3 of your interests"),
        "visual_attraction": SegmentLabel("Admirers", "view and like your media without paying"),
        "loyal_follower": SegmentLabel("Loyal Followers", "come back week after week"),
    },
}

OTHER_LABEL = SegmentLabel("Other", "several smaller groups, combined to protect privacy")


def label(kind: str, key: str) -> SegmentLabel:
    """The label of ``key`` in ``kind``; ``OTHER`` is the merged group of small cells."""
    if key == OTHER_KEY:
        return OTHER_LABEL
    return LABELS[kind][key]


def keys(kind: str) -> tuple[str, ...]:
    """Every key of a kind, in display order."""
    return tuple(LABELS[kind])


def combo_description(budget: str, intent: str, proximity: str) -> str:
    """A combined segment in words, e.g. ``High Spenders · Call Lovers · Local Fans``."""
    return " · ".join((LABELS[SegmentKind.BUDGET][budget].name,
                       LABELS[SegmentKind.INTENT][intent].name,
                       LABELS[SegmentKind.PROXIMITY][proximity].name))
