"""Engagement suggestion: which kind of interaction to propose to a viewer for one creator.

For each kind (CHAT, CALL, MEETING, EVENT) the evidence is

    feasibility(kind, distance band) × (0.6 × the viewer's share of that kind
                                        + 0.4 × the creator audience's share of it)

where the viewer's shares are those of their interactions with this creator (else with every
creator) and the audience shares come from the creator aggregate (never below the privacy
floor). Meeting evidence lost to distance carries half over to a call. The kind with the most
evidence wins (ties: MEETING, CALL, EVENT, CHAT); its evidence is the confidence (capped at
0.95). With too little evidence for anything, a chat is suggested at confidence 0.3. BLOCKED
viewers are judged without their history and are never proposed an in-person kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from domain.discovery import weights as w
from domain.discovery.cards import CreatorCard
from domain.discovery.scoring import ViewerContext, ViewerLabels
from domain.rollups import InteractionKind
from domain.segments.proximity import Proximity


@dataclass(frozen=True)
class EngagementSuggestion:
    creator_id: str
    suggested_type: InteractionKind
    confidence: float
    reasoning: str
    #: evidence (0–1) for every kind, for the curious client
    evidence: Mapping[InteractionKind, float]


def shares(counts: Mapping[InteractionKind, int] | None) -> dict[InteractionKind, float]:
    total = sum((counts or {}).values())
    if not counts or total <= 0:
        return {}
    return {kind: n / total for kind, n in counts.items() if n > 0}


def _viewer_shares(viewer: ViewerContext, pair_counts: Mapping[InteractionKind, int] | None
                   ) -> tuple[dict[InteractionKind, float], str]:
    if viewer.blocked:
        return {}, "none"
    pair = shares(pair_counts)
    if pair:
        return pair, "with this creator"
    if viewer.interaction_shares:
        return dict(viewer.interaction_shares), "across creators"
    return {}, "none"


def suggest(viewer: ViewerContext, card: CreatorCard, labels: ViewerLabels,
            pair_counts: Mapping[InteractionKind, int] | None) -> EngagementSuggestion:
    """The suggested interaction, its confidence and a sentence saying why."""
    mine, where = _viewer_shares(viewer, pair_counts)
    theirs = ({kind: card.audience.share("intent", kind.value) for kind in InteractionKind}
              if card.audience is not None else {})
    band = labels.proximity
    raw = {kind: w.ENGAGEMENT_VIEWER_WEIGHT * mine.get(kind, 0.0)
           + w.ENGAGEMENT_CREATOR_WEIGHT * theirs.get(kind, 0.0) for kind in InteractionKind}
    evidence = {kind: raw[kind] * w.ENGAGEMENT_FEASIBILITY[kind][band]
                for kind in InteractionKind}
    lost_meeting = raw[InteractionKind.MEETING] - evidence[InteractionKind.MEETING]
    evidence[InteractionKind.CALL] += w.MEETING_TO_CALL_CARRY * lost_meeting
    if viewer.blocked:
        for kind in w.IN_PERSON:
            evidence[kind] = 0.0
    evidence = {kind: round(min(1.0, v), 4) for kind, v in evidence.items()}

    best = max(w.INTENT_TIE, key=lambda k: (evidence[k], -w.INTENT_TIE.index(k)))
    if evidence[best] < w.ENGAGEMENT_MIN_EVIDENCE:
        return EngagementSuggestion(
            card.creator_id, w.ENGAGEMENT_DEFAULT_TYPE, w.ENGAGEMENT_DEFAULT_CONFIDENCE,
            "Not enough history between you to go further yet: a chat is the lightest way "
            "to start.", evidence)
    confidence = round(min(w.ENGAGEMENT_MAX_CONFIDENCE, evidence[best]), 2)
    return EngagementSuggestion(card.creator_id, best, confidence,
                                _reasoning(best, mine, where, theirs, band, lost_meeting),
                                evidence)


def _reasoning(kind: InteractionKind, mine: Mapping[InteractionKind, float], where: str,
               theirs: Mapping[InteractionKind, float], band: Proximity,
               lost_meeting: float) -> str:
    noun = {InteractionKind.CHAT: "chats", InteractionKind.CALL: "calls",
            InteractionKind.MEETING: "meetings", InteractionKind.EVENT: "events"}
    parts: list[str] = []
    if mine.get(kind, 0.0) > 0:
        parts.append(f"{mine[kind]:.0%} of your interactions {where} are {noun[kind]}")
    if theirs.get(kind, 0.0) > 0:
        parts.append(f"this creator's audience often chooses {noun[kind]}")
    if kind is InteractionKind.CALL and lost_meeting > 0 and mine.get(kind, 0.0) == 0:
        parts.append("you prefer meetings but are too far apart; a call is the closest thing")
    if kind in (InteractionKind.MEETING, InteractionKind.EVENT):
        parts.append(f"and you are {band.value} to each other")
    text = "; ".join(p for p in parts if not p.startswith("and "))
    tail = next((p for p in parts if p.startswith("and ")), "")
    sentence = f"Suggesting {noun[kind]}: {text}" + (f", {tail}" if tail else "")
    return sentence + "."
