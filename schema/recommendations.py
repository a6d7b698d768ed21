"""Recommendations and message themes for a creator, each traceable to the shown numbers."""

from __future__ import annotations

import strawberry

from domain.insights.labels import Dimension
from domain.insights.messaging import MessagingSuggestion as DomainSuggestion
from domain.insights.recommendations import Evidence as DomainEvidence
from domain.insights.recommendations import Finding
from domain.insights.recommendations import Recommendations as DomainRecommendations
from schema.insight_enums import AudienceDimension, RecommendationKind


@strawberry.type(description="A shown number a recommendation read, e.g. "
                             "share.budget.HIGH = 35.")
class RecommendationEvidence:
    metric: str
    value: float

    @classmethod
    def from_domain(cls, e: DomainEvidence) -> RecommendationEvidence:
        return cls(metric=e.metric, value=e.value)


@strawberry.type(description="One recommendation, the rule that produced it and what it read.")
class RecommendationTrace:
    rule: str
    kind: RecommendationKind
    text: str
    evidence: list[RecommendationEvidence]

    @classmethod
    def from_domain(cls, f: Finding) -> RecommendationTrace:
        return cls(rule=f.rule, kind=f.kind, text=f.text,
                   evidence=[RecommendationEvidence.from_domain(e) for e in f.evidence])


@strawberry.type(description="Advice from the shown numbers; it never changes a price, a split "
                             "or a bill.")
class Recommendations:
    primary_strategy: str
    reasoning: str
    tips: list[str]
    opportunities: list[str]
    trace: list[RecommendationTrace] = strawberry.field(
        description="Every recommendation above with the rule and numbers behind it.")

    @classmethod
    def from_domain(cls, r: DomainRecommendations) -> Recommendations:
        return cls(primary_strategy=r.primary_strategy, reasoning=r.reasoning,
                   tips=list(r.tips), opportunities=list(r.opportunities),
                   trace=[RecommendationTrace.from_domain(f) for f in r.trace])


@strawberry.type(description="Message themes suited to a segment that dominates the audience.")
class MessagingSuggestion:
    dimension: AudienceDimension
    key: str
    label: str
    percentage: float
    tone: str
    themes: list[str]

    @classmethod
    def from_domain(cls, s: DomainSuggestion) -> MessagingSuggestion:
        return cls(dimension=Dimension(s.kind), key=s.key, label=s.name,
                   percentage=s.percentage, tone=s.tone, themes=list(s.themes))
