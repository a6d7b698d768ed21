"""The differencing harness: one viewer's unreleased events change no answer anyone else reads.

Contract §7: every answer depends on other viewers only through a creator's published release.
This test takes every field of the root Query *from the schema object* (a field added later is
covered without editing this file), builds its arguments and a selection of every scalar leaf
from the types (depth-limited), and asks it as a stranger viewer, as a creator and as an admin
— before and after one viewer sends events that no release has published yet. Every answer
must be identical. After a release the answers may move (and the creator's do).

Only the operator fields the contract exempts are skipped (``EXEMPT``); a field the harness
cannot call (no valid arguments, no role that gets an answer) fails the test by name.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLUnionType,
    ast_from_value,
    print_ast,
)

from resolvers.root import build_schema
from tests.audience import join, record

#: contract §7: operator fields that exist to show one person or live state to those allowed
EXEMPT = frozenset({"segment", "refreshSegment", "setViewerRisk", "segmentChanges",
                    "segmentChanged", "previewSegmentConfiguration", "segmentHealth"})

CREATOR, OTHER_CREATOR, STRANGER, ADMIN, MOVER = (
    "creator-x", "creator-y", "stranger-1", "admin-1", "mover-1")
#: asked about by no argument: only candidate pools could reveal it
NEW_CREATOR = "creator-z"
ROLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "stranger": (STRANGER, ("viewer",)),
    "creator": (CREATOR, ("creator",)),
    "admin": (ADMIN, ("admin",)),
}
#: argument values by argument name; any other argument gets a value generated from its type
ARGUMENTS: dict[str, Any] = {
    "creatorId": CREATOR, "viewerId": MOVER,
    "candidates": [CREATOR, OTHER_CREATOR, "nobody-1"],
    "creatorIds": [CREATOR, OTHER_CREATOR, "nobody-1"],
    "limit": 10, "first": 10, "days": 7, "segmentType": "BUDGET", "segmentValue": "HIGH",
}
MAX_DEPTH = 5
#: errors that are answers (the same for everyone before and after), not harness failures
ANSWER_CODES = frozenset({"FORBIDDEN", "BAD_USER_INPUT"})


def _named(t: Any) -> Any:
    while isinstance(t, GraphQLNonNull | GraphQLList):
        t = t.of_type
    return t


def _value(t: Any, name: str) -> Any:
    """A value for an input of type ``t``: the table's by name, else generated."""
    if name in ARGUMENTS:
        return ARGUMENTS[name]
    if isinstance(t, GraphQLNonNull):
        return _value(t.of_type, name)
    if isinstance(t, GraphQLList):
        return [_value(t.of_type, name)]
    if isinstance(t, GraphQLEnumType):
        return next(iter(t.values))
    if isinstance(t, GraphQLInputObjectType):
        return {n: _value(f.type, n) for n, f in t.fields.items()
                if isinstance(f.type, GraphQLNonNull) or n in ARGUMENTS}
    defaults = {"ID": CREATOR, "String": "x", "Int": 1, "Float": 1.0, "Boolean": False,
                "DateTime": "2026-11-01T00:00:00Z"}
    assert t.name in defaults, f"no generated value for scalar {t.name} ({name})"
    return defaults[t.name]


def _arguments(field: Any) -> str:
    parts = []
    for name, arg in field.args.items():
        if not isinstance(arg.type, GraphQLNonNull) and name not in ARGUMENTS:
            continue
        value = _value(arg.type, name)
        if isinstance(_named(arg.type), GraphQLEnumType):
            literal = value if not isinstance(value, list) else f"[{', '.join(value)}]"
        else:
            node = ast_from_value(value, arg.type)
            assert node is not None, f"cannot write {name}={value!r} as a literal"
            literal = print_ast(node)
        parts.append(f"{name}: {literal}")
    return f"({', '.join(parts)})" if parts else ""


def _selection(t: Any, depth: int) -> str:
    """Every scalar leaf of ``t`` down to ``MAX_DEPTH``; '' for a leaf type."""
    t = _named(t)
    if isinstance(t, GraphQLScalarType | GraphQLEnumType):
        return ""
    if isinstance(t, GraphQLUnionType):
        return "{ __typename " + " ".join(
            f"... on {m.name} {_selection(m, depth)}" for m in t.types) + " }"
    assert isinstance(t, GraphQLObjectType | GraphQLInterfaceType), t
    parts = ["__typename"]
    for name, field in t.fields.items():
        leaf = isinstance(_named(field.type), GraphQLScalarType | GraphQLEnumType)
        if not leaf and depth >= MAX_DEPTH:
            continue
        parts.append(f"{name}{_arguments(field)} {_selection(field.type, depth + 1)}".strip())
    return "{ " + " ".join(parts) + " }"


def operations() -> dict[str, str]:
    """One query document per root Query field not exempt."""
    query_type = build_schema()._schema.query_type
    assert query_type is not None
    return {name: f"query {{ {name}{_arguments(field)} {_selection(field.type, 1)} }}"
            for name, field in query_type.fields.items() if name not in EXEMPT}


async def _drain(api: Any) -> None:
    for _ in range(20):
        body = await api.as_service(
            "mutation { processSegmentQueue(batchSize: 1000) { processed remaining } }")
        assert not body.get("errors"), body
        if body["data"]["processSegmentQueue"]["remaining"] == 0:
            return


async def _answers(api: Any) -> dict[tuple[str, str], Any]:
    out: dict[tuple[str, str], Any] = {}
    for field, document in operations().items():
        for role, (sub, roles) in ROLES.items():
            body = await api.post(document, sub=sub, roles=roles)
            for error in body.get("errors") or []:
                code = (error.get("extensions") or {}).get("code")
                assert code in ANSWER_CODES, f"{field} as {role} cannot be exercised: {error}"
            # the answer itself; extensions carry the caller's own cost budget
            # (and each error its request id)
            out[(field, role)] = {"data": body.get("data"), "errors": [
                (e["message"], e.get("path"), (e.get("extensions") or {}).get("code"))
                for e in body.get("errors") or []]}
    for field in operations():
        assert any(not out[(field, r)].get("errors") for r in ROLES) or all(
            code == "FORBIDDEN" for r in ROLES for _, _, code in out[(field, r)]["errors"]), (
            f"{field}: no role gets an answer; give it arguments in ARGUMENTS")
    return out


def _loc(user: str, lat: float, lon: float) -> dict[str, Any]:
    return {"locationUpdated": {"eventId": f"loc-{user}-{lat}", "userId": user,
                                "latitude": lat, "longitude": lon}}


async def _world(api: Any) -> None:
    """Two released creators near a stranger who has no link with either."""
    await record(api, [_loc(CREATOR, 48.8566, 2.3522), _loc(OTHER_CREATOR, 48.9, 2.4),
                       _loc(STRANGER, 48.86, 2.35),
                       {"profileInterestsUpdated": {"eventId": "int-s", "userId": STRANGER,
                                                    "interests": ["art", "music", "film"]}},
                       {"profileInterestsUpdated": {"eventId": "int-x", "userId": CREATOR,
                                                    "interests": ["art", "music", "film"]}}])
    for creator in (CREATOR, OTHER_CREATOR):
        await join(api, creator, [(f"fan-{creator}-{i}", ("MID", "CHAT", "LOCAL"))
                                  for i in range(12)])
    await _drain(api)


async def _one_viewer_acts(api: Any) -> None:
    """Everything that moved a boost, a confidence or a reason live: meetings, big spend."""
    await join(api, CREATOR, [(MOVER, ("HIGH", "MEETING", "LOCAL"))])
    # a creator nobody had heard of: their first fan must not put them in anyone's pools
    await join(api, NEW_CREATOR, [(MOVER, ("MID", "CHAT", "LOCAL"))])
    await record(api, [{"meetingBooked": {
        "eventId": f"mb-{i}", "bookingId": f"b-{i}", "viewerId": MOVER, "creatorId": CREATOR,
        "tokens": 5000, "meetingDate": "2027-01-01T12:00:00Z"}} for i in range(3)])
    await _drain(api)


def _differences(before: dict[Any, Any], after: dict[Any, Any]) -> list[str]:
    return [f"{field} as {role}:\n  before {before[(field, role)]}\n  after  {after[(field, role)]}"
            for field, role in before if before[(field, role)] != after[(field, role)]]


async def test_every_field_covers_every_root_query_field_but_the_exempt_ones():
    fields = build_schema()._schema.query_type.fields  # type: ignore[union-attr]
    assert set(operations()) == set(fields) - EXEMPT
    assert {"segmentRecommendations", "filterDiscoveryFeed", "engagementSuggestion",
            "reorderDiscoveryQueue", "creatorVisibilityBoost", "creatorAudience"} <= set(fields)


async def test_one_viewers_unreleased_events_change_no_answer(make_api):
    async with make_api(audience_rate_limit_cost_per_minute=0) as api:
        await _check(api)


async def _check(api: Any) -> None:
    await _world(api)
    before = await _answers(api)
    again = await _answers(api)
    assert not _differences(before, again), "answers move without any event"
    await _one_viewer_acts(api)
    after = await _answers(api)
    differences = _differences(before, after)
    assert not differences, "\n".join(differences)

    # a release (ten more viewers) may move answers, and moves the creator's own
    await join(api, CREATOR, [(f"late-{i}", ("HIGH", "MEETING", "LOCAL")) for i in range(10)])
    await _drain(api)
    released = await _answers(api)
    assert released[("creatorAudience", "creator")] != before[("creatorAudience", "creator")]
