"""Intent: which kind of interaction the viewer seeks with a creator."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from domain.rollups import InteractionKind, PairRollup, ViewerRollup
from domain.segments.thresholds import IntentThresholds

Intent = InteractionKind

#: Tie rule: when kinds hold equal shares, the more committed interaction wins
#: (a booked meeting says more than a call, a call more than an event, an event more than a chat).
TIE_PRIORITY: tuple[Intent, ...] = (Intent.MEETING, Intent.CALL, Intent.EVENT, Intent.CHAT)

#: With no interaction at all (only views or likes), intent defaults to the lightest kind.
DEFAULT_INTENT = Intent.CHAT


class IntentSource(StrEnum):
    """Which interactions decided intent (``AudienceSegment.intentSource``)."""

    PAIR = "pair"  # a majority of this pair's interactions
    VIEWER = "viewer"  # no majority here: the viewer's majority kind across creators
    PAIR_LARGEST = "pair_largest"  # no majority anywhere: the pair's largest share
    DEFAULT = "default"  # no interaction at all


@dataclass(frozen=True)
class IntentResult:
    intent: Intent
    share: float  # the winning kind's share of the interactions that decided it, 0 for none
    majority: bool  # that share is over ``majority_share``
    source: str  # an ``IntentSource`` value


def dominant_intent(counts: Mapping[Intent, int], t: IntentThresholds) -> IntentResult | None:
    """The largest kind of ``counts`` (ties to the more committed kind), with whether it holds
    over ``majority_share``; None without interactions."""
    total = sum(counts.values())
    if total <= 0:
        return None
    best = max(TIE_PRIORITY, key=lambda k: (counts.get(k, 0), -TIE_PRIORITY.index(k)))
    share = counts.get(best, 0) / total
    return IntentResult(best, share, share > t.majority_share, IntentSource.PAIR)


def classify_intent(pair: PairRollup | None, viewer: ViewerRollup | None,
                    t: IntentThresholds) -> IntentResult:
    """Intent (contract §4), in this order:

    1. a kind with over ``majority_share`` of this pair's interactions;
    2. else the viewer's kind with over ``majority_share`` across all creators;
    3. else the pair's largest share (ties to the more committed kind);
    4. with no interaction with this creator, the viewer's largest kind elsewhere, then CHAT.
    """
    here = dominant_intent(pair.interactions, t) if pair is not None else None
    if here is not None and here.majority:
        return here
    overall = dominant_intent(viewer.interactions, t) if viewer is not None else None
    if overall is not None and (overall.majority or here is None):
        return replace(overall, source=IntentSource.VIEWER)
    if here is not None:
        return replace(here, source=IntentSource.PAIR_LARGEST)
    return IntentResult(DEFAULT_INTENT, 0.0, False, IntentSource.DEFAULT)
