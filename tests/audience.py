"""Build a creator's audience the way the platform does: events in through ``recordEvents``.

A viewer with a wanted segment (budget, intent, proximity) is a handful of events: a location
(LOCAL ≈ 1 km from the creator, NEARBY ≈ 110 km, REMOTE none), small purchases (2 make MID, 6
make HIGH, by purchase frequency), one interaction of the wanted kind, and a
``firstInteraction`` last. Every event but the last two is batched work (no inline recompute),
so the pair's segment comes into being once, with all its labels: one change per viewer, as
when a real fan's first visit is processed.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Sequence
from typing import Any

_ids = itertools.count()

CREATOR_AT = (48.8566, 2.3522)
LOCATION = {"LOCAL": (48.8600, 2.3600), "NEARBY": (49.8566, 2.3522), "REMOTE": None}
#: purchases of PURCHASE_TOKENS (≤ 100 tokens: batched, not immediate)
PURCHASES = {"LOW": 0, "MID": 2, "HIGH": 6}
PURCHASE_TOKENS = 100
INTERACTION: dict[str, tuple[str, dict[str, Any]]] = {
    "CHAT": ("chatCompleted", {"chatId": "chat", "tokens": 10, "messageCount": 5}),
    "CALL": ("callCompleted", {"callId": "call", "durationMinutes": 3.0, "tokens": 50,
                               "callType": "VOICE"}),
    "MEETING": ("meetingBooked", {"bookingId": "booking", "tokens": 100,
                                  "meetingDate": "2027-01-01T12:00:00Z"}),
    "EVENT": ("eventRegistered", {"eventRef": "ev", "tokens": 20}),
}

Segment = tuple[str, str, str]  # (budget, intent, proximity)


def _event(name: str, **fields: Any) -> dict[str, Any]:
    return {name: {"eventId": f"a{next(_ids)}-{uuid.uuid4().hex[:8]}", **fields}}


def creator_events(creator: str) -> list[dict[str, Any]]:
    lat, lon = CREATOR_AT
    return [_event("locationUpdated", userId=creator, latitude=lat, longitude=lon)]


def viewer_events(viewer: str, creator: str, segment: Segment) -> list[dict[str, Any]]:
    budget, intent, proximity = segment
    out = []
    if LOCATION[proximity] is not None:
        lat, lon = LOCATION[proximity]
        out.append(_event("locationUpdated", userId=viewer, latitude=lat, longitude=lon))
    out.extend(_event("transactionCompleted", viewerId=viewer, creatorId=creator,
                      tokens=PURCHASE_TOKENS, kind="tip") for _ in range(PURCHASES[budget]))
    name, fields = INTERACTION[intent]  # meetingBooked is immediate: it computes the pair
    out.append(_event(name, viewerId=viewer, creatorId=creator, **fields))
    out.append(_event("firstInteraction", viewerId=viewer, creatorId=creator))
    return out


RECORD = ("mutation($events: [EventInput!]!) { recordEvents(events: $events) "
          "{ eventId accepted duplicate } }")


async def record(api: Any, events: Sequence[dict[str, Any]]) -> None:
    for start in range(0, len(events), 400):
        body = await api.as_service(RECORD, {"events": list(events[start:start + 400])})
        assert not body.get("errors"), body


async def join(api: Any, creator: str, viewers: Sequence[tuple[str, Segment]]) -> None:
    """Each (viewer id, segment) becomes a viewer of ``creator`` with that segment."""
    await record(api, [e for v, s in viewers for e in viewer_events(v, creator, s)])


async def block(api: Any, viewer: str) -> None:
    body = await api.post(f'mutation {{ setViewerRisk(viewerId: "{viewer}", level: BLOCKED, '
                          'reason: "test") { level } }', sub="safety", roles=("safety_team",))
    assert not body.get("errors"), body


AUDIENCE = """
query($id: ID!, $limit: Int) { creatorAudience(creatorId: $id) {
  creatorId withheld withheldReason asOf
  overview { totalAudience payingAudience payingPercentage averageRevenuePerViewer
             topSegmentDescription }
  breakdown {
    budget { key label percentage count members averageRevenue revenueShare }
    intent { key label percentage count members averageRevenue revenueShare }
    proximity { key label percentage count members averageRevenue revenueShare }
    passion { key label percentage count members }
  }
  topSegments(limit: $limit) { rank key budget intent proximity description count percentage
                               averageRevenue revenueShare characteristics }
  recommendations { primaryStrategy reasoning tips opportunities
                    trace { rule kind text evidence { metric value } } }
  growth { last7Days { days available note audienceChange tiers { key countChange } }
           last30Days { days available note } }
  messaging { dimension key label percentage tone themes }
} }"""


async def audience(api: Any, creator: str, *, sub: str | None = None,
                   roles: tuple[str, ...] = ("creator",), limit: int = 20
                   ) -> dict[str, Any]:
    """The whole ``creatorAudience`` answer, as the creator reads it (errors asserted away)."""
    body = await api.post(AUDIENCE, {"id": creator, "limit": limit}, sub=sub or creator,
                          roles=roles)
    assert not body.get("errors"), body
    return body["data"]["creatorAudience"]
