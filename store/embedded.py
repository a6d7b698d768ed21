"""Speed for the embedded store: ``_id`` lookups in mongomock without a collection scan.

mongomock answers every query by copying and filtering the whole collection, so a lookup by
``_id`` costs O(collection) and per-event work grows with history — the opposite of what the
rollup design guarantees on a real server (where ``_id`` is an index). This patch gives
mongomock the same shape: when a filter pins ``_id`` to hashable values (equality or ``$in``),
only those documents are candidates; every candidate still goes through mongomock's own
``filter_applies``, so results are exactly what the unpatched code returns, minus the scan.
Only the embedded store (and the tests on it) use mongomock; a real server is untouched.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bson import ObjectId

_KEY_TYPES = (str, int, ObjectId)


def _id_candidates(filter_: Any) -> list[Any] | None:
    """The ``_id`` values a filter is limited to, or None when it is not limited that way."""
    if not isinstance(filter_, dict) or "_id" not in filter_:
        return None
    wanted = filter_["_id"]
    if isinstance(wanted, _KEY_TYPES) and not isinstance(wanted, bool):
        return [wanted]
    if isinstance(wanted, dict) and set(wanted) == {"$in"} and isinstance(wanted["$in"], list):
        values = wanted["$in"]
        if all(isinstance(v, _KEY_TYPES) and not isinstance(v, bool) for v in values):
            return list(dict.fromkeys(values))
    return None


def speed_up_mongomock() -> None:
    """Install the ``_id`` fast path into mongomock's Collection (idempotent)."""
    from mongomock import collection as mongomock_collection
    from mongomock.filtering import filter_applies

    original = mongomock_collection.Collection._iter_documents
    if getattr(original, "id_fast_path", False):
        return

    def _iter_documents(self: Any, filter_: Any) -> Iterator[dict[str, Any]]:
        ids = _id_candidates(filter_)
        if ids is None or self._store.is_empty:
            return original(self, filter_)
        store = self._store
        found = []
        for value in ids:
            if value in store:
                document = store[value]
                if filter_applies(filter_, document):
                    found.append(document)
        return iter(found)

    _iter_documents.id_fast_path = True  # type: ignore[attr-defined]
    mongomock_collection.Collection._iter_documents = _iter_documents
