"""Intent: which kind of interaction the viewer seeks with a creator."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from domain.rollups import InteractionKind, PairRollup, ViewerRollup
from domain.segments.thresholds import IntentThresholds

Intent = InteractionKind

#: Tie rule: when kinds hold equal shares, the more committed interaction wins
#: (a booked meeting says more than a call, a call more than an event, an event more than a chat).
TIE_PRIORITY: tuple[Intent, ...] = (Intent.MEETING, Intent.CALL, Intent.EVENT, Intent.CHAT)

#: With no interaction at all (only views or likes), intent defaults to the lightest kind.
DEFAULT_INTENT = Intent.CHAT


@dataclass(frozen=True)
class IntentResult:
    intent: Intent
    share: float  # the winning kind's share of interactions, 0 when there are none
    majority: bool  # the share is over the majority threshold
    source: str  # "pair", "viewer" (viewer-wide fallback) or "default"


def dominant_intent(counts: Mapping[Intent, int], t: IntentThresholds) -> IntentResult | None:
    """The kind with over ``majority_share`` of interactions, else the largest share."""
    total = sum(counts.values())
    if total <= 0:
        return None
    best = max(TIE_PRIORITY, key=lambda k: (counts.get(k, 0), -TIE_PRIORITY.index(k)))
    share = counts.get(best, 0) / total
    return IntentResult(best, share, share > t.majority_share, "pair")


def classify_intent(pair: PairRollup | None, viewer: ViewerRollup | None,
                    t: IntentThresholds) -> IntentResult:
    """Intent from this pair's interactions; with none, from the viewer's across creators."""
    if pair is not None:
        result = dominant_intent(pair.interactions, t)
        if result is not None:
            return result
    if viewer is not None:
        result = dominant_intent(viewer.interactions, t)
        if result is not None:
            return IntentResult(result.intent, result.share, result.majority, "viewer")
    return IntentResult(DEFAULT_INTENT, 0.0, False, "default")
