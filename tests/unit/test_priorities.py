"""The update schedule (domain/priorities.py) and the queue's pure rules (domain/queue.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from domain.events import EventType, parse_event
from domain.priorities import (
    BIG_TRANSACTION_TOKENS,
    LONG_CALL_MINUTES,
    Cadence,
    Work,
    due_at,
    plan_for,
    priority_of,
)
from domain.queue import (
    SPEND_RETENTION_DAYS,
    DailyRunRecord,
    RunStatus,
    backoff,
    daily_run_day,
    daily_run_to_attempt,
    next_daily_run,
    percentile,
)
from domain.segments.thresholds import BudgetThresholds

NOW = datetime(2026, 11, 27, 10, 7, 30, tzinfo=UTC)
PAIR = {"viewer_id": "v", "creator_id": "c"}
FIELDS: dict[EventType, dict[str, Any]] = {
    EventType.TRANSACTION_COMPLETED: {**PAIR, "tokens": 50, "kind": "tip"},
    EventType.CHAT_COMPLETED: {"chat_id": "x", **PAIR, "tokens": 1, "message_count": 1},
    EventType.CHAT_MESSAGE_SENT: {"chat_id": "x", **PAIR, "message_length": 3},
    EventType.CALL_COMPLETED: {"call_id": "x", **PAIR, "duration_minutes": 1.0, "tokens": 1,
                               "call_type": "VOICE"},
    EventType.MEETING_BOOKED: {"booking_id": "x", **PAIR, "tokens": 1, "meeting_date": NOW},
    EventType.MEETING_COMPLETED: {"booking_id": "x", **PAIR},
    EventType.EVENT_REGISTERED: {"event_ref": "x", **PAIR, "tokens": 1},
    EventType.EVENT_ATTENDED: {"event_ref": "x", **PAIR},
    EventType.LOCATION_UPDATED: {"user_id": "u", "latitude": 1.0, "longitude": 2.0},
    EventType.PROFILE_INTERESTS_UPDATED: {"user_id": "u", "interests": ["a"]},
    EventType.PROFILE_VIEWED: {**PAIR, "dwell_seconds": 1.0},
    EventType.MEDIA_LIKED: {"media_id": "x", **PAIR},
    EventType.FIRST_INTERACTION: dict(PAIR),
}


def event(kind: EventType, **changes: Any):
    return parse_event(kind, "e1", NOW, {**FIELDS[kind], **changes}, now=NOW)


@pytest.mark.parametrize(("kind", "changes", "level", "cadence"), [
    (EventType.MEETING_BOOKED, {}, 8, Cadence.IMMEDIATE),
    (EventType.TRANSACTION_COMPLETED, {"tokens": BIG_TRANSACTION_TOKENS + 1}, 7,
     Cadence.IMMEDIATE),
    (EventType.TRANSACTION_COMPLETED, {"tokens": BIG_TRANSACTION_TOKENS}, 5,
     Cadence.BATCH_5_MIN),  # "over 100": exactly 100 is ordinary
    (EventType.CALL_COMPLETED, {"duration_minutes": LONG_CALL_MINUTES}, 7, Cadence.IMMEDIATE),
    (EventType.CALL_COMPLETED, {"duration_minutes": 4.99}, 5, Cadence.BATCH_5_MIN),
    (EventType.FIRST_INTERACTION, {}, 6, Cadence.IMMEDIATE),
    (EventType.CHAT_COMPLETED, {}, 5, Cadence.BATCH_5_MIN),
    (EventType.MEETING_COMPLETED, {}, 5, Cadence.BATCH_5_MIN),
    (EventType.EVENT_REGISTERED, {}, 5, Cadence.BATCH_5_MIN),
    (EventType.EVENT_ATTENDED, {}, 5, Cadence.BATCH_5_MIN),
    (EventType.LOCATION_UPDATED, {}, 5, Cadence.BATCH_5_MIN),
    (EventType.PROFILE_INTERESTS_UPDATED, {}, 5, Cadence.BATCH_5_MIN),
    (EventType.CHAT_MESSAGE_SENT, {}, 2, Cadence.BATCH_HOURLY),
    (EventType.PROFILE_VIEWED, {}, 2, Cadence.BATCH_HOURLY),
    (EventType.MEDIA_LIKED, {}, 2, Cadence.BATCH_HOURLY),
])
def test_every_event_has_its_priority_from_the_table(kind, changes, level, cadence):
    priority = priority_of(event(kind, **changes))
    assert (priority.level, priority.cadence) == (level, cadence)


def test_every_event_kind_is_in_the_table():
    for kind in EventType:
        assert priority_of(event(kind)) is not None


def test_immediate_pair_work_runs_inline_and_queues_nothing():
    plan = plan_for(event(EventType.MEETING_BOOKED))
    assert plan.inline_pair == ("v", "c") and plan.jobs == ()


def test_a_big_purchase_runs_its_pair_inline_and_queues_the_viewer_fan_out():
    plan = plan_for(event(EventType.TRANSACTION_COMPLETED, tokens=500))
    assert plan.inline_pair == ("v", "c")
    assert plan.jobs == (Work.viewer("v"),)


def test_a_small_purchase_queues_the_viewer_job_which_covers_its_pair():
    plan = plan_for(event(EventType.TRANSACTION_COMPLETED, tokens=10))
    assert plan.inline_pair is None and plan.jobs == (Work.viewer("v"),)


def test_a_profile_change_reaches_the_user_as_viewer_and_as_creator():
    plan = plan_for(event(EventType.LOCATION_UPDATED))
    assert plan.inline_pair is None
    assert [w.key for w in plan.jobs] == ["viewer:u", "creator:u"]


def test_batched_pair_work_is_one_pair_job():
    assert [w.key for w in plan_for(event(EventType.MEDIA_LIKED)).jobs] == ["pair:v|c"]


@pytest.mark.parametrize(("now", "cadence", "expected"), [
    (NOW, Cadence.IMMEDIATE, NOW),
    (NOW, Cadence.BATCH_5_MIN, NOW.replace(minute=10, second=0)),
    (NOW.replace(minute=10, second=0), Cadence.BATCH_5_MIN, NOW.replace(minute=15, second=0)),
    (NOW, Cadence.BATCH_HOURLY, NOW.replace(hour=11, minute=0, second=0)),
    (datetime(2026, 11, 27, 23, 58, tzinfo=UTC), Cadence.BATCH_HOURLY,
     datetime(2026, 11, 28, 0, 0, tzinfo=UTC)),
])
def test_batched_work_is_due_at_the_next_clock_boundary(now, cadence, expected):
    assert due_at(cadence, now) == expected


def test_backoff_doubles_and_is_capped():
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [5, 10, 20, 40]
    assert backoff(30) == timedelta(minutes=10)


@pytest.mark.parametrize(("now", "day"), [
    (datetime(2026, 11, 27, 1, 59, tzinfo=UTC), date(2026, 11, 26)),
    (datetime(2026, 11, 27, 2, 0, tzinfo=UTC), date(2026, 11, 27)),
    (datetime(2026, 11, 27, 23, 0, tzinfo=UTC), date(2026, 11, 27)),
])
def test_the_daily_run_due_is_todays_from_two_utc(now, day):
    assert daily_run_day(now) == day


def test_the_next_daily_run_is_the_next_two_utc():
    assert next_daily_run(datetime(2026, 11, 27, 2, 0, tzinfo=UTC)) == datetime(
        2026, 11, 28, 2, 0, tzinfo=UTC)
    assert next_daily_run(datetime(2026, 11, 27, 1, 0, tzinfo=UTC)) == datetime(
        2026, 11, 27, 2, 0, tzinfo=UTC)


def test_spend_is_kept_as_long_as_the_longest_window_thresholds_accept():
    BudgetThresholds(window_days=SPEND_RETENTION_DAYS)
    with pytest.raises(ValidationError):
        BudgetThresholds(window_days=SPEND_RETENTION_DAYS + 1)


def test_percentiles_by_nearest_rank():
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 0.5) == 50.0 and percentile(values, 0.95) == 95.0
    assert percentile([], 0.5) is None and percentile([3.0], 0.95) == 3.0


def _run(day: date, status: RunStatus) -> DailyRunRecord:
    return DailyRunRecord(day=day, status=status, owner="w",
                          started_at=datetime(2026, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(("now", "latest", "expected"), [
    # a finished run for the due day: nothing to do
    (datetime(2026, 11, 27, 9, 0, tzinfo=UTC), _run(date(2026, 11, 27), RunStatus.FINISHED),
     None),
    # yesterday's run is the last on record: today's is due (a missed run is caught up)
    (datetime(2026, 11, 27, 9, 0, tzinfo=UTC), _run(date(2026, 11, 26), RunStatus.FINISHED),
     date(2026, 11, 27)),
    # today's run is running or failed: try (the lock decides takeover or retry)
    (datetime(2026, 11, 27, 9, 0, tzinfo=UTC), _run(date(2026, 11, 27), RunStatus.RUNNING),
     date(2026, 11, 27)),
    # a store with no run on record: only close after 02:00, else wait for the next one
    (datetime(2026, 11, 27, 2, 30, tzinfo=UTC), None, date(2026, 11, 27)),
    (datetime(2026, 11, 27, 9, 0, tzinfo=UTC), None, None),
])
def test_which_daily_run_a_worker_attempts(now, latest, expected):
    assert daily_run_to_attempt(now, latest) == expected
