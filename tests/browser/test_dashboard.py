"""The creator dashboard in a real browser: headless system Chromium opens /dashboard on a live
server seeded with a demo world, with every request not to that server aborted, and what it
shows is checked against `creatorAudience` fetched over GraphQL with the same token."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.live import (
    CHROMIUM,
    LiveServer,
    browser,
    live_server,
    new_page,
)

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason=f"no Chromium at {CHROMIUM} (.ci/run installs it)")

CREATOR = "creator-001"
QUIET = "creator-quiet"  # three viewers: below the privacy floor
HIDDEN = "hidden for privacy"

AUDIENCE = """query($c: ID!) { creatorAudience(creatorId: $c) {
  withheld withheldReason
  overview { totalAudience payingAudience payingPercentage topSegmentDescription }
  breakdown { budget { key label percentage count } intent { key label percentage count }
              proximity { key label percentage count } }
  topSegments(limit: 5) { description count budget }
  recommendations { primaryStrategy tips opportunities } } }"""

PERFORMANCE = """query($c: ID!, $v: String!) { creatorAudience(creatorId: $c) {
  segmentPerformance(segmentType: BUDGET, segmentValue: $v, days: 30) {
    label withheld segment { impressions interactions conversions } } } }"""

CHAT = """mutation($input: ChatCompletedInput!) { chatCompleted(input: $input) { accepted } }"""

CANVAS_PIXELS = """(id) => { const c = document.getElementById(id); if (!c || !c.width) return 0;
  const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; }"""


def de_count(n: int | None) -> str:
    """What Intl.NumberFormat("de-DE") shows for a whole number (1.230)."""
    return HIDDEN if n is None else f"{n:,}".replace(",", ".")


def de_percent(p: float | None) -> str:
    """Intl's de-DE percent with at most one decimal: 35 % and 12,5 % (no-break space)."""
    if p is None:
        return HIDDEN
    digits = f"{p:.1f}".rstrip("0").rstrip(".").replace(".", ",")
    return f"{digits}\u00a0%"


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with live_server(creators=6, viewers=240) as live:
        service = live.token("svc", "service")
        for n in range(3):
            data = live.graphql(CHAT, {"input": {
                "eventId": f"quiet-{n}", "chatId": f"quiet-chat-{n}", "viewerId": f"quiet-fan-{n}",
                "creatorId": QUIET, "tokens": 10, "messageCount": 4}}, token=service)
            assert data["chatCompleted"]["accepted"]
        yield live


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with browser() as b:
        yield b


def open_dashboard(chromium: Any, server: LiveServer, fragment: str = "", **options: Any
                   ) -> tuple[Any, Any]:
    options.setdefault("locale", "de-DE")
    options.setdefault("reduced_motion", "reduce")
    page, offline = new_page(chromium, server.base_url, **options)
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text)
            if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: violations.append(f"page error: {e}"))
    page.goto(f"{server.base_url}/dashboard{fragment}")
    return page, (offline, violations)


def table_rows(page: Any, selector: str) -> list[list[str]]:
    return page.eval_on_selector_all(
        f"{selector} tbody tr",
        "rows => rows.map(r => [...r.children].map(c => c.textContent.trim()))")


def test_the_page_shows_what_creator_audience_answers(chromium: Any, server: LiveServer) -> None:
    token = server.token(CREATOR, "creator")
    expected = server.graphql(AUDIENCE, {"c": CREATOR}, token=token)["creatorAudience"]
    assert not expected["withheld"], "the seeded demo creator must be shown"

    page, (offline, violations) = open_dashboard(chromium, server, f"#token={token}")
    page.wait_for_selector("#dashboard", state="visible")

    # the token left the address bar (and history: replaceState, not a new entry)
    assert "token" not in page.url and page.evaluate("location.hash") == ""
    assert page.inner_text("#who") == f"Signed in as {CREATOR}"

    overview = expected["overview"]
    assert page.inner_text("#total-audience") == de_count(overview["totalAudience"])
    assert page.inner_text("#paying-audience") == de_count(overview["payingAudience"])
    assert page.inner_text("#paying-percentage") == de_percent(overview["payingPercentage"])
    assert page.inner_text("#top-segment") == overview["topSegmentDescription"]

    for kind in ("budget", "intent", "proximity"):
        rows = table_rows(page, f'[data-breakdown="{kind}"] table')
        assert [(r[0], r[1], r[2]) for r in rows] == [
            (c["label"], de_percent(c["percentage"]), de_count(c["count"]))
            for c in expected["breakdown"][kind]], kind
        page.wait_for_function(f"() => ({CANVAS_PIXELS})('chart-{kind}') > 0")
        assert page.get_attribute(f"#chart-{kind}", "role") == "img"
        assert expected["breakdown"][kind][0]["label"] in page.get_attribute(
            f"#chart-{kind}", "aria-label")

    shown = page.eval_on_selector_all("#top-segments h3", "hs => hs.map(h => h.textContent)")
    assert shown == [s["description"] for s in expected["topSegments"]]
    assert page.inner_text("#recommendations h3 >> nth=0") == \
        expected["recommendations"]["primaryStrategy"]
    for tip in expected["recommendations"]["tips"]:
        assert tip in page.inner_text("#recommendations")

    # performance follows the top segment's budget tier by default, with its totals in a table
    tier = expected["topSegments"][0]["budget"]
    perf = server.graphql(PERFORMANCE, {"c": CREATOR, "v": tier},
                          token=token)["creatorAudience"]["segmentPerformance"]
    page.wait_for_selector("#performance table")
    assert page.input_value("#perf-segment") == f"BUDGET:{tier}"
    rows = {r[0]: r[1:] for r in table_rows(page, "#performance")}
    assert perf["segment"]["impressions"] is not None, "seeded counters must be shown"
    for name in ("impressions", "interactions", "conversions"):
        assert rows[name.capitalize()][1] == de_count(perf["segment"][name]), name  # 30 days
    page.wait_for_function(f"() => ({CANVAS_PIXELS})('chart-performance') > 0")
    assert perf["label"] in page.inner_text("#performance")

    assert offline.blocked == [], "the page reached for the internet"
    assert violations == []


def test_a_withheld_audience_shows_the_explanation_not_charts(chromium: Any,
                                                              server: LiveServer) -> None:
    token = server.token(QUIET, "creator")
    expected = server.graphql(AUDIENCE, {"c": QUIET}, token=token)["creatorAudience"]
    assert expected["withheld"] and expected["withheldReason"]

    page, (offline, violations) = open_dashboard(chromium, server, f"#token={token}")
    page.wait_for_selector("#withheld", state="visible")
    assert page.inner_text("#withheld-reason") == expected["withheldReason"]
    assert page.is_hidden("#dashboard")
    assert page.locator("canvas").count() == 0
    assert "token" not in page.url
    assert offline.blocked == [] and violations == []


def test_an_expired_token_asks_to_sign_in_again(chromium: Any, server: LiveServer) -> None:
    expired = server.token(CREATOR, "creator", hours=-1)
    page, _ = open_dashboard(chromium, server, f"#token={expired}")
    page.wait_for_selector("#sign-in", state="visible")
    assert "expired" in page.inner_text("#alert")
    assert "token" not in page.url


def test_a_token_the_server_refuses_asks_to_sign_in_again(chromium: Any,
                                                          server: LiveServer) -> None:
    # well formed and unexpired, but the server holds another secret: UNAUTHENTICATED
    from api.auth import mint_token

    forged = mint_token("another-secret-that-is-long-enough-for-hs256", CREATOR, ["creator"])
    page, _ = open_dashboard(chromium, server, f"#token={forged}")
    page.wait_for_selector("#sign-in", state="visible")
    assert "not accepted" in page.inner_text("#alert")
    assert page.is_hidden("#dashboard")


def test_a_viewer_token_is_forbidden_and_a_pasted_token_signs_in(chromium: Any,
                                                                 server: LiveServer) -> None:
    viewer = server.token(CREATOR, "viewer")
    page, _ = open_dashboard(chromium, server, f"#token={viewer}", locale="en-US")
    page.wait_for_selector("#sign-in", state="visible")
    assert "may not read the audience" in page.inner_text("#alert")

    # sign in again with the keyboard alone: the token field has focus, Tab reaches the button
    token = server.token(CREATOR, "creator")
    expected = server.graphql(AUDIENCE, {"c": CREATOR}, token=token)["creatorAudience"]
    assert page.evaluate("document.activeElement.id") == "token-input"
    page.keyboard.insert_text(token)
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector("#dashboard", state="visible")
    assert page.inner_text("#total-audience") == f"{expected['overview']['totalAudience']:,}"

    page.click("#sign-out")
    page.wait_for_selector("#sign-in", state="visible")
    assert page.is_hidden("#dashboard")


def test_the_page_is_labelled_for_screen_readers(chromium: Any, server: LiveServer) -> None:
    token = server.token(CREATOR, "creator")
    page, _ = open_dashboard(chromium, server, f"#token={token}", locale="en-US")
    page.wait_for_selector("#performance table")
    unlabelled = page.evaluate("""() => [
      ...[...document.querySelectorAll('canvas')].filter(c => !c.getAttribute('aria-label'))
        .map(c => 'canvas ' + c.id),
      ...[...document.querySelectorAll('canvas')].filter(c => !c.closest('.card, section')
        .querySelector('details table')).map(c => 'no table behind ' + c.id),
      ...[...document.querySelectorAll('table')].filter(t => !t.caption).map(() => 'table'),
      ...[...document.querySelectorAll('textarea, select')].filter(f => !f.labels.length)
        .map(f => 'field ' + f.id),
    ]""")
    assert unlabelled == []
