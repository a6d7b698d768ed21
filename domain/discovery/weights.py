"""Every weight, boost and rule discovery ranks by, in one table.

Match score (0–100) of a creator for the signed-in viewer:

| factor | points | when |
|---|---|---|
| base | 50 | always |
| BUDGET_MATCH | +20 / +10 | the viewer's budget tier equals / is next to the audience's tier |
| INTENT_MATCH | +15 | the viewer's intent for this creator equals the audience's intent |
| PROXIMITY | +20 / +10 / +5 | LOCAL / NEARBY / REMOTE but within ``REGIONAL_KM`` |
| SHARED_INTERESTS | +5 … +15 | the passion signal holds; +5, plus 10 × its score ÷ 100 |
| VISUAL_ATTRACTION | +5 … +15 | as above, with the visual attraction score |
| LOYAL_FOLLOWER | +5 … +15 | as above, with the loyalty score |

The sum is clamped to 0–100. Definitions:

- *The viewer's budget tier* is ``classify_budget`` on the viewer's rollup with the live
  thresholds; *the viewer's intent* is the pair's segment intent when the two have a segment,
  else the viewer-wide dominant intent. A viewer with no rollup (no history) has neither, so
  neither weight applies: that is the cold start, ranked by proximity and then popularity.
- *The creator's audience tier / intent* is the label most of the creator's audience holds in
  the creator aggregate (ties: ``BUDGET_TIE`` / ``INTENT_TIE`` order). It is only read when the
  audience has at least ``AUDIENCE_FLOOR`` viewers (the contract's privacy floor), so no
  ranking ever stands for fewer than that many individuals.
- *Proximity* is the great-circle band between the two last known locations, with the live
  thresholds (LOCAL ≤ 50 km, NEARBY ≤ 200 km by default); unknown locations earn nothing.
- *Passion signals* come from the pair's segment (visual attraction and loyal follower need a
  history together); shared interests are computed from the two profiles even without one.

Visibility boost, a multiplier on the match score used to order results (``final score =
match score × boost``; the match score itself is never changed). Each rule below that holds
adds its percentage; a creator matching all three gets × 1.95.

| boost | + % | the creator's audience (aggregate share) | and the viewer |
|---|---|---|---|
| HIGH_BUDGET_AUDIENCE | 30 | ≥ 30 % HIGH budget | is HIGH budget |
| LOCAL_AUDIENCE | 25 | ≥ 40 % LOCAL | is LOCAL to the creator |
| MEETING_AUDIENCE | 40 | ≥ 25 % MEETING intent | seeks meetings (intent MEETING) |

Shares come from the creator aggregates only (never from an individual) and only from an
audience of at least ``AUDIENCE_FLOOR`` viewers.

BLOCKED viewers get no ranking advantage: only the base and the proximity weight apply (no
budget, intent or passion weight, even from their profile), the boost is × 1.0, and creators
they already know join no candidate pool of theirs. So they never score a creator above what a
NORMAL viewer with no history at the same place would. WATCH changes nothing here.
Ranking never reads or changes a price.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from domain.insights.privacy import MIN_VIEWERS
from domain.rollups import InteractionKind
from domain.segments.budget import BudgetTier
from domain.segments.proximity import Proximity


class RankingFactor(StrEnum):
    """A weight that added points to a match score."""

    BUDGET_MATCH = "BUDGET_MATCH"
    INTENT_MATCH = "INTENT_MATCH"
    PROXIMITY = "PROXIMITY"
    SHARED_INTERESTS = "SHARED_INTERESTS"
    VISUAL_ATTRACTION = "VISUAL_ATTRACTION"
    LOYAL_FOLLOWER = "LOYAL_FOLLOWER"


class BoostFactor(StrEnum):
    """A visibility boost rule that multiplied a creator's final score."""

    HIGH_BUDGET_AUDIENCE = "HIGH_BUDGET_AUDIENCE"
    LOCAL_AUDIENCE = "LOCAL_AUDIENCE"
    MEETING_AUDIENCE = "MEETING_AUDIENCE"


# --- match score ------------------------------------------------------------------------------
MATCH_BASE = 50.0
MATCH_MIN = 0.0
MATCH_MAX = 100.0

BUDGET_MATCH_SAME = 20.0
BUDGET_MATCH_ADJACENT = 10.0
INTENT_MATCH = 15.0

#: REMOTE creators within this distance still earn the smallest proximity weight
REGIONAL_KM = 500.0
PROXIMITY_POINTS: Mapping[Proximity, float] = {
    Proximity.LOCAL: 20.0,
    Proximity.NEARBY: 10.0,
}
REGIONAL_POINTS = 5.0

#: a passion signal that holds earns this much, plus up to PASSION_STRENGTH by its 0–100 score
PASSION_BASE = 5.0
PASSION_STRENGTH = 10.0

#: the creator's audience is read only from at least this many viewers (contract §5's floor,
#: the same one the creator insights use)
AUDIENCE_FLOOR = MIN_VIEWERS

#: when two labels hold the same count, the first in this order is the creator's label
BUDGET_TIE: tuple[BudgetTier, ...] = (BudgetTier.HIGH, BudgetTier.MID, BudgetTier.LOW)
INTENT_TIE: tuple[InteractionKind, ...] = (InteractionKind.MEETING, InteractionKind.CALL,
                                          InteractionKind.EVENT, InteractionKind.CHAT)
PROXIMITY_TIE: tuple[Proximity, ...] = (Proximity.LOCAL, Proximity.NEARBY, Proximity.REMOTE)


# --- visibility boost -------------------------------------------------------------------------
@dataclass(frozen=True)
class BoostRule:
    """+``percent`` when ≥ ``min_share`` of the audience holds ``label`` of ``kind`` and the
    viewer's own label of that kind (for this creator) is ``label`` too."""

    factor: BoostFactor
    kind: str  # "budget", "intent" or "proximity": an aggregate breakdown kind
    label: str
    min_share: float
    percent: float


VISIBILITY_BOOSTS: tuple[BoostRule, ...] = (
    BoostRule(BoostFactor.HIGH_BUDGET_AUDIENCE, "budget", BudgetTier.HIGH.value, 0.30, 30.0),
    BoostRule(BoostFactor.LOCAL_AUDIENCE, "proximity", Proximity.LOCAL.value, 0.40, 25.0),
    BoostRule(BoostFactor.MEETING_AUDIENCE, "intent", InteractionKind.MEETING.value, 0.25, 40.0),
)
NO_BOOST = 1.0


# --- contexts ---------------------------------------------------------------------------------
class DiscoveryContext(StrEnum):
    """Where a feed is shown; each context keeps or drops candidates by its rule."""

    SWIPE = "SWIPE"
    FEED = "FEED"
    SEARCH = "SEARCH"


@dataclass(frozen=True)
class ContextRule:
    #: drop creators the viewer already has a segment with (a swipe deck shows new faces)
    only_new: bool
    #: order by final score (with boosts); False orders by match score alone (search relevance)
    boosted: bool


CONTEXT_RULES: Mapping[DiscoveryContext, ContextRule] = {
    DiscoveryContext.FEED: ContextRule(only_new=False, boosted=True),
    DiscoveryContext.SWIPE: ContextRule(only_new=True, boosted=True),
    DiscoveryContext.SEARCH: ContextRule(only_new=False, boosted=False),
}
DEFAULT_CONTEXT = DiscoveryContext.FEED


# --- engagement suggestion --------------------------------------------------------------------
#: evidence for a type = feasibility × (VIEWER_WEIGHT × the viewer's share of that interaction
#: + CREATOR_WEIGHT × the creator audience's share of it)
ENGAGEMENT_VIEWER_WEIGHT = 0.6
ENGAGEMENT_CREATOR_WEIGHT = 0.4
#: how feasible each type is at each distance band (meetings need to be near)
ENGAGEMENT_FEASIBILITY: Mapping[InteractionKind, Mapping[Proximity, float]] = {
    InteractionKind.MEETING: {Proximity.LOCAL: 1.0, Proximity.NEARBY: 0.7, Proximity.REMOTE: 0.0},
    InteractionKind.EVENT: {Proximity.LOCAL: 1.0, Proximity.NEARBY: 0.8, Proximity.REMOTE: 0.4},
    InteractionKind.CALL: {Proximity.LOCAL: 1.0, Proximity.NEARBY: 1.0, Proximity.REMOTE: 1.0},
    InteractionKind.CHAT: {Proximity.LOCAL: 1.0, Proximity.NEARBY: 1.0, Proximity.REMOTE: 1.0},
}
#: the part of meeting evidence lost to distance that carries over to a call (the closest
#: thing to meeting from afar)
MEETING_TO_CALL_CARRY = 0.5
#: below this much evidence for every type, suggest a chat (the lightest step)
ENGAGEMENT_MIN_EVIDENCE = 0.15
ENGAGEMENT_DEFAULT_TYPE = InteractionKind.CHAT
ENGAGEMENT_DEFAULT_CONFIDENCE = 0.3
ENGAGEMENT_MAX_CONFIDENCE = 0.95
#: types never suggested to a BLOCKED viewer (they would meet the creator in person)
IN_PERSON: frozenset[InteractionKind] = frozenset({InteractionKind.MEETING,
                                                   InteractionKind.EVENT})
