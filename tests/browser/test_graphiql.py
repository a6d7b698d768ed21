"""GraphiQL in a real browser: headless system Chromium opens /graphql on a live server with
every request not to that server aborted; the page renders from the server's own assets, runs
a query with a token from its Headers pane and shows the result, with no console error (a
Content-Security-Policy violation would be one)."""

from __future__ import annotations

import json
import os

import pytest

from tests.browser.live import CHROMIUM, browser, live_server, new_page

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason=f"no Chromium at {CHROMIUM} (.ci/run installs it)")

SET_EDITORS = """([query, headers]) => {
  document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(query);
  const tools = document.querySelectorAll('.graphiql-editor-tool .CodeMirror');
  tools[tools.length - 1].CodeMirror.setValue(headers);  // the Headers pane
}"""


def test_graphiql_runs_a_query_offline():
    with live_server(creators=2, viewers=10) as live, browser() as chromium:
        page, offline = new_page(chromium, live.base_url)
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto(f"{live.base_url}/graphql", wait_until="networkidle")
        page.wait_for_selector(".graphiql-query-editor .CodeMirror", timeout=30_000)
        headers = json.dumps({"Authorization": f"Bearer {live.token('viewer-0042', 'viewer')}"})
        page.evaluate(SET_EDITORS, ["query Who { me { userId } __typename }", headers])
        page.click(".graphiql-execute-button")
        result = page.locator(".result-window")
        result.get_by_text('"viewer-0042"').wait_for(timeout=30_000)
        assert '"__typename": "Query"' in result.inner_text()
    assert offline.blocked == []
    assert problems == [], problems
