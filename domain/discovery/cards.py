"""Creator cards: what the creator index holds per creator, derived from aggregates and profile.

A card is everything ranking reads about a creator: where they are (their location cell and
the coarser pool cells it lies in), how large their audience is (popularity) and, once the
audience reaches the privacy floor, what it is like (shares of each label and the dominant
labels). Cards are built from the creator's *published release* (``domain.insights.releases``)
— batched, floored counts, never individuals — and the creator's profile.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from domain.discovery.weights import AUDIENCE_FLOOR, BUDGET_TIE, INTENT_TIE, PROXIMITY_TIE
from domain.insights.aggregates import BREAKDOWN_KINDS, CreatorAggregate
from domain.locations import POOL_RESOLUTION, REGION_RESOLUTION, Cell
from domain.rollups import Profile

_TIES: Mapping[str, Sequence[str]] = {
    "budget": [t.value for t in BUDGET_TIE],
    "intent": [t.value for t in INTENT_TIE],
    "proximity": [t.value for t in PROXIMITY_TIE],
}


@dataclass(frozen=True)
class AudienceProfile:
    """What a creator's audience is like: label shares (0–1) and the dominant label per kind."""

    shares: Mapping[str, Mapping[str, float]]
    dominant: Mapping[str, str]

    def share(self, kind: str, label: str) -> float:
        return float(self.shares.get(kind, {}).get(label, 0.0))

    @property
    def segment(self) -> str:
        """The dominant segment key a candidate pool is kept for, e.g. ``HIGH|MEETING``."""
        return segment_key(self.dominant["budget"], self.dominant["intent"])


@dataclass(frozen=True)
class CreatorCard:
    creator_id: str
    #: audience size (BLOCKED viewers are never counted)
    popularity: int = 0
    location: Cell | None = None
    interests: tuple[str, ...] = ()
    #: None below the privacy floor: nothing about a small audience is ever read
    audience: AudienceProfile | None = None
    #: the pool cells (``domain.locations``) the location cell lies in
    cell: str | None = field(default=None)
    region: str | None = field(default=None)

    @property
    def segment(self) -> str | None:
        return self.audience.segment if self.audience else None

    def as_profile(self) -> Profile:
        return Profile(user_id=self.creator_id, location=self.location, interests=self.interests)


def segment_key(budget: str, intent: str) -> str:
    return f"{budget}|{intent}"


def dominant_label(counts: Mapping[str, int], kind: str) -> str | None:
    """The label most viewers hold; ties go to the earlier label in the kind's tie order."""
    order = _TIES[kind]
    best = max(order, key=lambda label: (counts.get(label, 0), -order.index(label)))
    return best if counts.get(best, 0) > 0 else None


def audience_profile(aggregate: CreatorAggregate | None) -> AudienceProfile | None:
    """Shares and dominant labels, or None when the audience is below the privacy floor."""
    if aggregate is None or aggregate.total < AUDIENCE_FLOOR:
        return None
    shares: dict[str, dict[str, float]] = {}
    dominant: dict[str, str] = {}
    for kind in BREAKDOWN_KINDS:
        counts = aggregate.counts.get(kind, {})
        shares[kind] = {label: round(n / aggregate.total, 4) for label, n in counts.items()
                        if n > 0}
        label = dominant_label(counts, kind)
        if label is None:  # pragma: no cover - every counted viewer holds one label per kind
            return None
        dominant[kind] = label
    return AudienceProfile(shares=shares, dominant=dominant)


def build_card(creator_id: str, aggregate: CreatorAggregate | None,
               profile: Profile | None) -> CreatorCard:
    """The index card of a creator from their aggregate and profile (either may be missing)."""
    location = profile.location if profile else None
    cell = region = None
    if location is not None:
        cell = location.parent(POOL_RESOLUTION)
        region = location.parent(REGION_RESOLUTION)
    return CreatorCard(
        creator_id=creator_id, popularity=aggregate.total if aggregate else 0,
        location=location, interests=tuple(profile.interests) if profile else (),
        audience=audience_profile(aggregate), cell=cell, region=region)
