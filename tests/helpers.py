"""Helpers for driving the API the way clients do: send events, read segments."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

_ids = itertools.count()

INPUT_TYPES = {
    "transactionCompleted": "TransactionCompletedInput",
    "chatCompleted": "ChatCompletedInput",
    "chatMessageSent": "ChatMessageSentInput",
    "callCompleted": "CallCompletedInput",
    "meetingBooked": "MeetingBookedInput",
    "meetingCompleted": "MeetingCompletedInput",
    "eventRegistered": "EventRegisteredInput",
    "eventAttended": "EventAttendedInput",
    "locationUpdated": "LocationUpdatedInput",
    "profileInterestsUpdated": "ProfileInterestsUpdatedInput",
    "profileViewed": "ProfileViewedInput",
    "mediaLiked": "MediaLikedInput",
    "firstInteraction": "FirstInteractionInput",
}

#: fields a test does not care about get these values
DEFAULTS: dict[str, dict[str, Any]] = {
    "transactionCompleted": {"kind": "chat_payment"},
    "chatCompleted": {"chatId": "chat", "tokens": 10, "messageCount": 5},
    "chatMessageSent": {"chatId": "chat", "messageLength": 20},
    "callCompleted": {"callId": "call", "durationMinutes": 3.0, "tokens": 50,
                      "callType": "VOICE"},
    "meetingBooked": {"bookingId": "booking", "tokens": 100,
                      "meetingDate": "2027-01-01T12:00:00Z"},
    "meetingCompleted": {"bookingId": "booking"},
    "eventRegistered": {"eventRef": "ev", "tokens": 20},
    "eventAttended": {"eventRef": "ev"},
    "profileViewed": {"dwellSeconds": 0.0},
    "mediaLiked": {"mediaId": "media"},
}


def ago(days: float = 0, hours: float = 0) -> str:
    return (datetime.now(UTC) - timedelta(days=days, hours=hours)).isoformat()


async def send(api: Any, name: str, **fields: Any) -> dict[str, Any]:
    """Send one event mutation as the service; return its receipt (asserting no error)."""
    value = {"eventId": f"e{next(_ids)}", **DEFAULTS.get(name, {}), **fields}
    query = (f"mutation($input: {INPUT_TYPES[name]}!) {{ {name}(input: $input) "
             "{ eventId accepted duplicate } }")
    body = await api.as_service(query, {"input": value})
    assert not body.get("errors"), body
    return body["data"][name]


SEGMENT_FIELDS = """viewerId creatorId budget intent proximity lastUpdated
  budgetWindowTokens budgetWindowPurchases intentShare intentIsMajority intentSource distanceKm
  passion { sharedInterests sharedInterestsScore visualAttraction visualAttractionScore
            loyalFollower loyaltyScore }"""


async def my_segment(api: Any, viewer: str, creator: str) -> dict[str, Any] | None:
    body = await api.post(f'{{ mySegment(creatorId: "{creator}") {{ {SEGMENT_FIELDS} }} }}',
                          sub=viewer, roles=("viewer",))
    assert not body.get("errors"), body
    return body["data"]["mySegment"]
