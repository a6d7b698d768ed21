"""graphql-http's server audit (the GraphQL over HTTP specification's reference suite, npm
package pinned in package.json) against a live server: 0 errors, 0 warnings. ``make test``
installs the package (npm ci) before running this."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from tests.browser.live import live_server

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "graphql_http_audit.mjs"


def test_graphql_http_audit_passes_without_warnings():
    node = shutil.which("node")
    assert node, "Node.js runs the graphql-http audit (README: Two commands)"
    assert (ROOT / "node_modules" / "graphql-http").is_dir(), (
        "npm packages missing: `make test` installs them (npm ci)")
    with live_server(creators=2, viewers=10) as live:
        run = subprocess.run([node, str(SCRIPT), f"{live.base_url}/graphql"], cwd=ROOT,
                             capture_output=True, text=True, timeout=180, check=False)
    lines = run.stdout.strip().splitlines()
    assert lines, run.stderr
    counts = json.loads(lines[-1])
    problems = [line for line in lines if line.startswith(("WARN", "ERROR"))]
    assert counts["error"] == 0 and counts["warn"] == 0, "\n".join(problems)
    assert run.returncode == 0 and counts["ok"] > 50, run.stdout + run.stderr
