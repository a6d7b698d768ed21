"""Impressions and conversions: what serving a ranking counts, and what counts as its result.

- An **impression** is one creator returned to one viewer by a discovery query. It is counted
  under the viewer's labels towards that creator at that moment (budget, intent, proximity:
  one ``segment_performance`` document per label kind, per creator, per UTC day).
- An **interaction** is a chat completed, call completed, meeting booked, event registered or
  event attended (the contract's intent interactions); a **transaction** is a completed payment.
- Either one from the viewer to an impressed creator within ``CONVERSION_WINDOW`` after the
  latest impression of that creator to that viewer counts: every interaction adds to
  ``interactions``, every transaction adds its tokens to ``revenue_tokens``, and the first of
  either after an impression adds one ``conversion`` (one conversion per impression at most; a
  later impression opens a new one). They are counted under the impression's labels.
- **Every count goes to the UTC day it is written on** (:func:`counting_day`), never to an
  earlier one: a conversion today of yesterday's impression counts today. So a day that has
  ended receives no more writes, and ``segmentPerformance``, which shows whole ended days only,
  shows for a day the same figures on every later query (contract §7, frozen days).
- BLOCKED viewers are never counted: neither their impressions nor their conversions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.events import Event, EventType
from domain.rollups import INTERACTION_OF, day_key

#: how long after an impression an interaction or transaction still counts as its result
CONVERSION_WINDOW = timedelta(days=7)
#: the label kinds segment performance is kept for, one document each
PERFORMANCE_KINDS = ("budget", "intent", "proximity")


@dataclass(frozen=True)
class Impression:
    viewer_id: str
    creator_id: str
    at: datetime
    #: kind → the viewer's label towards this creator when the ranking was served
    labels: Mapping[str, str]
    context: str


@dataclass(frozen=True)
class Outcome:
    """What one event adds to the performance of an impression it follows."""

    interaction: bool
    revenue_tokens: int


def performance_id(creator_id: str, kind: str, value: str, day: str) -> str:
    """``creator|segment_type|segment_value|YYYYMMDD`` — the document the insights read."""
    return f"{creator_id}|{kind}|{value}|{day}"


@dataclass(frozen=True)
class PerformanceDay:
    """One ``segment_performance`` document: a creator's counts under one label on one day."""

    creator_id: str
    segment_type: str
    segment_value: str
    day: str
    impressions: int = 0
    interactions: int = 0
    conversions: int = 0
    revenue_tokens: int = 0

    @property
    def id(self) -> str:
        return performance_id(self.creator_id, self.segment_type, self.segment_value, self.day)


def performance_day(at: datetime) -> str:
    return day_key(at)


def counting_day(written_at: datetime) -> str:
    """The day a count written at ``written_at`` belongs to: that day, whatever the time of
    the impression or event it counts (a backdated ``occurredAt`` included), so no count ever
    lands on a day that has already been shown."""
    return performance_day(written_at)


def outcome_of(event: Event) -> Outcome | None:
    """The outcome an event stands for, or None when it is neither interaction nor payment."""
    if event.viewer_id is None or event.creator_id is None:
        return None
    if event.type is EventType.TRANSACTION_COMPLETED:
        return Outcome(interaction=False, revenue_tokens=int(event.fields["tokens"]))
    if event.type in INTERACTION_OF:
        return Outcome(interaction=True, revenue_tokens=0)
    return None


def within_window(impressed_at: datetime, at: datetime) -> bool:
    """The event happened after the impression and at most ``CONVERSION_WINDOW`` later."""
    return impressed_at <= at <= impressed_at + CONVERSION_WINDOW
