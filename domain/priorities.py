"""The update schedule: how urgently each event must reach the segments, in one table.

An accepted event changes rollups at once; what it changes in the *segments* is work, and work
has a priority. Money and commitment move segments the creator acts on (a booked meeting, a big
purchase, a long call), so that work runs immediately; ordinary activity is batched every five
minutes; mere browsing (messages, views, likes) is batched hourly.

| event                                                      | priority | cadence        |
|------------------------------------------------------------|---------:|----------------|
| meetingBooked                                              | 8        | immediate      |
| transactionCompleted over 100 tokens                       | 7        | immediate      |
| callCompleted of 5 minutes or more                         | 7        | immediate      |
| firstInteraction                                           | 6        | immediate      |
| chatCompleted, shorter calls, meetingCompleted,            | 5        | 5-minute batch |
| eventRegistered, eventAttended, transactions up to 100,    |          |                |
| locationUpdated, profileInterestsUpdated                   |          |                |
| chatMessageSent, profileViewed, mediaLiked                 | 2        | hourly batch   |

``firstInteraction`` is not in the original schedule: it is the event that brings a pair's
segment into being, so it costs one pair and answers "is there a segment" at once (a new
relationship never sits invisible for an hour). Transactions up to 100 tokens, meetingCompleted
and interest changes are not named there either; they are ordinary activity, batched like the
completed chats and location changes they resemble.

Immediate work recomputes the event's own pair inside the request (the cost of one pair) and
queues any fan-out (all pairs of a viewer or a creator) at the same priority, due now, so a
worker picks it up at once. Batched work is queued, due at the next 5-minute or hour boundary;
repeated events for the same work coalesce into one pending job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.events import Event, EventType

#: a transaction strictly above this many tokens is urgent
BIG_TRANSACTION_TOKENS = 100
#: a call of at least this many minutes is urgent
LONG_CALL_MINUTES = 5.0


class Cadence(StrEnum):
    """When queued work becomes due."""

    IMMEDIATE = "IMMEDIATE"
    BATCH_5_MIN = "BATCH_5_MIN"
    BATCH_HOURLY = "BATCH_HOURLY"


#: the batch period of each batched cadence
BATCH_PERIOD: Mapping[Cadence, timedelta] = {
    Cadence.BATCH_5_MIN: timedelta(minutes=5),
    Cadence.BATCH_HOURLY: timedelta(hours=1),
}


@dataclass(frozen=True)
class Priority:
    """A priority level (higher runs first) and the cadence it is due on."""

    level: int
    cadence: Cadence
    name: str

    @property
    def immediate(self) -> bool:
        return self.cadence is Cadence.IMMEDIATE


MEETING_BOOKED = Priority(8, Cadence.IMMEDIATE, "meeting booked")
BIG_TRANSACTION = Priority(7, Cadence.IMMEDIATE, "transaction over 100 tokens")
LONG_CALL = Priority(7, Cadence.IMMEDIATE, "call of 5 minutes or more")
FIRST_INTERACTION = Priority(6, Cadence.IMMEDIATE, "first interaction")
MEDIUM = Priority(5, Cadence.BATCH_5_MIN, "medium")
LOW = Priority(2, Cadence.BATCH_HOURLY, "low")

#: every priority level that exists, highest first (health reports list each one)
PRIORITIES: tuple[Priority, ...] = (MEETING_BOOKED, BIG_TRANSACTION, LONG_CALL,
                                    FIRST_INTERACTION, MEDIUM, LOW)

#: the priority of each event kind whose priority does not depend on its fields
_FIXED: Mapping[EventType, Priority] = {
    EventType.MEETING_BOOKED: MEETING_BOOKED,
    EventType.FIRST_INTERACTION: FIRST_INTERACTION,
    EventType.CHAT_COMPLETED: MEDIUM,
    EventType.MEETING_COMPLETED: MEDIUM,
    EventType.EVENT_REGISTERED: MEDIUM,
    EventType.EVENT_ATTENDED: MEDIUM,
    EventType.LOCATION_UPDATED: MEDIUM,
    EventType.PROFILE_INTERESTS_UPDATED: MEDIUM,
    EventType.CHAT_MESSAGE_SENT: LOW,
    EventType.PROFILE_VIEWED: LOW,
    EventType.MEDIA_LIKED: LOW,
}


def priority_of(event: Event) -> Priority:
    """The priority of the segment work ``event`` causes."""
    if event.type is EventType.TRANSACTION_COMPLETED:
        return BIG_TRANSACTION if event.fields["tokens"] > BIG_TRANSACTION_TOKENS else MEDIUM
    if event.type is EventType.CALL_COMPLETED:
        return LONG_CALL if event.fields["duration_minutes"] >= LONG_CALL_MINUTES else MEDIUM
    return _FIXED[event.type]


class WorkKind(StrEnum):
    """What a job recomputes: one pair, every pair of a viewer, or every pair of a creator."""

    PAIR = "pair"
    VIEWER = "viewer"
    CREATOR = "creator"


@dataclass(frozen=True)
class Work:
    """One unit of segment work. ``key`` identifies it: equal work coalesces on the key."""

    kind: WorkKind
    viewer_id: str | None = None
    creator_id: str | None = None

    @property
    def key(self) -> str:
        return work_key(self.kind, self.viewer_id, self.creator_id)

    @classmethod
    def pair(cls, viewer_id: str, creator_id: str) -> Work:
        return cls(WorkKind.PAIR, viewer_id, creator_id)

    @classmethod
    def viewer(cls, viewer_id: str) -> Work:
        return cls(WorkKind.VIEWER, viewer_id=viewer_id)

    @classmethod
    def creator(cls, creator_id: str) -> Work:
        return cls(WorkKind.CREATOR, creator_id=creator_id)


def work_key(kind: WorkKind, viewer_id: str | None, creator_id: str | None) -> str:
    """``pair:V|C``, ``viewer:V`` or ``creator:C`` (ids never contain ``|``)."""
    if kind is WorkKind.PAIR:
        return f"pair:{viewer_id}|{creator_id}"
    if kind is WorkKind.VIEWER:
        return f"viewer:{viewer_id}"
    return f"creator:{creator_id}"


@dataclass(frozen=True)
class Plan:
    """What one event asks for: a pair to recompute inline (immediate work only) and jobs."""

    priority: Priority
    inline_pair: tuple[str, str] | None
    jobs: tuple[Work, ...]


def plan_for(event: Event) -> Plan:
    """The segment work ``event`` causes.

    Spend is viewer-wide (budget), so a transaction reaches every pair of its viewer; a location
    or interest change reaches every pair the user is in, as viewer or as creator; any other
    pair event reaches its own pair only.
    """
    priority = priority_of(event)
    if event.type in (EventType.LOCATION_UPDATED, EventType.PROFILE_INTERESTS_UPDATED):
        user = event.fields["user_id"]
        return Plan(priority, None, (Work.viewer(user), Work.creator(user)))
    viewer, creator = event.fields["viewer_id"], event.fields["creator_id"]
    if event.type is EventType.TRANSACTION_COMPLETED:
        # The viewer job covers the pair too; immediate work also does the pair inline.
        return Plan(priority, (viewer, creator) if priority.immediate else None,
                    (Work.viewer(viewer),))
    if priority.immediate:
        return Plan(priority, (viewer, creator), ())
    return Plan(priority, None, (Work.pair(viewer, creator),))


def due_at(cadence: Cadence, now: datetime) -> datetime:
    """When work of ``cadence`` queued at ``now`` is due: now, or the next batch boundary.

    Boundaries are aligned to the UTC clock (every 5 minutes, every hour on the hour), so all
    the work queued within one period drains together and coalescing has a whole period to act.
    """
    period = BATCH_PERIOD.get(cadence)
    if period is None:
        return now
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    elapsed = now - midnight
    periods = elapsed // period + 1
    return midnight + periods * period
