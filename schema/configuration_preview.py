"""``ConfigurationPreview``: what saving proposed thresholds would move (contract §9)."""

from __future__ import annotations

import strawberry

from domain.segments.changes import ThresholdPreview
from schema.segment_change import SegmentDimension


@strawberry.type(description="Pairs that would move from one value to another along a "
                             "dimension (from/to: a tier name or \"true\"/\"false\").")
class SegmentMove:
    dimension: SegmentDimension
    from_: str | None = strawberry.field(name="from")
    to: str | None
    pairs: int


@strawberry.type(description="What saving the proposed thresholds would change; nothing is "
                             "saved. A large audience is sampled: pairsEvaluated says how many "
                             "pairs were classified, pairsTotal how many there are.")
class ConfigurationPreview:
    pairs_evaluated: int
    pairs_total: int
    complete: bool = strawberry.field(description="Every pair was evaluated (no sample).")
    moves: list[SegmentMove]

    @classmethod
    def from_domain(cls, p: ThresholdPreview) -> ConfigurationPreview:
        return cls(pairs_evaluated=p.pairs_evaluated, pairs_total=p.pairs_total,
                   complete=p.pairs_evaluated >= p.pairs_total,
                   moves=[SegmentMove(dimension=d, from_=before, to=after, pairs=n)
                          for (d, before, after), n in p.moves])
