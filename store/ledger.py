"""The append-only event ledger: each event stored once, keyed by its event id."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from domain.events import CallType, Event, EventType
from store.database import Collections, Store, utc


def event_to_doc(event: Event, received_at: datetime) -> dict[str, Any]:
    fields = {k: (list(v) if isinstance(v, tuple) else v) for k, v in event.fields.items()}
    return {"_id": event.event_id, "type": event.type.value, "occurred_at": event.occurred_at,
            "received_at": received_at, "fields": fields}


def event_from_doc(doc: dict[str, Any]) -> Event:
    fields = dict(doc["fields"])
    if "call_type" in fields:
        fields["call_type"] = CallType(fields["call_type"])
    if "interests" in fields:
        fields["interests"] = tuple(fields["interests"])
    if "meeting_date" in fields:
        fields["meeting_date"] = utc(fields["meeting_date"])
    occurred_at = utc(doc["occurred_at"])
    assert occurred_at is not None
    return Event(event_id=doc["_id"], type=EventType(doc["type"]), occurred_at=occurred_at,
                 fields=fields)


class EventLedger:
    """Stores events once; a second insert of the same id is reported, never applied."""

    def __init__(self, store: Store) -> None:
        self._events = store.collection(Collections.EVENTS)

    async def append(self, event: Event, received_at: datetime) -> bool:
        """Store ``event``; False when its id is already in the ledger (a replay)."""
        try:
            await self._events.insert_one(event_to_doc(event, received_at))
        except DuplicateKeyError:
            return False
        return True

    async def count(self) -> int:
        return int(await self._events.count_documents({}))

    async def replay(self, batch_size: int = 1000) -> AsyncIterator[Event]:
        """Every stored event, in id order (rollups are order-independent)."""
        cursor = self._events.find({}).sort("_id", 1).batch_size(batch_size)
        async for doc in cursor:
            yield event_from_doc(doc)
