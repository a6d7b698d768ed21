"""README and docs/ stand on their own: every link stays inside the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
URL = re.compile(r"\bhttps?://([^/\s`'\"):]+)")
LOCAL_HOSTS = {"127.0.0.1", "localhost", "test"}


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_links_stay_inside_the_repository(doc):
    text = doc.read_text(encoding="utf-8")
    assert "../shared" not in text
    outside = [host for host in URL.findall(text) if host not in LOCAL_HOSTS]
    assert not outside, f"{doc.name} points outside the repository: {outside}"
    for target in LINK.findall(text):
        resolved = (doc.parent / target).resolve()
        assert resolved.is_relative_to(ROOT) and resolved.exists(), (doc.name, target)
