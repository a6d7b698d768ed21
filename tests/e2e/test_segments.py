"""Segments end to end: events in through mutations, labels out through mySegment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import codes
from tests.helpers import ago, my_segment, send

V, C = "viewer-1", "creator-1"


async def spend(api, tokens: int, times: int = 1, days_ago: float = 0, viewer: str = V,
                creator: str = C) -> None:
    for _ in range(times):
        await send(api, "transactionCompleted", viewerId=viewer, creatorId=creator,
                   tokens=tokens, occurredAt=ago(days_ago))


async def test_pair_without_interaction_has_no_segment(api):
    assert await my_segment(api, V, C) is None


# --- budget: (tokens per purchase, purchases, days ago) → tier -------------------------------
BUDGET_CASES = [
    ((4_999, 1, 0), "LOW"),
    ((5_000, 1, 0), "MID"),  # from 5,000 tokens
    ((20_000, 1, 0), "MID"),  # HIGH only above 20,000
    ((20_001, 1, 0), "HIGH"),
    ((1, 2, 0), "MID"),  # from 2 purchases
    ((1, 5, 0), "MID"),  # HIGH only above 5 purchases
    ((1, 6, 0), "HIGH"),
    ((10_000, 1, 29), "MID"),  # inside the 30-day window
    ((10_000, 1, 30), "LOW"),  # left the window
    ((21_000, 1, 31), "LOW"),
]


@pytest.mark.parametrize(("case", "tier"), BUDGET_CASES)
async def test_budget_tier_at_and_around_each_threshold(api, case, tier):
    tokens, times, days = case
    await spend(api, tokens, times, days)
    segment = await my_segment(api, V, C)
    assert segment is not None and segment["budget"] == tier


async def test_higher_tier_of_spend_and_frequency_wins(api):
    await spend(api, 21_000, 1)  # HIGH by spend, LOW by frequency
    assert (await my_segment(api, V, C))["budget"] == "HIGH"


async def test_budget_is_viewer_wide_across_creators(api):
    await send(api, "profileViewed", viewerId=V, creatorId="creator-2", dwellSeconds=5)
    await spend(api, 25_000, creator=C)
    assert (await my_segment(api, V, "creator-2"))["budget"] == "HIGH"


async def test_only_transactions_count_toward_budget(api):
    for _ in range(3):
        await send(api, "callCompleted", viewerId=V, creatorId=C, tokens=9_000,
                   durationMinutes=10.0)
    segment = await my_segment(api, V, C)
    assert segment["budget"] == "LOW" and segment["budgetWindowTokens"] == 0


async def test_live_threshold_change_applies_to_the_next_computation(api):
    await spend(api, 3_000)
    assert (await my_segment(api, V, C))["budget"] == "LOW"
    body = await api.post("mutation { updateSegmentConfiguration(input: {budget: "
                          "{midTokens: 2000}}) { budget { midTokens highTokens } } }",
                          sub="boss", roles=("admin",))
    assert body["data"]["updateSegmentConfiguration"]["budget"] == {"midTokens": 2000,
                                                                    "highTokens": 20000}
    await send(api, "mediaLiked", viewerId=V, creatorId=C)  # any event recomputes the pair
    assert (await my_segment(api, V, C))["budget"] == "MID"


async def test_refresh_segment_reads_new_thresholds(api):
    await spend(api, 3_000)
    await api.post("mutation { updateSegmentConfiguration(input: {budget: {midTokens: 1000}})"
                   " { budget { midTokens } } }", sub="boss", roles=("admin",))
    body = await api.as_service(
        f'mutation {{ refreshSegment(viewerId: "{V}", creatorId: "{C}") {{ budget }} }}')
    assert body["data"]["refreshSegment"]["budget"] == "MID"


@pytest.mark.parametrize("update", [
    "{budget: {midTokens: 30000}}",  # MID above HIGH
    "{budget: {windowDays: 0}}",
    "{proximity: {localKm: -1}}",
    "{proximity: {localKm: 300}}",
    "{intent: {majorityShare: 1.5}}",
    "{}",
])
async def test_invalid_threshold_updates_are_refused_and_change_nothing(api, update):
    body = await api.post(f"mutation {{ updateSegmentConfiguration(input: {update}) "
                          "{ budget { midTokens } } }", sub="boss", roles=("admin",))
    assert codes(body) == ["BAD_USER_INPUT"]
    body = await api.post("{ segmentConfiguration { budget { midTokens windowDays } "
                          "proximity { localKm } intent { majorityShare } } }",
                          sub="boss", roles=("admin",))
    assert body["data"]["segmentConfiguration"] == {
        "budget": {"midTokens": 5000, "windowDays": 30}, "proximity": {"localKm": 50.0},
        "intent": {"majorityShare": 0.5}}


# --- intent ------------------------------------------------------------------------------
INTENT_CASES = [
    ({"chatCompleted": 3, "callCompleted": 1}, "CHAT"),  # majority
    ({"chatCompleted": 2, "callCompleted": 1, "meetingBooked": 1, "eventRegistered": 1},
     "CHAT"),  # largest share without majority
    ({"callCompleted": 1, "meetingBooked": 1}, "MEETING"),  # tie → more committed kind
    ({"eventRegistered": 1, "eventAttended": 1, "chatCompleted": 1}, "EVENT"),
    ({"callCompleted": 2, "chatCompleted": 2, "eventAttended": 1}, "CALL"),
    ({}, "CHAT"),  # only views: the default
]


@pytest.mark.parametrize(("events", "intent"), INTENT_CASES)
async def test_intent_is_the_majority_else_largest_share(api, events, intent):
    await send(api, "profileViewed", viewerId=V, creatorId=C, dwellSeconds=1)
    for name, count in events.items():
        for _ in range(count):
            await send(api, name, viewerId=V, creatorId=C)
    assert (await my_segment(api, V, C))["intent"] == intent


async def test_intent_falls_back_to_the_viewers_habits_elsewhere(api):
    for _ in range(2):
        await send(api, "callCompleted", viewerId=V, creatorId="creator-2")
    await send(api, "profileViewed", viewerId=V, creatorId=C, dwellSeconds=1)
    assert (await my_segment(api, V, C))["intent"] == "CALL"


# --- proximity: one degree of latitude is ~111.2 km ----------------------------------------
PROXIMITY_CASES = [
    # bands between cell centres: points a cell (~6 km) clear of each edge
    (0.0, "LOCAL"), (0.38, "LOCAL"), (0.52, "NEARBY"), (1.74, "NEARBY"), (1.86, "REMOTE"),
    (None, "REMOTE"),
]


@pytest.mark.parametrize(("degrees", "proximity"), PROXIMITY_CASES)
async def test_proximity_bands_by_distance_between_cells(api, degrees, proximity):
    await send(api, "locationUpdated", userId=C, latitude=48.0, longitude=11.0)
    if degrees is not None:
        await send(api, "locationUpdated", userId=V, latitude=48.0 + degrees, longitude=11.0)
    await send(api, "firstInteraction", viewerId=V, creatorId=C)
    segment = await my_segment(api, V, C)
    assert segment["proximity"] == proximity
    if degrees is None:
        assert segment["distanceKm"] is None
    else:
        assert isinstance(segment["distanceKm"], int)


async def test_moving_viewer_changes_proximity_of_existing_pairs(api):
    await send(api, "locationUpdated", userId=C, latitude=48.0, longitude=11.0)
    await send(api, "locationUpdated", userId=V, latitude=40.0, longitude=11.0)
    await send(api, "firstInteraction", viewerId=V, creatorId=C)
    assert (await my_segment(api, V, C))["proximity"] == "REMOTE"
    await send(api, "locationUpdated", userId=V, latitude=48.1, longitude=11.0)
    assert (await my_segment(api, V, C))["proximity"] == "LOCAL"


# --- passion -------------------------------------------------------------------------------
@pytest.mark.parametrize(("viewer_tags", "shared", "score"), [
    (["a", "b"], False, 50.0),
    (["a", "b", "c"], True, 75.0),
    (["A", "b", "c", "d", "z"], True, 100.0),
])
async def test_shared_interests_need_three_common_tags(api, viewer_tags, shared, score):
    await send(api, "profileInterestsUpdated", userId=C, interests=["a", "b", "c", "d"])
    await send(api, "profileInterestsUpdated", userId=V, interests=viewer_tags)
    await send(api, "firstInteraction", viewerId=V, creatorId=C)
    passion = (await my_segment(api, V, C))["passion"]
    assert passion["sharedInterests"] is shared
    assert passion["sharedInterestsScore"] == score


async def test_visual_attraction_is_engagement_without_payment(api):
    for media in range(5):
        await send(api, "mediaLiked", viewerId=V, creatorId=C, mediaId=f"m{media}")  # 25 points
    passion = (await my_segment(api, V, C))["passion"]
    assert passion["visualAttraction"] is False and passion["visualAttractionScore"] == 25.0
    await send(api, "profileViewed", viewerId=V, creatorId=C, dwellSeconds=180)  # +2 +3
    passion = (await my_segment(api, V, C))["passion"]
    assert passion["visualAttraction"] is True and passion["visualAttractionScore"] == 30.0
    await spend(api, 10)
    assert (await my_segment(api, V, C))["passion"]["visualAttraction"] is False


def _monday_weeks_ago(weeks: int) -> datetime:
    today = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    return today - timedelta(days=today.weekday() + 7 * weeks)


def _expected_loyalty(visits: list[datetime]) -> float:
    """The README's formula, for visits all inside the 90-day window."""
    days = {v.date() for v in visits}
    weeks = {v.isocalendar()[:2] for v in visits}
    volume = (40 * min(1, len(visits) / 20) + 30 * min(1, len(days) / 10)
              + 30 * min(1, len(weeks) / 4))
    idle = (datetime.now(UTC) - max(visits)).total_seconds() / 86_400
    return volume * 0.5 ** (idle / 45)


async def _visit(api, moments: list[datetime]) -> dict:
    for moment in moments:
        await send(api, "profileViewed", viewerId=V, creatorId=C, dwellSeconds=10,
                   occurredAt=moment.isoformat())
    return (await my_segment(api, V, C))["passion"]


async def test_ten_visits_within_two_weeks_are_not_yet_loyal(api):
    start = _monday_weeks_ago(2)
    visits = [start + timedelta(days=d) for d in range(10)]  # Monday .. next Wednesday
    passion = await _visit(api, visits)
    assert passion["loyaltyScore"] == pytest.approx(_expected_loyalty(visits), abs=0.05)
    assert passion["loyaltyScore"] < 65  # 40×10/20 + 30×10/10 + 30×2/4, decayed
    assert passion["loyalFollower"] is False


async def test_ten_visits_over_three_weeks_up_to_today_are_loyal(api):
    now = datetime.now(UTC) - timedelta(minutes=1)
    visits = [now - timedelta(days=d) for d in range(0, 20, 2)]  # three or four ISO weeks
    passion = await _visit(api, visits)
    assert passion["loyaltyScore"] == pytest.approx(_expected_loyalty(visits), abs=0.05)
    assert passion["loyaltyScore"] >= 70
    assert passion["loyalFollower"] is True


async def test_a_loyal_follower_who_stops_coming_loses_the_label(api):
    start = _monday_weeks_ago(9)
    visits = [start + timedelta(days=d) for d in range(0, 28, 2)]  # 14 visits, 4 weeks
    passion = await _visit(api, visits)  # last visit five weeks ago and more
    assert passion["loyaltyScore"] == pytest.approx(_expected_loyalty(visits), abs=0.05)
    assert passion["loyaltyScore"] < 70 and passion["loyalFollower"] is False


async def test_loyal_follower_when_returning_over_four_weeks(api):
    for day in range(0, 28, 2):  # 14 visits over 4+ weeks
        await send(api, "profileViewed", viewerId=V, creatorId=C, dwellSeconds=10,
                   occurredAt=ago(days=day))
    passion = (await my_segment(api, V, C))["passion"]
    assert passion["loyaltyScore"] >= 70
    assert passion["loyalFollower"] is True


async def test_a_burst_of_views_in_one_day_is_not_loyalty(api):
    for _ in range(25):
        await send(api, "profileViewed", viewerId=V, creatorId=C, dwellSeconds=10)
    passion = (await my_segment(api, V, C))["passion"]
    assert passion["loyalFollower"] is False and passion["loyaltyScore"] < 70


# --- issue 14: what the rules mean ----------------------------------------------------------


async def test_a_paid_call_ends_visual_attraction(api):
    for _ in range(12):  # 24 + 12 points
        await send(api, "profileViewed", viewerId=V, creatorId=C, dwellSeconds=60)
    assert (await my_segment(api, V, C))["passion"]["visualAttraction"] is True
    await send(api, "callCompleted", viewerId=V, creatorId=C, tokens=400, durationMinutes=10.0)
    assert (await my_segment(api, V, C))["passion"]["visualAttraction"] is False


async def test_a_free_chat_keeps_visual_attraction(api):
    for _ in range(12):  # 24 + 12 points
        await send(api, "profileViewed", viewerId=V, creatorId=C, dwellSeconds=60)
    await send(api, "chatCompleted", viewerId=V, creatorId=C, tokens=0)
    assert (await my_segment(api, V, C))["passion"]["visualAttraction"] is True


async def test_likes_of_the_same_media_count_once(api):
    for _ in range(5):
        await send(api, "mediaLiked", viewerId=V, creatorId=C, mediaId="m1")
    once = (await my_segment(api, V, C))["passion"]["visualAttractionScore"]
    await send(api, "mediaLiked", viewerId=V, creatorId=C, mediaId="m2")
    twice = (await my_segment(api, V, C))["passion"]["visualAttractionScore"]
    assert (once, twice) == (5.0, 10.0)


async def test_booking_and_completion_are_one_meeting(api):
    await send(api, "chatCompleted", viewerId=V, creatorId=C)
    await send(api, "meetingBooked", viewerId=V, creatorId=C, bookingId="b1")
    await send(api, "meetingCompleted", viewerId=V, creatorId=C, bookingId="b1")
    segment = await my_segment(api, V, C)
    # one CHAT and one MEETING: a tie, no majority, to the more committed kind
    assert (segment["intent"], segment["intentShare"]) == ("MEETING", 0.5)
    assert segment["intentIsMajority"] is False


async def test_a_completed_meeting_counts_even_when_its_booking_came_later(api):
    await send(api, "meetingCompleted", viewerId=V, creatorId=C, bookingId="b1")
    segment = await my_segment(api, V, C)
    assert (segment["intent"], segment["intentShare"]) == ("MEETING", 1.0)
    await send(api, "meetingBooked", viewerId=V, creatorId=C, bookingId="b1")
    await send(api, "chatCompleted", viewerId=V, creatorId=C)
    assert (await my_segment(api, V, C))["intentShare"] == 0.5


async def test_registering_and_attending_one_event_is_one_event(api):
    await send(api, "chatCompleted", viewerId=V, creatorId=C)
    await send(api, "chatCompleted", viewerId=V, creatorId=C)
    await send(api, "eventRegistered", viewerId=V, creatorId=C, eventRef="ev1")
    await send(api, "eventAttended", viewerId=V, creatorId=C, eventRef="ev1")
    segment = await my_segment(api, V, C)
    assert (segment["intent"], segment["intentIsMajority"]) == ("CHAT", True)
    assert segment["intentShare"] == pytest.approx(2 / 3, abs=1e-4)


async def test_without_a_majority_the_viewers_intent_across_creators_decides(api):
    # here: CHAT 2, CALL 1, EVENT 1 — no kind over 50 %
    for name, extra in (("chatCompleted", {}), ("chatCompleted", {}), ("callCompleted", {}),
                        ("eventRegistered", {"eventRef": "x"})):
        await send(api, name, viewerId=V, creatorId=C, **extra)
    segment = await my_segment(api, V, C)
    assert (segment["intent"], segment["intentSource"]) == ("CHAT", "PAIR_LARGEST")
    for _ in range(6):  # elsewhere the viewer mostly calls
        await send(api, "callCompleted", viewerId=V, creatorId="creator-2")
    await send(api, "mediaLiked", viewerId=V, creatorId=C)  # recomputes the pair
    segment = await my_segment(api, V, C)
    assert (segment["intent"], segment["intentSource"], segment["intentIsMajority"]) == (
        "CALL", "VIEWER", True)


async def test_majority_share_has_a_visible_effect(api):
    for name in ("chatCompleted", "chatCompleted", "callCompleted"):
        await send(api, name, viewerId=V, creatorId=C)
    for _ in range(4):
        await send(api, "callCompleted", viewerId=V, creatorId="creator-2")
    segment = await my_segment(api, V, C)
    assert (segment["intent"], segment["intentSource"]) == ("CHAT", "PAIR")
    await api.post("mutation { updateSegmentConfiguration(input: {intent: "
                   "{majorityShare: 0.7}}) { intent { majorityShare } } }",
                   sub="boss", roles=("admin",))
    await send(api, "mediaLiked", viewerId=V, creatorId=C)
    segment = await my_segment(api, V, C)
    # 5 of 7 calls viewer-wide is over 0.7; 2 of 3 chats here is not
    assert (segment["intent"], segment["intentSource"]) == ("CALL", "VIEWER")


async def test_old_visits_do_not_make_a_loyal_follower(api):
    for week in range(12):  # three visits a week, a year ago
        for _ in range(3):
            await send(api, "profileViewed", viewerId=V, creatorId=C,
                       occurredAt=ago(days=365 + 7 * week))
    segment = await my_segment(api, V, C)
    assert segment["passion"]["loyalFollower"] is False
    assert segment["passion"]["loyaltyScore"] == 0.0


async def test_recent_regular_visits_make_a_loyal_follower(api):
    for week in range(6):
        for day in range(2):
            await send(api, "profileViewed", viewerId=V, creatorId=C,
                       occurredAt=ago(days=7 * week + day))
    segment = await my_segment(api, V, C)
    assert segment["passion"]["loyalFollower"] is True
