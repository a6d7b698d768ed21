"""Event mutations over HTTP: roles, validation, idempotency and the rollups they move."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.locations import DEFAULT_GRID
from tests.conftest import codes

RECEIPT = "{ eventId accepted duplicate }"

#: one valid input per mutation (without eventId)
VALID: dict[str, dict[str, Any]] = {
    "transactionCompleted": {"viewerId": "v1", "creatorId": "c1", "tokens": 500,
                             "kind": "chat_payment"},
    "chatCompleted": {"chatId": "ch1", "viewerId": "v1", "creatorId": "c1", "tokens": 10,
                      "messageCount": 12},
    "chatMessageSent": {"chatId": "ch1", "viewerId": "v1", "creatorId": "c1",
                        "messageLength": 42},
    "callCompleted": {"callId": "k1", "viewerId": "v1", "creatorId": "c1",
                      "durationMinutes": 7.5, "tokens": 300, "callType": "VIDEO"},
    "meetingBooked": {"bookingId": "b1", "viewerId": "v1", "creatorId": "c1", "tokens": 900,
                      "meetingDate": "2026-12-24T18:00:00Z"},
    "meetingCompleted": {"bookingId": "b1", "viewerId": "v1", "creatorId": "c1"},
    "eventRegistered": {"eventRef": "e1", "viewerId": "v1", "creatorId": "c1", "tokens": 50},
    "eventAttended": {"eventRef": "e1", "viewerId": "v1", "creatorId": "c1"},
    "locationUpdated": {"userId": "v1", "latitude": 52.52, "longitude": 13.405},
    "profileInterestsUpdated": {"userId": "v1", "interests": ["Music", " travel ", "music"]},
    "profileViewed": {"viewerId": "v1", "creatorId": "c1", "dwellSeconds": 30},
    "mediaLiked": {"mediaId": "m1", "viewerId": "v1", "creatorId": "c1"},
    "firstInteraction": {"viewerId": "v1", "creatorId": "c1"},
}

INPUT_TYPE = {name: name[0].upper() + name[1:] + "Input" for name in VALID}

#: (mutation, field, bad value) — each must be refused with BAD_USER_INPUT
INVALID: list[tuple[str, str, Any]] = [
    ("transactionCompleted", "tokens", 0),
    ("transactionCompleted", "tokens", -5),
    ("transactionCompleted", "tokens", 10_000_001),
    ("transactionCompleted", "viewerId", ""),
    ("transactionCompleted", "viewerId", "x" * 129),
    ("transactionCompleted", "creatorId", "has space"),
    ("transactionCompleted", "creatorId", "v1"),
    ("transactionCompleted", "kind", "  "),
    ("chatCompleted", "messageCount", -1),
    ("chatCompleted", "tokens", -1),
    ("chatMessageSent", "messageLength", -3),
    ("callCompleted", "durationMinutes", -1.0),
    ("callCompleted", "durationMinutes", 100000.0),
    ("callCompleted", "callType", "FAX"),
    ("meetingBooked", "meetingDate", "not a date"),
    ("locationUpdated", "latitude", 91.0),
    ("locationUpdated", "longitude", -180.5),
    ("profileInterestsUpdated", "interests", ["x"] * 51),
    ("profileInterestsUpdated", "interests", [""]),
    ("profileViewed", "dwellSeconds", -2.0),
    ("firstInteraction", "viewerId", "  "),
]


def mutation(name: str) -> str:
    return f"mutation($input: {INPUT_TYPE[name]}!) {{ {name}(input: $input) {RECEIPT} }}"


@pytest.mark.parametrize("name", sorted(VALID))
async def test_every_event_mutation_is_accepted_once_then_answered_duplicate(api, services,
                                                                             name):
    variables = {"input": {"eventId": f"evt-{name}", **VALID[name]}}
    first = await api.as_service(mutation(name), variables)
    assert first["data"][name] == {"eventId": f"evt-{name}", "accepted": True,
                                   "duplicate": False}
    again = await api.as_service(mutation(name), variables)
    assert again["data"][name] == {"eventId": f"evt-{name}", "accepted": True, "duplicate": True}
    assert await services.ledger.count() == 1


@pytest.mark.parametrize("name", sorted(VALID))
@pytest.mark.parametrize("roles", [(), ("viewer",), ("creator",), ("safety_team",), ("admin",)])
async def test_event_mutations_need_the_service_role(api, services, name, roles):
    body = await api.post(mutation(name), {"input": {"eventId": "e", **VALID[name]}},
                          sub="someone", roles=roles)
    assert codes(body) == ["FORBIDDEN"]
    assert await services.ledger.count() == 0


@pytest.mark.parametrize("name", sorted(VALID))
async def test_event_mutations_without_a_token_are_unauthenticated(api, services, name):
    body = await api.post(mutation(name), {"input": {"eventId": "e", **VALID[name]}}, sub=None)
    assert codes(body) == ["UNAUTHENTICATED"]
    assert await services.ledger.count() == 0


@pytest.mark.parametrize(("name", "field", "value"), INVALID)
async def test_invalid_fields_are_bad_user_input_and_store_nothing(api, services, name, field,
                                                                   value):
    body = await api.as_service(mutation(name),
                                {"input": {"eventId": "bad", **VALID[name], field: value}})
    assert codes(body) == ["BAD_USER_INPUT"], body
    assert await services.ledger.count() == 0
    assert (await services.rollups.snapshot()) == {"viewers": [], "pairs": [], "profiles": []}


async def test_future_occurred_at_is_refused(api, services):
    future = (datetime.now(UTC) + timedelta(days=400)).isoformat()  # beyond contract 7's year
    body = await api.as_service(mutation("firstInteraction"), {
        "input": {"eventId": "f", **VALID["firstInteraction"], "occurredAt": future}})
    assert codes(body) == ["BAD_USER_INPUT"]
    assert await services.ledger.count() == 0


async def test_inline_enum_literal_that_does_not_exist_is_bad_user_input(api, services):
    body = await api.as_service(
        'mutation { callCompleted(input: {eventId: "x", callId: "c", viewerId: "v", '
        'creatorId: "c", durationMinutes: 1, tokens: 1, callType: FAX})' f" {RECEIPT} }}")
    assert codes(body) == ["BAD_USER_INPUT"]
    assert await services.ledger.count() == 0


async def test_missing_required_argument_is_bad_user_input(api):
    body = await api.post("{ mySegment { budget } }", sub="v1", roles=("viewer",))
    assert codes(body) == ["BAD_USER_INPUT"]


async def test_inline_literal_of_the_wrong_type_is_bad_user_input(api, services):
    body = await api.as_service(
        'mutation { firstInteraction(input: {eventId: "x", viewerId: "v", creatorId: 5.5})'
        f" {RECEIPT} }}")
    assert codes(body) == ["BAD_USER_INPUT"]


async def test_replayed_transaction_is_not_counted_twice(api, services):
    variables = {"input": {"eventId": "t1", **VALID["transactionCompleted"]}}
    for _ in range(3):
        await api.as_service(mutation("transactionCompleted"), variables)
    [viewer] = await services.rollups.viewers(["v1"])
    assert viewer is not None and viewer.spend_tokens == 500 and viewer.purchases == 1


async def test_concurrent_duplicates_are_stored_and_counted_once(api, services):
    variables = {"input": {"eventId": "t-same", **VALID["transactionCompleted"]}}
    bodies = await asyncio.gather(*[
        api.as_service(mutation("transactionCompleted"), variables) for _ in range(8)])
    duplicates = [b["data"]["transactionCompleted"]["duplicate"] for b in bodies]
    assert duplicates.count(False) == 1
    [viewer] = await services.rollups.viewers(["v1"])
    assert viewer is not None and viewer.spend_tokens == 500
    assert await services.ledger.count() == 1


async def test_only_transactions_count_as_spend(api, services):
    for name in ("chatCompleted", "callCompleted", "meetingBooked", "eventRegistered"):
        await api.as_service(mutation(name), {"input": {"eventId": name, **VALID[name]}})
    [viewer] = await services.rollups.viewers(["v1"])
    [pair] = await services.rollups.pairs([("v1", "c1")])
    assert viewer is not None and viewer.spend_tokens == 0
    assert pair is not None and pair.revenue_tokens == 10 + 300 + 900 + 50
    assert {k.value: v for k, v in pair.interactions.items()} == {
        "CHAT": 1, "CALL": 1, "MEETING": 1, "EVENT": 1}


async def test_profile_keeps_the_latest_location_whatever_the_arrival_order(api, services):
    late = {"eventId": "l2", "userId": "u9", "latitude": 10.0, "longitude": 10.0,
            "occurredAt": "2026-01-02T00:00:00Z"}
    early = {"eventId": "l1", "userId": "u9", "latitude": 1.0, "longitude": 1.0,
             "occurredAt": "2026-01-01T00:00:00Z"}
    for value in (late, early):
        await api.as_service(mutation("locationUpdated"), {"input": value})
    [profile] = await services.rollups.profiles(["u9"])
    assert profile is not None and profile.location is not None
    assert profile.location == DEFAULT_GRID.snap(10.0, 10.0)


async def test_interests_are_normalised(api, services):
    await api.as_service(mutation("profileInterestsUpdated"), {
        "input": {"eventId": "i1", **VALID["profileInterestsUpdated"]}})
    [profile] = await services.rollups.profiles(["v1"])
    assert profile is not None and profile.interests == ("music", "travel")


BATCH = "mutation($events: [EventInput!]!) { recordEvents(events: $events) " + RECEIPT + " }"


async def test_batch_answers_one_receipt_per_element_in_order(api, services):
    events = [{"transactionCompleted": {"eventId": "b1", **VALID["transactionCompleted"]}},
              {"profileViewed": {"eventId": "b2", **VALID["profileViewed"]}},
              {"transactionCompleted": {"eventId": "b1", **VALID["transactionCompleted"]}}]
    body = await api.as_service(BATCH, {"events": events})
    assert [(r["eventId"], r["duplicate"]) for r in body["data"]["recordEvents"]] == [
        ("b1", False), ("b2", False), ("b1", True)]
    assert await services.ledger.count() == 2


async def test_batch_with_one_bad_element_stores_nothing(api, services):
    events = [{"transactionCompleted": {"eventId": "b1", **VALID["transactionCompleted"]}},
              {"transactionCompleted": {"eventId": "b2", **VALID["transactionCompleted"],
                                        "tokens": -1}}]
    body = await api.as_service(BATCH, {"events": events})
    assert codes(body) == ["BAD_USER_INPUT"]
    assert "events[1]" in body["errors"][0]["message"]
    assert await services.ledger.count() == 0


async def test_batch_member_must_set_exactly_one_event(api, services):
    both = {"firstInteraction": {"eventId": "x", **VALID["firstInteraction"]},
            "mediaLiked": {"eventId": "y", **VALID["mediaLiked"]}}
    body = await api.as_service(BATCH, {"events": [both]})
    assert codes(body) == ["BAD_USER_INPUT"]
    assert await services.ledger.count() == 0


async def test_batch_size_is_bounded(api, services):
    events = [{"firstInteraction": {"eventId": f"x{i}", **VALID["firstInteraction"]}}
              for i in range(501)]
    body = await api.as_service(BATCH, {"events": events})
    assert codes(body) == ["BAD_USER_INPUT"]
    assert await services.ledger.count() == 0


async def test_free_interactions_carry_zero_tokens(api, services):
    for name in ("chatCompleted", "callCompleted", "meetingBooked", "eventRegistered"):
        body = await api.as_service(mutation(name), {
            "input": {"eventId": f"free-{name}", **VALID[name], "tokens": 0}})
        assert body["data"][name]["accepted"] is True, body
    [pair] = await services.rollups.pairs([("v1", "c1")])
    assert pair is not None and pair.revenue_tokens == 0


async def _pair_and_ledger(services: Any) -> tuple[Any, int]:
    [pair] = await services.rollups.pairs([("v1", "c1")])
    return pair, await services.ledger.count()


@pytest.mark.parametrize("change", [
    {"tokens": 501}, {"creatorId": "c2"}, {"kind": "tip"},
    {"occurredAt": "2026-01-01T00:00:00Z"},
])
async def test_reused_event_id_with_another_payload_is_refused_and_changes_nothing(
        api, services, change):
    original = {"eventId": "same", **VALID["transactionCompleted"],
                "occurredAt": "2026-01-02T00:00:00Z"}
    await api.as_service(mutation("transactionCompleted"), {"input": original})
    before = await _pair_and_ledger(services)
    body = await api.as_service(mutation("transactionCompleted"),
                                {"input": {**original, **change}})
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "eventId"
    assert await _pair_and_ledger(services) == before


async def test_reused_event_id_under_another_mutation_is_refused(api, services):
    await api.as_service(mutation("firstInteraction"),
                         {"input": {"eventId": "x1", **VALID["firstInteraction"]}})
    body = await api.as_service(mutation("profileViewed"),
                                {"input": {"eventId": "x1", **VALID["profileViewed"]}})
    assert codes(body) == ["BAD_USER_INPUT"]
    assert await services.ledger.count() == 1


async def test_identical_replay_and_replay_without_occurred_at_stay_duplicates(api, services):
    original = {"eventId": "same", **VALID["transactionCompleted"],
                "occurredAt": "2026-01-02T00:00:00Z"}
    await api.as_service(mutation("transactionCompleted"), {"input": original})
    # normalisation erases the spelling difference: the same payload
    respelled = {**original, "kind": " Chat_Payment "}
    without_time = {k: v for k, v in original.items() if k != "occurredAt"}
    for replay in (original, respelled, without_time):
        body = await api.as_service(mutation("transactionCompleted"), {"input": replay})
        assert body["data"]["transactionCompleted"]["duplicate"] is True, body
    [viewer] = await services.rollups.viewers(["v1"])
    assert viewer is not None and viewer.purchases == 1


async def test_batch_reusing_a_stored_id_with_another_payload_stores_nothing(api, services):
    await api.as_service(mutation("transactionCompleted"),
                         {"input": {"eventId": "t1", **VALID["transactionCompleted"]}})
    events = [{"profileViewed": {"eventId": "fresh", **VALID["profileViewed"]}},
              {"transactionCompleted": {"eventId": "t1", **VALID["transactionCompleted"],
                                        "tokens": 9}}]
    body = await api.as_service(BATCH, {"events": events})
    assert codes(body) == ["BAD_USER_INPUT"]
    assert await services.ledger.count() == 1


async def test_batch_reusing_an_id_within_itself_with_another_payload_stores_nothing(
        api, services):
    events = [{"transactionCompleted": {"eventId": "t1", **VALID["transactionCompleted"]}},
              {"transactionCompleted": {"eventId": "t1", **VALID["transactionCompleted"],
                                        "tokens": 9}}]
    body = await api.as_service(BATCH, {"events": events})
    assert codes(body) == ["BAD_USER_INPUT"]
    assert await services.ledger.count() == 0
