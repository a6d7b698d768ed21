"""schema.graphql and docs/api-reference.md are what the code's schema prints: regenerate
them with ``make schema`` after a schema change."""

from __future__ import annotations

import pytest

from api.schema_export import ROOT, generated


@pytest.mark.parametrize("path", list(generated()), ids=lambda p: p.name)
def test_committed_schema_files_match_the_code(path):
    expected = generated()[path]
    committed = path.read_text(encoding="utf-8") if path.exists() else ""
    assert committed == expected, (
        f"{path.relative_to(ROOT)} is out of date: run `make schema` and commit the result")
