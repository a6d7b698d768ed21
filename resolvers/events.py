"""Event mutations: validate input, record once, answer a receipt."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from graphql import GraphQLError

from domain.events import (
    MAX_BATCH_SIZE,
    ConflictingReplay,
    Event,
    EventType,
    InvalidEvent,
    parse_event,
)
from schema.context import Info
from schema.errors import bad_input
from schema.events import EventInput, EventReceipt, chosen_event, input_fields


def to_event(info: Info, event_type: EventType, value: Any, *, now: datetime,
             where: str = "input") -> Event:
    """A validated domain event (its location snapped to a cell), or a BAD_USER_INPUT error."""
    try:
        return parse_event(event_type, value.event_id, value.occurred_at, input_fields(value),
                           now=now, grid=info.context.services.location_grid)
    except InvalidEvent as exc:
        raise bad_input(f"Invalid {where}.{exc.field}: {exc.reason}", field=exc.field) from None


async def record_event(info: Info, event_type: EventType, value: Any) -> EventReceipt:
    """Resolve one event mutation."""
    ingestion = info.context.services.ingestion
    try:
        event = to_event(info, event_type, value, now=datetime.now(UTC))
    except GraphQLError:
        ingestion.refuse([event_type.value])
        raise
    try:
        receipt = await ingestion.record(event)
    except ConflictingReplay as exc:  # counted as refused by ingestion
        raise bad_input(str(exc), field="eventId") from None
    return EventReceipt(event_id=receipt.event_id, accepted=receipt.accepted,  # type: ignore[arg-type]
                        duplicate=receipt.duplicate)


async def record_events(info: Info, events: list[EventInput]) -> list[EventReceipt]:
    """Resolve ``recordEvents``: validate the whole batch first, so a bad element stores nothing."""
    ingestion = info.context.services.ingestion
    try:
        parsed = _parse_batch(info, events)
    except GraphQLError:
        ingestion.refuse([_type_name(member) for member in events])
        raise
    try:
        receipts = await ingestion.record_batch(parsed)
    except ConflictingReplay as exc:
        raise bad_input(str(exc), field="eventId") from None
    return [EventReceipt(event_id=r.event_id, accepted=r.accepted,  # type: ignore[arg-type]
                         duplicate=r.duplicate) for r in receipts]


def _parse_batch(info: Info, events: list[EventInput]) -> list[Event]:
    """Every element validated, or an error naming the first bad element's index."""
    if len(events) > MAX_BATCH_SIZE:
        raise bad_input(f"A batch holds at most {MAX_BATCH_SIZE} events", field="events")
    now = datetime.now(UTC)
    parsed: list[Event] = []
    for index, member in enumerate(events):
        try:
            event_type, value = chosen_event(member)
        except ValueError as exc:
            raise bad_input(f"events[{index}]: {exc}", field="events") from None
        parsed.append(to_event(info, event_type, value, now=now, where=f"events[{index}]"))
    return parsed


def _type_name(member: EventInput) -> str:
    try:
        return chosen_event(member)[0].value
    except ValueError:
        return "unknown"
