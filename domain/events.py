"""Events that enter the ledger: their kinds, their fields and the rules that validate them.

Every event kind is described once in ``EVENT_SPECS``: which fields it carries and the bounds
each field must respect. ``parse_event`` turns raw field values (from GraphQL, the demo world or
a ledger replay) into a validated, normalised :class:`Event`, or raises :class:`InvalidEvent`
naming the offending field.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from domain.locations import DEFAULT_GRID, LocationGrid


class EventType(StrEnum):
    """The kinds of event the platform reports; values are the GraphQL mutation names."""

    TRANSACTION_COMPLETED = "transactionCompleted"
    CHAT_COMPLETED = "chatCompleted"
    CHAT_MESSAGE_SENT = "chatMessageSent"
    CALL_COMPLETED = "callCompleted"
    MEETING_BOOKED = "meetingBooked"
    MEETING_COMPLETED = "meetingCompleted"
    EVENT_REGISTERED = "eventRegistered"
    EVENT_ATTENDED = "eventAttended"
    LOCATION_UPDATED = "locationUpdated"
    PROFILE_INTERESTS_UPDATED = "profileInterestsUpdated"
    PROFILE_VIEWED = "profileViewed"
    MEDIA_LIKED = "mediaLiked"
    FIRST_INTERACTION = "firstInteraction"


class CallType(StrEnum):
    VOICE = "VOICE"
    VIDEO = "VIDEO"


class InvalidEvent(ValueError):
    """An event field breaks a validation rule; ``field`` names it (camelCase, as clients send)."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.reason = message


class ConflictingReplay(ValueError):
    """An event id already stored with another payload: refused, nothing changes."""

    def __init__(self, event_id: str) -> None:
        super().__init__(f"eventId {event_id!r} was already sent with a different payload")
        self.event_id = event_id


# --- Bounds: every limit an event field must respect, in one place. ---------------------------
MAX_ID_LENGTH = 128
MAX_TOKENS = 10_000_000  # one event never moves more than this many tokens
MAX_MESSAGE_COUNT = 100_000
MAX_MESSAGE_LENGTH = 100_000
MAX_CALL_MINUTES = 24 * 60.0
MAX_DWELL_SECONDS = 24 * 3600.0
MAX_INTERESTS = 50
MAX_INTEREST_LENGTH = 64
MAX_KIND_LENGTH = 64
MAX_FUTURE_SKEW = timedelta(minutes=5)  # clocks drift; events from further ahead are refused
EARLIEST_OCCURRED_AT = datetime(2000, 1, 1, tzinfo=UTC)
#: the earliest instant any date-time field may name (contract §7)
EARLIEST_INSTANT = EARLIEST_OCCURRED_AT
#: how far ahead of now a date-time field may lie (contract §7: one year; a sender's clock or a
#: scheduled delivery may run ahead, and counters never treat a later time as older)
LATEST_AHEAD: Mapping[str, timedelta] = {
    "occurred_at": timedelta(days=365),
    "meeting_date": timedelta(days=2 * 365),  # meetings are booked up to two years ahead
}
MAX_BATCH_SIZE = 500

_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.:@\-]+$")


class FieldKind(StrEnum):
    ID = "id"
    TOKENS = "tokens"  # a payment: at least 1
    FEE = "fee"  # tokens an interaction may carry: at least 0 (0 = free)
    COUNT = "count"
    MINUTES = "minutes"
    SECONDS = "seconds"
    LATITUDE = "latitude"
    LONGITUDE = "longitude"
    LABEL = "label"
    CALL_TYPE = "call_type"
    DATETIME = "datetime"
    INTERESTS = "interests"


@dataclass(frozen=True)
class EventSpec:
    """Which fields an event kind carries (snake_case) and what kind of value each is."""

    fields: Mapping[str, FieldKind]
    #: the field that names the viewer-side user ("viewer_id" or, for profile events, "user_id")
    subject: str = "viewer_id"


_PAIR = {"viewer_id": FieldKind.ID, "creator_id": FieldKind.ID}

EVENT_SPECS: Mapping[EventType, EventSpec] = {
    EventType.TRANSACTION_COMPLETED: EventSpec(
        {**_PAIR, "tokens": FieldKind.TOKENS, "kind": FieldKind.LABEL}
    ),
    EventType.CHAT_COMPLETED: EventSpec(
        {"chat_id": FieldKind.ID, **_PAIR, "tokens": FieldKind.FEE,
         "message_count": FieldKind.COUNT}
    ),
    EventType.CHAT_MESSAGE_SENT: EventSpec(
        {"chat_id": FieldKind.ID, **_PAIR, "message_length": FieldKind.COUNT}
    ),
    EventType.CALL_COMPLETED: EventSpec(
        {"call_id": FieldKind.ID, **_PAIR, "duration_minutes": FieldKind.MINUTES,
         "tokens": FieldKind.FEE, "call_type": FieldKind.CALL_TYPE}
    ),
    EventType.MEETING_BOOKED: EventSpec(
        {"booking_id": FieldKind.ID, **_PAIR, "tokens": FieldKind.FEE,
         "meeting_date": FieldKind.DATETIME}
    ),
    EventType.MEETING_COMPLETED: EventSpec({"booking_id": FieldKind.ID, **_PAIR}),
    EventType.EVENT_REGISTERED: EventSpec(
        {"event_ref": FieldKind.ID, **_PAIR, "tokens": FieldKind.FEE}
    ),
    EventType.EVENT_ATTENDED: EventSpec({"event_ref": FieldKind.ID, **_PAIR}),
    EventType.LOCATION_UPDATED: EventSpec(
        {"user_id": FieldKind.ID, "latitude": FieldKind.LATITUDE,
         "longitude": FieldKind.LONGITUDE},
        subject="user_id",
    ),
    EventType.PROFILE_INTERESTS_UPDATED: EventSpec(
        {"user_id": FieldKind.ID, "interests": FieldKind.INTERESTS}, subject="user_id"
    ),
    EventType.PROFILE_VIEWED: EventSpec({**_PAIR, "dwell_seconds": FieldKind.SECONDS}),
    EventType.MEDIA_LIKED: EventSpec({"media_id": FieldKind.ID, **_PAIR}),
    EventType.FIRST_INTERACTION: EventSpec(dict(_PAIR)),
}


@dataclass(frozen=True)
class Event:
    """A validated event: its id, kind, time and normalised fields (snake_case keys)."""

    event_id: str
    type: EventType
    occurred_at: datetime
    fields: Mapping[str, Any] = field(default_factory=dict)
    #: the client gave ``occurred_at`` (False: it defaulted to the time of receipt)
    occurred_at_sent: bool = True

    @property
    def payload_hash(self) -> str:
        """A canonical hash of what the client sent, ``occurred_at`` aside (see
        :func:`payload_hash`)."""
        return payload_hash(self.type, self.fields)

    @property
    def viewer_id(self) -> str | None:
        return self.fields.get("viewer_id")

    @property
    def creator_id(self) -> str | None:
        return self.fields.get("creator_id")

    @property
    def user_id(self) -> str | None:
        return self.fields.get("user_id")

    @property
    def is_pair_event(self) -> bool:
        return "creator_id" in EVENT_SPECS[self.type].fields


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        return _as_utc(value).isoformat()
    if isinstance(value, tuple | list):
        return [_canonical(v) for v in value]
    if isinstance(value, StrEnum):
        return value.value
    return value


def payload_hash(event_type: EventType, fields: Mapping[str, Any]) -> str:
    """SHA-256 of the event kind and its normalised fields as canonical JSON (sorted keys).

    Normalised values, so a replay that differs only in spelling the validator erases (a
    label's case, an id's surrounding spaces) is the same payload. ``occurred_at`` is left out:
    a replay that omits it still matches, and one that sends it is compared on its own
    (:func:`conflicting_replay`)."""
    canonical = json.dumps({"type": event_type.value,
                            "fields": {k: _canonical(v) for k, v in fields.items()}},
                           sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def conflicting_replay(replay: Event, stored_hash: str, stored_occurred_at: datetime,
                       stored_occurred_at_sent: bool) -> bool:
    """A replay of a stored event id that carries another payload (contract §3): another
    kind or any field with another value, or an ``occurredAt`` other than the one the original
    was sent with. A replay that leaves ``occurredAt`` out matches."""
    if replay.payload_hash != stored_hash:
        return True
    return (replay.occurred_at_sent and stored_occurred_at_sent
            and replay.occurred_at != _as_utc(stored_occurred_at))


def camel(name: str) -> str:
    """snake_case → camelCase, so errors name fields the way clients spelled them."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _as_utc(value: datetime) -> datetime:
    """UTC, truncated to whole milliseconds: the precision MongoDB stores, so an event replayed
    from the ledger carries exactly the instant it carried when it was first rolled up."""
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def check_instant(name: str, value: Any, *, now: datetime) -> datetime:
    """A date-time field, in UTC, within ``EARLIEST_INSTANT`` … now + ``LATEST_AHEAD[name]``.

    The range is checked before converting: year 1 with a positive offset, or 9999 with a
    negative one, has no UTC value at all (``astimezone`` overflows)."""
    if not isinstance(value, datetime):
        raise InvalidEvent(camel(name), "must be an ISO-8601 date-time")
    ahead = LATEST_AHEAD.get(name, MAX_FUTURE_SKEW)
    try:
        instant = _as_utc(value)
    except (OverflowError, ValueError):
        raise InvalidEvent(camel(name), "is out of range") from None
    if instant < EARLIEST_INSTANT:
        raise InvalidEvent(camel(name), f"must not be before {EARLIEST_INSTANT:%Y-%m-%d}")
    if instant > _as_utc(now) + ahead:
        raise InvalidEvent(camel(name), "must not be in the future" if ahead <= MAX_FUTURE_SKEW
                           else f"must be at most {ahead.days} days ahead")
    return instant


def _check_id(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidEvent(camel(name), "must be a string id")
    value = value.strip()
    if not value:
        raise InvalidEvent(camel(name), "must not be empty")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidEvent(camel(name), f"must be at most {MAX_ID_LENGTH} characters")
    if not _ID_PATTERN.match(value):
        raise InvalidEvent(camel(name), "may hold only letters, digits and _ . : @ -")
    return value


def _check_number(name: str, value: Any, low: float, high: float, *, whole: bool) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidEvent(camel(name), "must be a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidEvent(camel(name), "must be finite")
    if whole and (isinstance(value, float) and not value.is_integer()):
        raise InvalidEvent(camel(name), "must be a whole number")
    if not low <= value <= high:
        raise InvalidEvent(camel(name), f"must be between {low:g} and {high:g}")
    return int(value) if whole else float(value)


def _check_field(name: str, kind: FieldKind, value: Any, now: datetime) -> Any:
    if value is None:
        raise InvalidEvent(camel(name), "is required")
    match kind:
        case FieldKind.ID:
            return _check_id(name, value)
        case FieldKind.TOKENS:
            return _check_number(name, value, 1, MAX_TOKENS, whole=True)
        case FieldKind.FEE:
            return _check_number(name, value, 0, MAX_TOKENS, whole=True)
        case FieldKind.COUNT:
            return _check_number(name, value, 0, max(MAX_MESSAGE_COUNT, MAX_MESSAGE_LENGTH),
                                 whole=True)
        case FieldKind.MINUTES:
            return _check_number(name, value, 0, MAX_CALL_MINUTES, whole=False)
        case FieldKind.SECONDS:
            return _check_number(name, value, 0, MAX_DWELL_SECONDS, whole=False)
        case FieldKind.LATITUDE:
            return _check_number(name, value, -90, 90, whole=False)
        case FieldKind.LONGITUDE:
            return _check_number(name, value, -180, 180, whole=False)
        case FieldKind.LABEL:
            if not isinstance(value, str) or not value.strip():
                raise InvalidEvent(camel(name), "must be a non-empty label")
            label = value.strip().lower()
            if len(label) > MAX_KIND_LENGTH:
                raise InvalidEvent(camel(name), f"must be at most {MAX_KIND_LENGTH} characters")
            return label
        case FieldKind.CALL_TYPE:
            try:
                return CallType(str(value).upper())
            except ValueError:
                raise InvalidEvent(camel(name), "must be VOICE or VIDEO") from None
        case FieldKind.DATETIME:
            return check_instant(name, value, now=now)
        case FieldKind.INTERESTS:
            return normalise_interests(value)
    raise AssertionError(kind)  # pragma: no cover - every kind is matched above


def normalise_interests(value: Any) -> tuple[str, ...]:
    """Trim, lower-case and de-duplicate interest tags, keeping first-seen order."""
    if not isinstance(value, list | tuple):
        raise InvalidEvent("interests", "must be a list of tags")
    if len(value) > MAX_INTERESTS:
        raise InvalidEvent("interests", f"must hold at most {MAX_INTERESTS} tags")
    tags: list[str] = []
    for raw in value:
        if not isinstance(raw, str):
            raise InvalidEvent("interests", "tags must be strings")
        tag = " ".join(raw.split()).lower()
        if not tag:
            raise InvalidEvent("interests", "tags must not be empty")
        if len(tag) > MAX_INTEREST_LENGTH:
            raise InvalidEvent("interests", f"tags must be at most {MAX_INTEREST_LENGTH} chars")
        if tag not in tags:
            tags.append(tag)
    return tuple(tags)


def parse_event(
    event_type: EventType,
    event_id: Any,
    occurred_at: datetime | None,
    raw_fields: Mapping[str, Any],
    *,
    now: datetime,
    grid: LocationGrid = DEFAULT_GRID,
) -> Event:
    """Validate and normalise one event; raise :class:`InvalidEvent` on the first bad field.

    A location is snapped to its ``grid`` cell here, before anything stores or hashes it:
    the event carries ``cell`` and never the reported latitude and longitude."""
    spec = EVENT_SPECS[event_type]
    clean_id = _check_id("event_id", event_id)
    when = (check_instant("occurred_at", occurred_at, now=now) if occurred_at is not None
            else _as_utc(now))
    unknown = set(raw_fields) - set(spec.fields)
    if unknown:
        raise InvalidEvent(camel(sorted(unknown)[0]), f"is not a field of {event_type.value}")
    clean = {name: _check_field(name, kind, raw_fields.get(name), now)
             for name, kind in spec.fields.items()}
    if "creator_id" in clean and clean["creator_id"] == clean["viewer_id"]:
        raise InvalidEvent("creatorId", "must differ from viewerId")
    if event_type is EventType.LOCATION_UPDATED:
        point = (clean.pop("latitude"), clean.pop("longitude"))
        clean["cell"] = grid.snap(*point).index
    return Event(event_id=clean_id, type=event_type, occurred_at=when, fields=clean,
                 occurred_at_sent=occurred_at is not None)
