"""Rollups: the counters each event adds to, and the rollup state classification reads.

An event never triggers a rescan of history. ``rollup_update`` says, for one event, which
counters move (per viewer, per viewer–creator pair) and which profile facts it may replace; the
store applies that with atomic update operators. Spend is kept in UTC-day buckets so a trailing
window is a sum over at most ``window_days`` buckets, whatever the history length.

Counters are order-independent (sums, minima, maxima, "latest by (time, event id)"), so replaying
the ledger in any order rebuilds exactly the incremental state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any

from domain.events import Event, EventType
from domain.locations import Cell


class InteractionKind(StrEnum):
    """Interaction kinds that drive intent (contract §3)."""

    CHAT = "CHAT"
    CALL = "CALL"
    MEETING = "MEETING"
    EVENT = "EVENT"


#: Which event counts as which interaction: chats completed → CHAT, calls completed → CALL,
#: meetings booked or completed → MEETING, events registered or attended → EVENT.
INTERACTION_OF: Mapping[EventType, InteractionKind] = {
    EventType.CHAT_COMPLETED: InteractionKind.CHAT,
    EventType.CALL_COMPLETED: InteractionKind.CALL,
    EventType.MEETING_BOOKED: InteractionKind.MEETING,
    EventType.MEETING_COMPLETED: InteractionKind.MEETING,
    EventType.EVENT_REGISTERED: InteractionKind.EVENT,
    EventType.EVENT_ATTENDED: InteractionKind.EVENT,
}

#: Events that count once per thing they are about (contract §3): the field naming that thing
#: and the namespace of its key. ``meetingBooked`` and ``meetingCompleted`` of one booking are
#: one MEETING (the completion confirms it, whichever arrives first); ``eventRegistered`` and
#: ``eventAttended`` of one ``eventRef`` are one EVENT; a viewer likes one media once.
COUNTED_ONCE_BY: Mapping[EventType, tuple[str, str]] = {
    EventType.MEETING_BOOKED: ("booking_id", "MEETING"),
    EventType.MEETING_COMPLETED: ("booking_id", "MEETING"),
    EventType.EVENT_REGISTERED: ("event_ref", "EVENT"),
    EventType.EVENT_ATTENDED: ("event_ref", "EVENT"),
    EventType.MEDIA_LIKED: ("media_id", "LIKE"),
}


def _utc_day(moment: datetime) -> date:
    """``moment``'s calendar day as ``day_key`` reads it (in ``moment``'s own zone)."""
    return moment.date()


def day_key(moment: date) -> str:
    """The UTC-day bucket an instant falls in, e.g. ``20261127``."""
    return moment.strftime("%Y%m%d")


def week_key(moment: datetime) -> str:
    """The ISO week an instant falls in, e.g. ``2026W48``."""
    year, week, _ = moment.isocalendar()
    return f"{year}W{week:02d}"


@lru_cache(maxsize=4096)
def _week_of_day(day: str) -> str:
    """The ISO week of a ``YYYYMMDD`` day key (cached: classification asks for the same few
    hundred days over and over, and parsing dates is most of its cost)."""
    return week_key(datetime.strptime(day, "%Y%m%d"))


@lru_cache(maxsize=1024)
def _window(last_day: date, window_days: int) -> tuple[str, str]:
    """The first and last day keys of the ``window_days`` UTC days ending with ``last_day``."""
    return (day_key(last_day - timedelta(days=window_days - 1)),
            day_key(last_day))


def latest_key(moment: datetime, event_id: str) -> str:
    """A total order on facts that replace each other: later time wins, then larger event id."""
    return f"{moment.strftime('%Y%m%dT%H%M%S.%f')}|{event_id}"


@dataclass(frozen=True)
class ProfileFact:
    """A profile field an event may replace when it is newer than the stored one."""

    name: str  # "location" or "interests"
    value: Any
    order_key: str


@dataclass(frozen=True)
class RollupUpdate:
    """Everything one event changes, as counter deltas and order-independent extremes."""

    viewer_inc: Mapping[str, float] = field(default_factory=dict)
    pair_inc: Mapping[str, float] = field(default_factory=dict)
    pair_min: Mapping[str, datetime] = field(default_factory=dict)
    pair_max: Mapping[str, datetime] = field(default_factory=dict)
    profile_fact: ProfileFact | None = None
    #: counted only by the first event of ``once_key`` (see ``COUNTED_ONCE_BY``): the store
    #: claims the key for one event id and adds these for that event alone
    once_key: str | None = None
    once_viewer_inc: Mapping[str, float] = field(default_factory=dict)
    once_pair_inc: Mapping[str, float] = field(default_factory=dict)


def rollup_update(event: Event) -> RollupUpdate:
    """The counters ``event`` moves. Pure: the same event always yields the same update."""
    f = event.fields
    at = event.occurred_at
    if event.type is EventType.LOCATION_UPDATED:
        return RollupUpdate(profile_fact=ProfileFact(
            "location", {"cell": f["cell"]},
            latest_key(at, event.event_id)))
    if event.type is EventType.PROFILE_INTERESTS_UPDATED:
        return RollupUpdate(profile_fact=ProfileFact(
            "interests", list(f["interests"]), latest_key(at, event.event_id)))

    viewer: dict[str, float] = {"events": 1}
    pair: dict[str, float] = {"events": 1}
    pair_min: dict[str, datetime] = {"first_seen_at": at}
    pair_max: dict[str, datetime] = {"last_seen_at": at}

    tokens = f.get("tokens")
    if event.type is EventType.TRANSACTION_COMPLETED:
        # Spend (budget) counts transactions only (contract §3). EVENT_SPECS makes tokens
        # required on a transaction, so it is read as present rather than optional.
        spent: float = f["tokens"]
        day = day_key(at)
        viewer |= {f"spend_days.{day}.tokens": spent, f"spend_days.{day}.purchases": 1,
                   "spend_tokens": spent, "purchases": 1}
        pair |= {"spend_tokens": spent, "purchases": 1}
    if tokens is not None:
        pair["revenue_tokens"] = tokens
    if tokens:
        # a paid interaction (any event with tokens > 0): visual attraction reads its recency
        pair_max["last_paid_at"] = at

    once_viewer: dict[str, float] = {}
    once_pair: dict[str, float] = {}
    once = COUNTED_ONCE_BY.get(event.type)
    once_key = (f"{f['viewer_id']}|{f['creator_id']}|{once[1]}|{f[once[0]]}"
                if once is not None else None)
    interaction = INTERACTION_OF.get(event.type)
    if interaction is not None:
        into_viewer, into_pair = (once_viewer, once_pair) if once_key else (viewer, pair)
        into_viewer[f"interactions.{interaction.value}"] = 1
        into_pair[f"interactions.{interaction.value}"] = 1
        pair_max["last_interaction_at"] = at

    match event.type:
        case EventType.CHAT_COMPLETED:
            pair["chat_messages"] = f["message_count"]
        case EventType.CHAT_MESSAGE_SENT:
            pair |= {"messages_sent": 1, "message_chars": f["message_length"]}
        case EventType.CALL_COMPLETED:
            # Fractional amounts are counted as whole milliseconds: integer sums do not depend
            # on arrival order, so a rebuild reproduces them exactly (float sums would not).
            pair |= {"call_ms": round(f["duration_minutes"] * 60_000),
                     f"calls_{f['call_type'].value.lower()}": 1}
        case EventType.MEETING_COMPLETED:
            pair["meetings_completed"] = 1
        case EventType.EVENT_ATTENDED:
            pair["events_attended"] = 1
        case EventType.PROFILE_VIEWED:
            # visits per UTC day: loyalty reads a trailing window of them
            pair |= {"profile_views": 1, "dwell_ms": round(f["dwell_seconds"] * 1000),
                     f"visit_days.{day_key(at)}": 1}
            pair_max["last_visit_at"] = at
        case EventType.MEDIA_LIKED:
            once_pair["likes"] = 1
        case EventType.FIRST_INTERACTION:
            pair_min["first_interaction_at"] = at
    return RollupUpdate(viewer_inc=viewer, pair_inc=pair, pair_min=pair_min, pair_max=pair_max,
                        once_key=once_key, once_viewer_inc=once_viewer, once_pair_inc=once_pair)


# --- Rollup state, as classification reads it. ----------------------------------------------


@dataclass(frozen=True)
class DaySpend:
    tokens: int = 0
    purchases: int = 0


@dataclass(frozen=True)
class ViewerRollup:
    """Viewer-wide counters: spend per UTC day and interactions by kind across all creators."""

    viewer_id: str
    spend_days: Mapping[str, DaySpend] = field(default_factory=dict)
    interactions: Mapping[InteractionKind, int] = field(default_factory=dict)
    spend_tokens: int = 0
    purchases: int = 0

    def spend_in_window(self, now: datetime, window_days: int) -> DaySpend:
        """Tokens and purchases in the ``window_days`` UTC days ending with ``now``'s day."""
        first, last = _window(_utc_day(now), window_days)
        tokens = purchases = 0
        for day, spend in self.spend_days.items():
            if first <= day <= last:
                tokens += spend.tokens
                purchases += spend.purchases
        return DaySpend(tokens, purchases)


@dataclass(frozen=True)
class PairRollup:
    """Counters for one viewer's dealings with one creator."""

    viewer_id: str
    creator_id: str
    events: int = 0
    spend_tokens: int = 0
    purchases: int = 0
    revenue_tokens: int = 0
    interactions: Mapping[InteractionKind, int] = field(default_factory=dict)
    chat_messages: int = 0
    messages_sent: int = 0
    message_chars: int = 0
    call_minutes: float = 0.0
    meetings_completed: int = 0
    events_attended: int = 0
    profile_views: int = 0
    dwell_seconds: float = 0.0
    likes: int = 0
    #: profile views per UTC day (``YYYYMMDD``)
    visit_days: Mapping[str, int] = field(default_factory=dict)
    first_seen_at: datetime | None = None
    last_seen_at: datetime | None = None
    last_interaction_at: datetime | None = None
    last_paid_at: datetime | None = None  # the last event with tokens > 0
    last_visit_at: datetime | None = None

    def visits_in_window(self, now: datetime, window_days: int) -> VisitWindow:
        """Visits, distinct visit days and distinct ISO weeks in the ``window_days`` UTC days
        ending with ``now``'s day."""
        first, last = _window(_utc_day(now), window_days)
        days = {d: n for d, n in self.visit_days.items() if first <= d <= last and n > 0}
        weeks = {_week_of_day(d) for d in days}
        return VisitWindow(visits=sum(days.values()), days=len(days), weeks=len(weeks))

    def paid_within(self, now: datetime, window_days: int) -> bool:
        """A paid interaction with this creator in the trailing ``window_days`` days."""
        return (self.last_paid_at is not None
                and self.last_paid_at > now - timedelta(days=window_days))


@dataclass(frozen=True)
class VisitWindow:
    visits: int = 0
    days: int = 0
    weeks: int = 0


@dataclass(frozen=True)
class Profile:
    """What a user (viewer or creator) last told us about themselves."""

    user_id: str
    #: the cell of their last reported position (``domain.locations``), never the position
    location: Cell | None = None
    interests: tuple[str, ...] = ()
