"""Discovery types (contract §6): ranked creators, their reasons, filters, suggestions."""

from __future__ import annotations

from typing import TypeAlias

import strawberry

from domain.discovery import weights as w
from domain.discovery.engagement import EngagementSuggestion as DomainSuggestion
from domain.discovery.scoring import BoostReason as DomainBoostReason
from domain.discovery.scoring import Reason as DomainReason
from domain.discovery.scoring import ScoredCreator
from schema.enums import BudgetTier, Intent, Proximity

# strawberry.enum registers the definition on the domain class and returns that same class: the
# calls are made for that effect, and the names are aliases type checkers accept in annotations.
strawberry.enum(
    w.DiscoveryContext, name="DiscoveryContext",
    description="Where a feed is shown. FEED ranks every candidate with boosts; SWIPE shows "
                "only creators the viewer has no segment with yet; SEARCH orders by match "
                "score alone (no visibility boost).")
strawberry.enum(w.RankingFactor, name="RankingFactor",
                description="A weight that added points to a match score.")
strawberry.enum(w.BoostFactor, name="VisibilityBoostFactor",
                description="A rule that raised a creator's visibility for this viewer.")

DiscoveryContext: TypeAlias = w.DiscoveryContext
RankingFactor: TypeAlias = w.RankingFactor
VisibilityBoostFactor: TypeAlias = w.BoostFactor


@strawberry.type(description="One weight that applied to a match score, and its points.")
class MatchReason:
    factor: RankingFactor
    points: float
    description: str

    @classmethod
    def from_domain(cls, r: DomainReason) -> MatchReason:
        return cls(factor=r.factor, points=r.points, description=r.detail)


@strawberry.type(description="One visibility boost rule that applied, and its percentage.")
class VisibilityBoostReason:
    factor: VisibilityBoostFactor
    percent: float = strawberry.field(description="e.g. 30.0 for +30 %.")
    description: str

    @classmethod
    def from_domain(cls, r: DomainBoostReason) -> VisibilityBoostReason:
        return cls(factor=r.factor, percent=r.percent, description=r.detail)


@strawberry.type(description="A creator ranked for the signed-in viewer. Ranking never "
                             "changes any price.")
class RankedCreator:
    _scored: strawberry.Private[ScoredCreator]
    creator_id: strawberry.ID
    rank: int = strawberry.field(description="1 for the first result.")
    match_score: float = strawberry.field(
        description="0–100: base 50 plus every weight in `reasons`, clamped.")
    boost: float = strawberry.field(
        description="Visibility boost as a multiplier: 1.0 = none, 1.3 = +30 %.")
    final_score: float = strawberry.field(
        description="The rank key: matchScore × boost (matchScore alone in SEARCH).")
    proximity: Proximity = strawberry.field(
        description="Distance band to the creator (REMOTE when either location is unknown).")
    reasons: list[MatchReason] = strawberry.field(
        description="Each weight that applied, with its points (before clamping).")
    boosts: list[VisibilityBoostReason] = strawberry.field(
        description="Each visibility boost rule that applied.")

    @classmethod
    def from_domain(cls, s: ScoredCreator, rank: int) -> RankedCreator:
        return cls(_scored=s, creator_id=strawberry.ID(s.creator_id), rank=rank,
                   match_score=s.match.score, boost=s.boost.multiplier,
                   final_score=round(s.final_score, 2), proximity=s.match.labels.proximity,
                   reasons=[MatchReason.from_domain(r) for r in s.match.reasons],
                   boosts=[VisibilityBoostReason.from_domain(b) for b in s.boost.reasons])


@strawberry.type(description="How the viewer might engage with a creator.")
class EngagementSuggestion:
    _suggestion: strawberry.Private[DomainSuggestion]
    creator_id: strawberry.ID
    suggested_type: Intent
    confidence: float = strawberry.field(description="0–1: how strongly the evidence points "
                                                     "to the suggested type.")
    reasoning: str

    @classmethod
    def from_domain(cls, s: DomainSuggestion) -> EngagementSuggestion:
        return cls(_suggestion=s, creator_id=strawberry.ID(s.creator_id),
                   suggested_type=s.suggested_type, confidence=s.confidence,
                   reasoning=s.reasoning)


@strawberry.input(description="Each list keeps creators holding one of its values; a field "
                              "left out (or null) does not filter. Lists may not be empty.")
class DiscoveryFilters:
    budget_tiers: list[BudgetTier] | None = strawberry.field(
        default=None, description="The dominant budget tier of the creator's audience.")
    intents: list[Intent] | None = strawberry.field(
        default=None, description="The dominant intent of the creator's audience.")
    proximities: list[Proximity] | None = strawberry.field(
        default=None, description="The distance band between the viewer and the creator.")
    min_match_score: float | None = strawberry.field(
        default=None, description="Keep creators with at least this match score (0–100).")
