"""Regenerate the dashboard screenshots in docs/ (`make screenshots`).

A live server on a free port with a demo world, its demo creator signed in through
``#token=``, headless system Chromium at a desktop and a phone width, the network limited to the
server — the same set-up as the browser tests.
"""

from __future__ import annotations

import sys
from pathlib import Path

from api.dashboard import demo_creator
from tests.browser.live import browser, live_server, new_page

DOCS = Path(__file__).resolve().parents[2] / "docs"
#: (file, viewport width, viewport height)
SHOTS = (("dashboard-desktop.png", 1280, 900), ("dashboard-phone.png", 390, 844))
#: a smaller demo world than `make run`'s (which takes minutes to load on a busy machine), with
#: enough viewers that its first creator's tiers stand on their own; the creator the dashboard
#: link of `make run` would sign in for a world of this size
CREATORS, VIEWERS = 40, 1500
CREATOR = demo_creator(CREATORS)

DRAWN = """() => [...document.querySelectorAll('canvas')].every(c => {
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  for (let i = 3; i < d.length; i += 4) if (d[i]) return true; return false; })"""


def main() -> int:
    DOCS.mkdir(exist_ok=True)
    with (live_server(creators=CREATORS, viewers=VIEWERS, ready_timeout=900) as server,
          browser() as chromium):
        token = server.token(CREATOR, "creator")
        for name, width, height in SHOTS:
            page, offline = new_page(chromium, server.base_url, locale="en-US",
                                     reduced_motion="reduce",
                                     viewport={"width": width, "height": height})
            page.goto(f"{server.base_url}/dashboard#token={token}")
            page.wait_for_selector("#performance table")
            page.wait_for_function(DRAWN)
            page.screenshot(path=str(DOCS / name), full_page=True)
            if offline.blocked:
                print(f"blocked requests: {offline.blocked}", file=sys.stderr)
                return 1
            print(f"wrote docs/{name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
