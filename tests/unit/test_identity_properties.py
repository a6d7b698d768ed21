"""Property tests (hypothesis) for token claims and date-time validation (contract §7)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import jwt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.auth import MAX_SUB_LENGTH, AuthenticationError, Role, principal_from_header
from domain.events import EARLIEST_INSTANT, LATEST_AHEAD, InvalidEvent, check_instant

SECRET = "property-test-secret-of-at-least-32-bytes!"
ROLES = [r.value for r in Role]
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def header(claims: dict[str, object]) -> str:
    return "Bearer " + jwt.encode(claims, SECRET, algorithm="HS256")


def exact(sub: str) -> bool:
    return 1 <= len(sub) <= MAX_SUB_LENGTH and sub.isprintable() and sub == sub.strip()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                max_size=3),
    max_leaves=6)


@given(sub=st.text(max_size=140), roles=st.lists(st.sampled_from(ROLES), max_size=5))
def test_a_sub_is_accepted_exactly_when_it_is_exact(sub, roles):
    claims = {"sub": sub, "roles": roles, "exp": int(time.time()) + 600}
    if exact(sub):
        principal = principal_from_header(header(claims), SECRET, require_exp=True)
        assert principal.sub == sub  # never trimmed or normalised
        assert principal.roles == frozenset(Role(r) for r in roles)
    else:
        with pytest.raises(AuthenticationError):
            principal_from_header(header(claims), SECRET)


@given(roles=json_values)
def test_roles_are_a_list_of_known_role_strings_or_the_token_is_refused(roles):
    claims = {"sub": "u1", "roles": roles}
    valid = isinstance(roles, list) and all(isinstance(r, str) and r in ROLES for r in roles)
    if valid:
        assert principal_from_header(header(claims), SECRET).sub == "u1"
    else:
        with pytest.raises(AuthenticationError):
            principal_from_header(header(claims), SECRET)


@given(claims=st.dictionaries(st.sampled_from(["sub", "roles", "exp", "iat", "nbf", "aud"]),
                              json_values, max_size=6))
def test_any_claims_either_authenticate_or_raise_authentication_error(claims):
    try:
        principal_from_header(header(claims), SECRET, require_exp=True)
    except AuthenticationError:
        return  # the only way a token is refused: never a TypeError or a 500
    assert isinstance(claims.get("exp"), int | float)


@given(lifetime=st.integers(min_value=-10**6, max_value=10**6))
def test_exp_is_honoured(lifetime):
    claims = {"sub": "u1", "exp": int(time.time()) + lifetime}
    if lifetime > 5:
        assert principal_from_header(header(claims), SECRET).sub == "u1"
    elif lifetime < -5:
        with pytest.raises(AuthenticationError, match="expired"):
            principal_from_header(header(claims), SECRET)


offsets = st.integers(min_value=-23 * 60, max_value=23 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes)))


@given(moment=st.datetimes(timezones=st.none() | offsets),
       field=st.sampled_from(sorted(LATEST_AHEAD)))
def test_a_date_time_is_accepted_exactly_within_its_range(moment, field):
    try:
        utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:
        utc = None  # no UTC instant at all (year 1 with a positive offset, ...)
    inside = utc is not None and EARLIEST_INSTANT <= utc.replace(
        microsecond=utc.microsecond // 1000 * 1000) <= NOW + LATEST_AHEAD[field]
    if inside:
        assert check_instant(field, moment, now=NOW).tzinfo == UTC
    else:
        with pytest.raises(InvalidEvent):
            check_instant(field, moment, now=NOW)
