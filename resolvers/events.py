"""Event mutations: validate input, record once, answer a receipt."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from domain.events import MAX_BATCH_SIZE, Event, EventType, InvalidEvent, parse_event
from schema.context import Info
from schema.errors import bad_input
from schema.events import EventInput, EventReceipt, chosen_event, input_fields


def to_event(event_type: EventType, value: Any, *, now: datetime, where: str = "input") -> Event:
    """A validated domain event from a GraphQL input, or a BAD_USER_INPUT error."""
    try:
        return parse_event(event_type, value.event_id, value.occurred_at, input_fields(value),
                           now=now)
    except InvalidEvent as exc:
        raise bad_input(f"Invalid {where}.{exc.field}: {exc.reason}", field=exc.field) from None


async def record_event(info: Info, event_type: EventType, value: Any) -> EventReceipt:
    """Resolve one event mutation."""
    event = to_event(event_type, value, now=datetime.now(UTC))
    receipt = await info.context.services.ingestion.record(event)
    return EventReceipt(event_id=receipt.event_id, accepted=receipt.accepted,  # type: ignore[arg-type]
                        duplicate=receipt.duplicate)


async def record_events(info: Info, events: list[EventInput]) -> list[EventReceipt]:
    """Resolve ``recordEvents``: validate the whole batch first, so a bad element stores nothing."""
    if len(events) > MAX_BATCH_SIZE:
        raise bad_input(f"A batch holds at most {MAX_BATCH_SIZE} events", field="events")
    now = datetime.now(UTC)
    parsed: list[Event] = []
    for index, member in enumerate(events):
        try:
            event_type, value = chosen_event(member)
        except ValueError as exc:
            raise bad_input(f"events[{index}]: {exc}", field="events") from None
        parsed.append(to_event(event_type, value, now=now, where=f"events[{index}]"))
    ingestion = info.context.services.ingestion
    receipts = []
    for event in parsed:
        receipt = await ingestion.record(event)
        receipts.append(EventReceipt(event_id=receipt.event_id,  # type: ignore[arg-type]
                                     accepted=receipt.accepted, duplicate=receipt.duplicate))
    return receipts
