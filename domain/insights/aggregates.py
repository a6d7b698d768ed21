"""Per-creator audience aggregates, maintained from segment transitions in O(1).

A segment contributes one viewer to its creator's counts (total, each tier it holds, its
budget × intent × proximity combination, each passion signal it shows) and its revenue to the
same cells. When a segment changes, the aggregate moves by contribution(after) −
contribution(before), so the cost of an update never depends on the audience size. BLOCKED
viewers contribute nothing: they never appear in anyone's counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from domain.segments.classify import AudienceSegment
from domain.segments.risk import RiskLevel

#: the segment kinds that have a breakdown, and the label field each reads
BREAKDOWN_KINDS = ("budget", "intent", "proximity")
PASSION_SIGNALS = ("shared_interests", "visual_attraction", "loyal_follower")


def combo_key(budget: str, intent: str, proximity: str) -> str:
    """The combined-segment cell name, e.g. ``HIGH|CALL|LOCAL``."""
    return f"{budget}|{intent}|{proximity}"


def contribution(segment: AudienceSegment | None) -> Counter[str]:
    """The counter cells (dotted paths) one segment adds to its creator's aggregate."""
    cells: Counter[str] = Counter()
    if segment is None or segment.risk is RiskLevel.BLOCKED:
        return cells
    revenue = segment.revenue_tokens
    combo = combo_key(*segment.labels())
    cells["total"] += 1
    cells["revenue_tokens"] += revenue
    if segment.paying:
        cells["paying"] += 1
    for kind, label in zip(BREAKDOWN_KINDS, segment.labels(), strict=True):
        cells[f"{kind}.{label}"] += 1
        cells[f"{kind}_revenue.{label}"] += revenue
        if segment.paying:
            cells[f"{kind}_paying.{label}"] += 1
    cells[f"combo.{combo}"] += 1
    cells[f"combo_revenue.{combo}"] += revenue
    if segment.paying:
        cells[f"combo_paying.{combo}"] += 1
    for signal in PASSION_SIGNALS:
        if getattr(segment.passion, signal):
            cells[f"passion.{signal}"] += 1
    return cells


def transition_delta(before: AudienceSegment | None, after: AudienceSegment | None
                     ) -> dict[str, int]:
    """How a creator's aggregate moves when ``before`` becomes ``after`` (zeros dropped)."""
    delta: Counter[str] = Counter(contribution(after))
    delta.subtract(contribution(before))
    return {cell: int(n) for cell, n in delta.items() if n}


@dataclass(frozen=True)
class CreatorAggregate:
    """One creator's audience, counted: never an individual, only how many."""

    creator_id: str
    total: int = 0
    paying: int = 0
    revenue_tokens: int = 0
    #: kind ("budget", "intent", "proximity") → label → viewers
    counts: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    #: kind → label → revenue tokens
    revenue: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    #: kind → label → paying viewers
    paying_counts: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    #: "BUDGET|INTENT|PROXIMITY" → viewers / revenue / paying viewers
    combos: Mapping[str, int] = field(default_factory=dict)
    combo_revenue: Mapping[str, int] = field(default_factory=dict)
    combo_paying: Mapping[str, int] = field(default_factory=dict)
    passion: Mapping[str, int] = field(default_factory=dict)

    def count(self, kind: str, label: str) -> int:
        return int(self.counts.get(kind, {}).get(label, 0))

    def share(self, kind: str, label: str) -> float:
        """Fraction (0–1) of the audience holding ``label`` of ``kind``."""
        return self.count(kind, label) / self.total if self.total else 0.0
