"""``AudienceSegment``: one viewer's labels for one creator (contract §4)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.segments.classify import AudienceSegment as DomainSegment
from domain.segments.passion import PassionSignals as DomainPassion
from schema.context import Info
from schema.enums import BudgetTier, Intent, IntentSource, Proximity, RiskLevel
from schema.permissions import IsSafetyTeam


@strawberry.type(description="Shared interests, visual attraction, loyal following.")
class PassionSignals:
    shared_interests: bool
    shared_interests_score: float = strawberry.field(
        description="Common tags ÷ the creator's tags × 100.")
    visual_attraction: bool
    visual_attraction_score: float = strawberry.field(
        description="views×2 + likes×5 + dwell minutes, capped at 100.")
    loyal_follower: bool
    loyalty_score: float = strawberry.field(description="0–100; loyal from 70 with 10 visits.")

    @classmethod
    def from_domain(cls, p: DomainPassion) -> PassionSignals:
        return cls(shared_interests=p.shared_interests,
                   shared_interests_score=p.shared_interests_score,
                   visual_attraction=p.visual_attraction,
                   visual_attraction_score=p.visual_attraction_score,
                   loyal_follower=p.loyal_follower, loyalty_score=p.loyalty_score)


@strawberry.type(description="What a creator shows of themselves (no audience data).")
class CreatorProfile:
    creator_id: strawberry.ID
    interests: list[str]


@strawberry.type(description="One viewer's segment for one creator.")
class AudienceSegment:
    _segment: strawberry.Private[DomainSegment]
    #: shown to its own viewer as their data (myData): never with its risk label
    _own_data: strawberry.Private[bool]
    viewer_id: strawberry.ID
    creator_id: strawberry.ID
    budget: BudgetTier
    intent: Intent
    proximity: Proximity
    passion: PassionSignals
    last_updated: datetime
    budget_window_tokens: int = strawberry.field(
        description="Tokens spent in the trailing budget window (all creators).")
    budget_window_purchases: int
    intent_share: float = strawberry.field(
        description="Share of the deciding interactions held by the intent, 0–1.")
    intent_is_majority: bool = strawberry.field(
        description="The intent holds over majorityShare of the deciding interactions.")
    intent_source: IntentSource = strawberry.field(
        description="Whose interactions decided the intent (see IntentSource).")
    distance_km: int | None = strawberry.field(
        description="Whole km between the centres of the two location cells; null when either "
                    "location is unknown.")

    # an admin reads segments for support, never the risk label (contract §4)
    @strawberry.field(permission_classes=[IsSafetyTeam],
                      description="Internal risk label (safety team only).")
    def risk(self) -> RiskLevel | None:
        return None if self._own_data else self._segment.risk

    @strawberry.field(description="The creator's public profile (batched lookup).")
    async def creator(self, info: Info) -> CreatorProfile:
        profile = await info.context.loaders.profiles.load(self._segment.creator_id)
        return CreatorProfile(creator_id=strawberry.ID(self._segment.creator_id),
                              interests=list(profile.interests) if profile else [])

    @classmethod
    def from_domain(cls, s: DomainSegment, *, own_data: bool = False) -> AudienceSegment:
        return cls(
            _segment=s, _own_data=own_data, viewer_id=strawberry.ID(s.viewer_id),
            creator_id=strawberry.ID(s.creator_id), budget=s.budget, intent=s.intent,
            proximity=s.proximity, passion=PassionSignals.from_domain(s.passion),
            last_updated=s.last_updated, budget_window_tokens=s.budget_detail.window_tokens,
            budget_window_purchases=s.budget_detail.window_purchases,
            intent_share=round(s.intent_detail.share, 4),
            intent_is_majority=s.intent_detail.majority,
            intent_source=IntentSource(s.intent_detail.source),
            distance_km=s.proximity_detail.distance_km,
        )


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class AudienceSegmentEdge:
    cursor: str
    node: AudienceSegment


@strawberry.type(description="A page of the signed-in viewer's segments, ordered by creator.")
class AudienceSegmentConnection:
    _viewer_id: strawberry.Private[str]
    edges: list[AudienceSegmentEdge]
    page_info: PageInfo

    @strawberry.field
    def nodes(self) -> list[AudienceSegment]:
        return [e.node for e in self.edges]

    @strawberry.field(description="All segments of the viewer (one extra count).")
    async def total_count(self, info: Info) -> int:
        return await info.context.services.segments.count_for_viewer(self._viewer_id)
