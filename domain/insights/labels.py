"""What creators read instead of enum values: one table of segment names and descriptions.

Every label a creator sees ("High Spenders", "Call Lovers", "Local Fans", ...) comes from
``LABELS``; recommendations, messaging and the GraphQL breakdown all look names up here, so a
rename happens in one place. ``trait`` is the sentence used when a segment's characteristics are
listed; it is a template over the live thresholds (``{t.budget.high_tokens:,}`` …), rendered with
the thresholds the segments were classified by, so "over 20,000 tokens" follows an operator's
``updateSegmentConfiguration`` instead of repeating the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# The dimensions themselves are declared in domain/segments/dimensions.py; these names are
# imported from here by the insight modules.
from domain.segments.dimensions import PASSION_KIND, SegmentKind
from domain.segments.thresholds import SegmentThresholds


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
    trait: str  # one characteristic, as a sentence fragment (a template over ``t``)

    def rendered(self, thresholds: SegmentThresholds) -> SegmentLabel:
        """This label with its trait filled in from ``thresholds``."""
        return SegmentLabel(self.name, self.trait.format(t=thresholds))


#: traits are templates over ``t``, the classifying SegmentThresholds
LABELS: dict[str, dict[str, SegmentLabel]] = {
    SegmentKind.BUDGET: {
        "LOW": SegmentLabel("Casual Supporters",
                            "spend under {t.budget.mid_tokens:,} tokens in {t.budget.window_days}"
                            " days"),
        "MID": SegmentLabel("Regular Supporters",
                            "spend {t.budget.mid_tokens:,} to {t.budget.high_tokens:,} tokens in"
                            " {t.budget.window_days} days"),
        "HIGH": SegmentLabel("High Spenders",
                             "spend over {t.budget.high_tokens:,} tokens in {t.budget.window_days}"
                             " days"),
    },
    SegmentKind.INTENT: {
        "CHAT": SegmentLabel("Chat Enthusiasts", "mostly chat with you"),
        "CALL": SegmentLabel("Call Lovers", "mostly call you"),
        "MEETING": SegmentLabel("Meetup Seekers", "book meetings with you"),
        "EVENT": SegmentLabel("Event Goers", "come to your events"),
    },
    SegmentKind.PROXIMITY: {
        "LOCAL": SegmentLabel("Local Fans", "live within {t.proximity.local_km:g} km of you"),
        "NEARBY": SegmentLabel("Nearby Fans", "live within {t.proximity.nearby_km:g} km of you"),
        "REMOTE": SegmentLabel("Distant Fans", "live further away or have not shared a location"),
    },
    PASSION_KIND: {
        "shared_interests": SegmentLabel(
            "Kindred Spirits", "share at least {t.passion.shared_interests_min} of your interests"),
        "visual_attraction": SegmentLabel(
            "Admirers", "view and like your media without paying"),
        "loyal_follower": SegmentLabel(
            "Loyal Followers",
            "came back at least {t.passion.loyal_visits_min} times in the last"
            " {t.passion.loyalty_window_days} days"),
    },
}

DEFAULT_THRESHOLDS = SegmentThresholds()
OTHER_LABEL = SegmentLabel("Other", "several smaller groups, combined to protect privacy")


def label(kind: str, key: str, thresholds: SegmentThresholds | None = None) -> SegmentLabel:
    """The label of ``key`` in ``kind``, rendered from ``thresholds`` (the defaults when not
    given); ``OTHER`` is the merged group of small cells."""
    if key == OTHER_KEY:
        return OTHER_LABEL
    return LABELS[kind][key].rendered(thresholds or DEFAULT_THRESHOLDS)


def keys(kind: str) -> tuple[str, ...]:
    """Every key of a kind, in display order."""
    return tuple(LABELS[kind])


def combo_description(budget: str, intent: str, proximity: str) -> str:
    """A combined segment in words, e.g. ``High Spenders · Call Lovers · Local Fans``."""
    return " · ".join((LABELS[SegmentKind.BUDGET][budget].name,
                       LABELS[SegmentKind.INTENT][intent].name,
                       LABELS[SegmentKind.PROXIMITY][proximity].name))
