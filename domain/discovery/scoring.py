"""Match scores, visibility boosts and rankings: pure functions of a viewer and creator cards.

Every number used here comes from ``weights``; this module only applies the table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from domain.discovery import weights as w
from domain.discovery.cards import CreatorCard
from domain.locations import Cell
from domain.rollups import InteractionKind, Profile
from domain.segments.budget import BudgetTier
from domain.segments.classify import AudienceSegment
from domain.segments.intent import DEFAULT_INTENT
from domain.segments.passion import shared_interest_score
from domain.segments.proximity import Proximity, classify_proximity
from domain.segments.risk import RiskLevel
from domain.segments.thresholds import SegmentThresholds

_BUDGET_RANK = {BudgetTier.LOW: 0, BudgetTier.MID: 1, BudgetTier.HIGH: 2}


@dataclass(frozen=True)
class ViewerContext:
    """The signed-in viewer as discovery sees them, read once per request."""

    viewer_id: str
    thresholds: SegmentThresholds
    risk: RiskLevel = RiskLevel.NORMAL
    #: None without history (no viewer rollup): the cold start
    budget: BudgetTier | None = None
    #: viewer-wide dominant intent; None when the viewer never interacted
    intent: InteractionKind | None = None
    #: viewer-wide share of each interaction kind (0–1)
    interaction_shares: Mapping[InteractionKind, float] = field(default_factory=dict)
    location: Cell | None = None
    interests: tuple[str, ...] = ()

    @property
    def blocked(self) -> bool:
        return self.risk is RiskLevel.BLOCKED

    @property
    def cold_start(self) -> bool:
        return self.budget is None

    def as_profile(self) -> Profile:
        return Profile(user_id=self.viewer_id, location=self.location, interests=self.interests)


@dataclass(frozen=True)
class ViewerLabels:
    """The viewer's labels towards one creator, as ranking uses them (None: no evidence)."""

    budget: BudgetTier | None
    intent: InteractionKind | None
    proximity: Proximity
    distance_km: int | None

    def recorded(self) -> dict[str, str]:
        """The labels an impression is counted under: the segment defaults fill the gaps
        (no spend is LOW, no interaction is the default intent), as classification does."""
        return {"budget": (self.budget or BudgetTier.LOW).value,
                "intent": (self.intent or DEFAULT_INTENT).value,
                "proximity": self.proximity.value}


@dataclass(frozen=True)
class Reason:
    factor: w.RankingFactor
    points: float
    detail: str


@dataclass(frozen=True)
class BoostReason:
    factor: w.BoostFactor
    percent: float
    detail: str


@dataclass(frozen=True)
class Match:
    score: float
    reasons: tuple[Reason, ...]
    labels: ViewerLabels


@dataclass(frozen=True)
class Boost:
    multiplier: float
    reasons: tuple[BoostReason, ...]


@dataclass(frozen=True)
class ScoredCreator:
    card: CreatorCard
    match: Match
    boost: Boost
    #: the rank key: match score × boost (or the match score alone where boosts do not apply)
    final_score: float

    @property
    def creator_id(self) -> str:
        return self.card.creator_id


@dataclass(frozen=True)
class DiscoveryFilters:
    """Keep only creators whose audience's dominant budget tier / intent is in the given set,
    at one of the given distance bands from the viewer, with at least ``min_match_score``.
    None means no filter on that field."""

    budgets: frozenset[BudgetTier] | None = None
    intents: frozenset[InteractionKind] | None = None
    proximities: frozenset[Proximity] | None = None
    min_match_score: float | None = None

    def keeps(self, scored: ScoredCreator) -> bool:
        audience = scored.card.audience
        if self.budgets is not None and (
                audience is None or audience.dominant["budget"] not in self.budgets):
            return False
        if self.intents is not None and (
                audience is None or audience.dominant["intent"] not in self.intents):
            return False
        if self.proximities is not None and scored.match.labels.proximity not in self.proximities:
            return False
        return self.min_match_score is None or scored.match.score >= self.min_match_score


def clamp(value: float, low: float = w.MATCH_MIN, high: float = w.MATCH_MAX) -> float:
    return max(low, min(high, value))


def passion_points(score: float) -> float:
    """+5 for a signal that holds, plus up to +10 by its 0–100 strength score."""
    return round(w.PASSION_BASE + w.PASSION_STRENGTH * clamp(score, 0.0, 100.0) / 100.0, 2)


def viewer_labels(viewer: ViewerContext, card: CreatorCard,
                  segment: AudienceSegment | None) -> ViewerLabels:
    """Budget (viewer-wide), intent (the pair's, else viewer-wide) and live proximity."""
    proximity = classify_proximity(viewer.location, card.location, viewer.thresholds.proximity)
    if viewer.blocked:
        return ViewerLabels(None, None, proximity.proximity, proximity.distance_km)
    intent = viewer.intent
    if segment is not None and segment.intent_detail.source in ("pair", "pair_largest"):
        intent = segment.intent
    return ViewerLabels(viewer.budget, intent, proximity.proximity, proximity.distance_km)


def _proximity_reason(labels: ViewerLabels) -> Reason | None:
    points = w.PROXIMITY_POINTS.get(labels.proximity)
    if points is not None:
        return Reason(w.RankingFactor.PROXIMITY, points, f"{labels.proximity.value} to you")
    if labels.distance_km is not None and labels.distance_km <= w.REGIONAL_KM:
        return Reason(w.RankingFactor.PROXIMITY, w.REGIONAL_POINTS,
                      f"within {w.REGIONAL_KM:g} km of you")
    return None


def _budget_reason(labels: ViewerLabels, card: CreatorCard) -> Reason | None:
    if labels.budget is None or card.audience is None:
        return None
    theirs = BudgetTier(card.audience.dominant["budget"])
    gap = abs(_BUDGET_RANK[labels.budget] - _BUDGET_RANK[theirs])
    if gap == 0:
        return Reason(w.RankingFactor.BUDGET_MATCH, w.BUDGET_MATCH_SAME,
                      "your budget matches this creator's typical audience")
    if gap == 1:
        return Reason(w.RankingFactor.BUDGET_MATCH, w.BUDGET_MATCH_ADJACENT,
                      "your budget is close to this creator's typical audience")
    return None


def _intent_reason(labels: ViewerLabels, card: CreatorCard) -> Reason | None:
    if labels.intent is None or card.audience is None:
        return None
    if card.audience.dominant["intent"] != labels.intent.value:
        return None
    return Reason(w.RankingFactor.INTENT_MATCH, w.INTENT_MATCH,
                  f"this creator's audience favours {labels.intent.value.lower()}s, as you do")


def _passion_reasons(viewer: ViewerContext, card: CreatorCard,
                     segment: AudienceSegment | None) -> list[Reason]:
    reasons: list[Reason] = []
    common, score = shared_interest_score(
        viewer.as_profile(), card.as_profile()) if viewer.interests else (0, 0.0)
    if common >= viewer.thresholds.passion.shared_interests_min:
        reasons.append(Reason(w.RankingFactor.SHARED_INTERESTS, passion_points(score),
                              f"{common} interests in common"))
    if segment is not None:
        p = segment.passion
        if p.visual_attraction:
            reasons.append(Reason(w.RankingFactor.VISUAL_ATTRACTION,
                                  passion_points(p.visual_attraction_score),
                                  "you keep coming back to this creator's media"))
        if p.loyal_follower:
            reasons.append(Reason(w.RankingFactor.LOYAL_FOLLOWER,
                                  passion_points(p.loyalty_score), "you are a loyal follower"))
    return reasons


def match(viewer: ViewerContext, card: CreatorCard, segment: AudienceSegment | None) -> Match:
    """The 0–100 match score of ``card`` for ``viewer`` and every weight that applied."""
    labels = viewer_labels(viewer, card, segment)
    reasons: list[Reason] = []
    proximity = _proximity_reason(labels)
    if proximity is not None:
        reasons.append(proximity)
    if not viewer.blocked:  # no ranking advantage: base + proximity only
        for reason in (_budget_reason(labels, card), _intent_reason(labels, card)):
            if reason is not None:
                reasons.append(reason)
        reasons.extend(_passion_reasons(viewer, card, segment))
    score = clamp(w.MATCH_BASE + sum(r.points for r in reasons))
    return Match(round(score, 2), tuple(reasons), labels)


def visibility_boost(viewer: ViewerContext, card: CreatorCard, labels: ViewerLabels) -> Boost:
    """The multiplier the boost rules give ``card`` for this viewer (1.0: none)."""
    if viewer.blocked or card.audience is None:
        return Boost(w.NO_BOOST, ())
    mine = {"budget": labels.budget.value if labels.budget else None,
            "intent": labels.intent.value if labels.intent else None,
            "proximity": labels.proximity.value}
    reasons = tuple(
        BoostReason(rule.factor, rule.percent,
                    f"at least {rule.min_share:.0%} of this creator's audience is "
                    f"{rule.label}, like you")
        for rule in w.VISIBILITY_BOOSTS
        if mine[rule.kind] == rule.label and card.audience.share(rule.kind, rule.label)
        >= rule.min_share)
    return Boost(round(w.NO_BOOST + sum(r.percent for r in reasons) / 100.0, 4), reasons)


def score(viewer: ViewerContext, card: CreatorCard, segment: AudienceSegment | None,
          boosted: bool = True) -> ScoredCreator:
    m = match(viewer, card, segment)
    b = visibility_boost(viewer, card, m.labels)
    final = m.score * b.multiplier if boosted else m.score
    return ScoredCreator(card=card, match=m, boost=b, final_score=round(final, 4))


def rank(viewer: ViewerContext, cards: Iterable[CreatorCard],
         segments: Mapping[str, AudienceSegment], *, boosted: bool = True,
         filters: DiscoveryFilters | None = None) -> list[ScoredCreator]:
    """Score every card and order best first: final score, then popularity, then id.

    Popularity breaks ties, so a cold-start viewer (all scores base + proximity) sees the
    closest band first and, within it, the creators with the largest audiences.
    """
    scored = [score(viewer, c, segments.get(c.creator_id), boosted) for c in cards]
    if filters is not None:
        scored = [s for s in scored if filters.keeps(s)]
    scored.sort(key=lambda s: (-s.final_score, -s.card.popularity, s.creator_id))
    return scored


def order_ids(ranked: Sequence[ScoredCreator]) -> list[str]:
    return [s.creator_id for s in ranked]
