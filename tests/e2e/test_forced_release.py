"""creatorAudience(forceRefresh: true) (contract §7): an admin cuts a release now, never
against the rules, at most once a minute per creator."""

from __future__ import annotations

from typing import Any

from services.insights import InsightsService
from tests.audience import join
from tests.conftest import codes

C = "creator-forced"
MID = ("MID", "CHAT", "REMOTE")
FORCED = """query($c: ID!) { creatorAudience(creatorId: $c, forceRefresh: true) {
  withheld overview { totalAudience } } }"""


async def total(api: Any, query: str = FORCED, **who: Any) -> Any:
    body = await api.post(query, {"c": C}, **(who or {"sub": "ops", "roles": ("admin",)}))
    assert not body.get("errors"), body
    return body["data"]["creatorAudience"]["overview"]["totalAudience"]


async def test_only_an_admin_forces_and_only_what_the_rules_allow(api):
    await join(api, C, [(f"a{i}", MID) for i in range(10)])
    for who in ({"sub": C, "roles": ("creator",)}, {"sub": "v", "roles": ("viewer",)}):
        body = await api.post(FORCED, {"c": C}, **who)
        assert codes(body) == ["FORBIDDEN"], who
    await join(api, C, [(f"b{i}", MID) for i in range(3)])
    assert await total(api) == 10  # three changed viewers are not a release, forced or not
    body = await api.post(FORCED, {"c": C}, sub="ops", roles=("admin",))
    assert codes(body) == ["RATE_LIMITED"]


async def test_a_release_the_rules_allow_is_cut_at_once(api, monkeypatch):
    await join(api, C, [(f"a{i}", MID) for i in range(10)])
    plain = ("query($c: ID!) { creatorAudience(creatorId: $c) { withheld "
             "overview { totalAudience } } }")
    assert await total(api, plain, sub="ops", roles=("admin",)) == 10

    async def never(self: InsightsService, stored: Any) -> list[str]:
        return []  # the releases these joins allow are left for later (no writer settles them)

    with monkeypatch.context() as patched:
        patched.setattr(InsightsService, "_settle_many", never)
        await join(api, C, [(f"b{i}", MID) for i in range(10)])
    assert await total(api, plain, sub="ops", roles=("admin",)) == 10  # still the old release
    assert await total(api) == 20  # forced: published now
    assert await total(api, plain, sub=C, roles=("creator",)) == 20
