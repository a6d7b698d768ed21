"""Event mutation inputs (contract §3) and the receipt each mutation answers."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any, TypeAlias

import strawberry

from domain.events import CallType as DomainCallType
from domain.events import EventType

# strawberry.enum registers the definition on the domain class and returns it: alias, not copy.
strawberry.enum(DomainCallType, name="CallType", description="Kind of call.")
CallType: TypeAlias = DomainCallType


@strawberry.type(description="What the server did with one event.")
class EventReceipt:
    event_id: strawberry.ID
    accepted: bool = strawberry.field(description="The event is in the ledger.")
    duplicate: bool = strawberry.field(
        description="The id was already in the ledger: this delivery changed nothing.")


@strawberry.input(description="A payment for anything on the platform; the only spend signal.")
class TransactionCompletedInput:
    event_id: strawberry.ID
    viewer_id: strawberry.ID
    creator_id: strawberry.ID
    tokens: int
    kind: str = strawberry.field(description="Free label such as chat_payment.")
    occurred_at: datetime | None = None


@strawberry.input
class ChatCompletedInput:
    event_id: strawberry.ID
    chat_id: strawberry.ID
    viewer_id: strawberry.ID
    creator_id: strawberry.ID
    tokens: int
    message_count: int
    occurred_at: datetime | None = None


@strawberry.input
class ChatMessageSentInput:
    event_id: strawberry.ID
    chat_id: strawberry.ID
    viewer_id: strawberry.ID
    creator_id: strawberry.ID
    message_length: int
    occurred_at: datetime | None = None


@strawberry.input
class CallCompletedInput:
    event_id: strawberry.ID
    call_id: strawberry.ID
    viewer_id: strawberry.ID
    creator_id: strawberry.ID
    duration_minutes: float
    tokens: int
    call_type: CallType
    occurred_at: datetime | None = None


@strawberry.input
class MeetingBookedInput:
    event_id: strawberry.ID
    booking_id: strawberry.ID
    viewer_id: strawberry.ID
    creator_id: strawberry.ID
    tokens: int
    meeting_date: datetime
    occurred_at: datetime | None = None


@strawberry.input
class MeetingCompletedInput:
    event_id: strawberry.ID
    booking_id: strawberry.ID
    viewer_id: strawberry.ID
    creator_id: strawberry.ID
    occurred_at: datetime | None = None


@strawberry.input
class EventRegisteredInput:
    event_id: strawberry.ID
    event_ref: strawberry.ID
    viewer_id: strawberry.ID
    creator_id: strawberry.ID
    tokens: int
    occurred_at: datetime | None = None


@strawberry.input
class EventAttendedInput:
    event_id: strawberry.ID
    event_ref: strawberry.ID
    viewer_id: strawberry.ID
    creator_id: strawberry.ID
    occurred_at: datetime | None = None


@strawberry.input
class LocationUpdatedInput:
    event_id: strawberry.ID
    user_id: strawberry.ID
    latitude: float
    longitude: float
    occurred_at: datetime | None = None


@strawberry.input
class ProfileInterestsUpdatedInput:
    event_id: strawberry.ID
    user_id: strawberry.ID
    interests: list[str]
    occurred_at: datetime | None = None


@strawberry.input
class ProfileViewedInput:
    event_id: strawberry.ID
    viewer_id: strawberry.ID
    creator_id: strawberry.ID
    dwell_seconds: float
    occurred_at: datetime | None = None


@strawberry.input
class MediaLikedInput:
    event_id: strawberry.ID
    media_id: strawberry.ID
    viewer_id: strawberry.ID
    creator_id: strawberry.ID
    occurred_at: datetime | None = None


@strawberry.input
class FirstInteractionInput:
    event_id: strawberry.ID
    viewer_id: strawberry.ID
    creator_id: strawberry.ID
    occurred_at: datetime | None = None


@strawberry.input(one_of=True, description="Exactly one event, named by its mutation.")
class EventInput:
    transaction_completed: TransactionCompletedInput | None = strawberry.UNSET
    chat_completed: ChatCompletedInput | None = strawberry.UNSET
    chat_message_sent: ChatMessageSentInput | None = strawberry.UNSET
    call_completed: CallCompletedInput | None = strawberry.UNSET
    meeting_booked: MeetingBookedInput | None = strawberry.UNSET
    meeting_completed: MeetingCompletedInput | None = strawberry.UNSET
    event_registered: EventRegisteredInput | None = strawberry.UNSET
    event_attended: EventAttendedInput | None = strawberry.UNSET
    location_updated: LocationUpdatedInput | None = strawberry.UNSET
    profile_interests_updated: ProfileInterestsUpdatedInput | None = strawberry.UNSET
    profile_viewed: ProfileViewedInput | None = strawberry.UNSET
    media_liked: MediaLikedInput | None = strawberry.UNSET
    first_interaction: FirstInteractionInput | None = strawberry.UNSET


#: batch member field (snake_case) → event type; the field name is the mutation's name
EVENT_INPUT_FIELDS: dict[str, EventType] = {
    "transaction_completed": EventType.TRANSACTION_COMPLETED,
    "chat_completed": EventType.CHAT_COMPLETED,
    "chat_message_sent": EventType.CHAT_MESSAGE_SENT,
    "call_completed": EventType.CALL_COMPLETED,
    "meeting_booked": EventType.MEETING_BOOKED,
    "meeting_completed": EventType.MEETING_COMPLETED,
    "event_registered": EventType.EVENT_REGISTERED,
    "event_attended": EventType.EVENT_ATTENDED,
    "location_updated": EventType.LOCATION_UPDATED,
    "profile_interests_updated": EventType.PROFILE_INTERESTS_UPDATED,
    "profile_viewed": EventType.PROFILE_VIEWED,
    "media_liked": EventType.MEDIA_LIKED,
    "first_interaction": EventType.FIRST_INTERACTION,
}


def input_fields(value: Any) -> dict[str, Any]:
    """An event input's payload fields (everything but ``event_id`` and ``occurred_at``)."""
    return {f.name: getattr(value, f.name) for f in fields(value)
            if f.name not in ("event_id", "occurred_at")}


def chosen_event(value: EventInput) -> tuple[EventType, Any]:
    """The one event a batch member carries (the ``@oneOf`` rule guarantees exactly one)."""
    for name, event_type in EVENT_INPUT_FIELDS.items():
        member = getattr(value, name)
        if member is not None and member is not strawberry.UNSET:
            return event_type, member
    raise ValueError("an EventInput must set exactly one event")
