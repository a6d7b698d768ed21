"""The event mutations (role ``service``): one per event kind, plus the ``recordEvents`` batch."""

from __future__ import annotations

from typing import Any

import strawberry

from domain.events import EventType
from resolvers.events import record_event, record_events
from schema.context import Info
from schema.events import (
    CallCompletedInput,
    ChatCompletedInput,
    ChatMessageSentInput,
    EventAttendedInput,
    EventInput,
    EventReceipt,
    EventRegisteredInput,
    FirstInteractionInput,
    LocationUpdatedInput,
    MediaLikedInput,
    MeetingBookedInput,
    MeetingCompletedInput,
    ProfileInterestsUpdatedInput,
    ProfileViewedInput,
    TransactionCompletedInput,
)
from schema.permissions import IsService


def _event_mutation(event_type: EventType, input_type: type, description: str) -> Any:
    """A ``service``-only mutation taking ``input: <input_type>`` and answering a receipt."""

    async def resolve(info: Info, input: Any) -> EventReceipt:  # noqa: A002 - contract name
        return await record_event(info, event_type, input)

    resolve.__annotations__ = {"info": Info, "input": input_type, "return": EventReceipt}
    resolve.__name__ = event_type.value
    return strawberry.mutation(resolver=resolve, permission_classes=[IsService],
                               description=description)


@strawberry.type
class EventMutations:
    transaction_completed = _event_mutation(
        EventType.TRANSACTION_COMPLETED, TransactionCompletedInput,
        "A payment completed; the only event that counts as spend.")
    chat_completed = _event_mutation(
        EventType.CHAT_COMPLETED, ChatCompletedInput, "A chat ended (a CHAT interaction).")
    chat_message_sent = _event_mutation(
        EventType.CHAT_MESSAGE_SENT, ChatMessageSentInput, "A viewer sent a chat message.")
    call_completed = _event_mutation(
        EventType.CALL_COMPLETED, CallCompletedInput, "A call ended (a CALL interaction).")
    meeting_booked = _event_mutation(
        EventType.MEETING_BOOKED, MeetingBookedInput, "A meeting was booked (MEETING).")
    meeting_completed = _event_mutation(
        EventType.MEETING_COMPLETED, MeetingCompletedInput, "A booked meeting took place.")
    event_registered = _event_mutation(
        EventType.EVENT_REGISTERED, EventRegisteredInput, "A viewer registered for an event.")
    event_attended = _event_mutation(
        EventType.EVENT_ATTENDED, EventAttendedInput, "A viewer attended an event.")
    location_updated = _event_mutation(
        EventType.LOCATION_UPDATED, LocationUpdatedInput, "A user's location changed.")
    profile_interests_updated = _event_mutation(
        EventType.PROFILE_INTERESTS_UPDATED, ProfileInterestsUpdatedInput,
        "A user's interest tags changed.")
    profile_viewed = _event_mutation(
        EventType.PROFILE_VIEWED, ProfileViewedInput, "A viewer looked at a creator's profile.")
    media_liked = _event_mutation(
        EventType.MEDIA_LIKED, MediaLikedInput, "A viewer liked a creator's media.")
    first_interaction = _event_mutation(
        EventType.FIRST_INTERACTION, FirstInteractionInput,
        "A viewer interacted with a creator for the first time.")

    @strawberry.mutation(permission_classes=[IsService],
                         description="Several events at once; one receipt per element, in order.")
    async def record_events(self, info: Info, events: list[EventInput]) -> list[EventReceipt]:
        return await record_events(info, events)
