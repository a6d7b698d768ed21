"""The dashboard page and its assets are served by the server itself, with no token, and the
vendored Chart.js is the build package-lock.json pins (`make assets` refreshes it)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from api.dashboard import STATIC_DIR

ROOT = Path(__file__).resolve().parents[2]


async def test_the_page_and_every_asset_it_names_are_served_without_a_token(api):
    page = await api.http.get("/dashboard")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp
    assets = re.findall(r'(?:src|href)="(/[^"]+)"', page.text)
    assert "/dashboard/assets/vendor/chart.umd.min.js" in assets
    assert "<script>" not in page.text and "style=" not in page.text  # nothing inline
    for path in assets:
        response = await api.http.get(path)
        assert response.status_code == 200, path
        assert response.content, path
    assert (await api.http.get("/dashboard/assets/../dashboard.py")).status_code == 404


def test_the_vendored_chart_js_is_the_locked_version():
    lock = json.loads((ROOT / "package-lock.json").read_text())
    version = lock["packages"]["node_modules/chart.js"]["version"]
    vendored = (STATIC_DIR / "vendor" / "chart.umd.min.js").read_text()
    assert vendored.startswith(f"/*!\n * Chart.js v{version}\n"), "run `make assets`"
