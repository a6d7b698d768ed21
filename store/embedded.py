"""Speed for the embedded store: mongomock lookups that use indexes instead of scanning.

mongomock answers every query by copying and filtering the whole collection, so a lookup by
``_id`` or by an indexed field costs O(collection), and per-event work grows with history — the
opposite of what the design guarantees on a real server, where those lookups use indexes. This
module gives mongomock the same shape:

- a filter that pins ``_id`` to values (equality or ``$in``) only looks at those documents;
- a filter with an equality (or ``$in``) on the *first field of a declared index* looks up a
  hash index on that field, kept up to date on every insert, in-place update, replace, delete
  and drop.

Candidates are always re-checked by mongomock's own ``filter_applies``, and a document whose
value for an indexed field is not a plain scalar (a list, a sub-document) is a candidate for
every lookup on that field, so results are exactly the unpatched ones, minus the scan. Only the
embedded store (and the tests on it) use mongomock; a real server is untouched.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from bson import ObjectId

_SCALARS = (str, int, float, datetime, ObjectId)
_MISSING = object()


def _scalar(value: Any) -> bool:
    return value is not None and isinstance(value, _SCALARS)


def _wanted(condition: Any) -> list[Any] | None:
    """The values an equality or ``$in`` condition allows, or None for any other condition."""
    if _scalar(condition):
        return [condition]
    if isinstance(condition, dict) and set(condition) == {"$in"} and isinstance(
            condition["$in"], list) and all(_scalar(v) for v in condition["$in"]):
        return list(dict.fromkeys(condition["$in"]))
    return None


class FieldIndex:
    """Hash indexes on top-level fields of one mongomock collection, plus insertion order."""

    def __init__(self, fields: Iterable[str], documents: Iterable[dict[str, Any]]) -> None:
        self.fields = set(fields)
        self.values: dict[str, dict[Any, set[Any]]] = {f: {} for f in self.fields}
        self.unindexable: dict[str, set[Any]] = {f: set() for f in self.fields}
        self.entries: dict[Any, dict[str, Any]] = {}
        self.position: dict[Any, int] = {}
        self.next_position = 0
        for document in documents:
            self.put(_store_key(document["_id"]), document)

    def put(self, key: Any, document: dict[str, Any]) -> None:
        self.remove(key, keep_position=True)
        if key not in self.position:
            self.position[key] = self.next_position
            self.next_position += 1
        entry: dict[str, Any] = {}
        for field in self.fields:
            value = document.get(field, _MISSING)
            if value is _MISSING:
                continue
            if _scalar(value):
                self.values[field].setdefault(value, set()).add(key)
            else:
                self.unindexable[field].add(key)
            entry[field] = value
        self.entries[key] = entry

    def remove(self, key: Any, *, keep_position: bool = False) -> None:
        entry = self.entries.pop(key, None)
        if not keep_position:
            self.position.pop(key, None)
        if entry is None:
            return
        for field, value in entry.items():
            if _scalar(value):
                keys = self.values[field].get(value)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del self.values[field][value]
            else:
                self.unindexable[field].discard(key)

    def candidates(self, field: str, wanted: list[Any]) -> list[Any]:
        keys: set[Any] = set(self.unindexable[field])
        for value in wanted:
            keys |= self.values[field].get(value, set())
        return sorted(keys, key=lambda k: self.position.get(k, 0))


def _store_key(document_id: Any) -> Any:
    if isinstance(document_id, dict):
        from mongomock import helpers

        return helpers.hashdict(document_id)
    return document_id


def _indexed_fields(store: Any) -> set[str]:
    """First fields of the collection's declared indexes (top-level fields only)."""
    fields = set()
    for index in store.indexes.values():
        first = list(index.get("key", [("_id", 1)]))[0][0]
        if first != "_id" and "." not in first:
            fields.add(first)
    return fields


def _field_index(store: Any) -> FieldIndex | None:
    """The collection's field index, built on first use and rebuilt when indexes change."""
    fields = _indexed_fields(store)
    if not fields:
        return None
    index: FieldIndex | None = getattr(store, "audience_field_index", None)
    if index is None or index.fields != fields:
        index = FieldIndex(fields, list(store._documents.values()))
        store.audience_field_index = index
    return index


def speed_up_mongomock() -> None:
    """Install the index fast paths into mongomock (idempotent)."""
    from mongomock import collection as mongomock_collection
    from mongomock import store as mongomock_store
    from mongomock.filtering import filter_applies

    collection_cls = mongomock_collection.Collection
    store_cls = mongomock_store.CollectionStore
    original_iter = collection_cls._iter_documents
    if getattr(original_iter, "index_fast_path", False):
        return
    original_ensure = collection_cls._ensure_uniques
    original_set, original_del, original_drop = (
        store_cls.__setitem__, store_cls.__delitem__, store_cls.drop)

    def keep_index(store: Any, key: Any, document: dict[str, Any] | None) -> None:
        index: FieldIndex | None = getattr(store, "audience_field_index", None)
        if index is None:
            return
        if document is None:
            index.remove(key)
        else:
            index.put(key, document)

    def setitem(self: Any, key: Any, value: Any) -> None:
        original_set(self, key, value)
        keep_index(self, key, value)

    def delitem(self: Any, key: Any) -> None:
        original_del(self, key)
        keep_index(self, key, None)

    def drop(self: Any) -> None:
        original_drop(self)
        self.audience_field_index = None

    def ensure_uniques(self: Any, new_data: dict[str, Any]) -> None:
        # Called after every insert and in-place update: the moment the index must follow.
        keep_index(self._store, _store_key(new_data["_id"]), new_data)
        original_ensure(self, new_data)

    def iter_documents(self: Any, filter_: Any) -> Iterator[dict[str, Any]]:
        store = self._store
        if not isinstance(filter_, dict) or store.is_empty:
            return original_iter(self, filter_)
        keys: list[Any] | None = None
        if "_id" in filter_:
            keys = _wanted(filter_["_id"])
        if keys is None:
            index = _field_index(store)
            if index is not None:
                for field in filter_:
                    if field in index.fields:
                        wanted = _wanted(filter_[field])
                        if wanted is not None:
                            keys = index.candidates(field, wanted)
                            break
        if keys is None:
            return original_iter(self, filter_)
        documents = store._documents
        found = [documents[k] for k in keys
                 if k in documents and filter_applies(filter_, documents[k])]
        return iter(found)

    iter_documents.index_fast_path = True  # type: ignore[attr-defined]
    # Replacing mongomock's methods is the point of this module (the originals are kept and
    # called above), so mypy's method-assign check is silenced for exactly these assignments.
    store_cls.__setitem__ = setitem  # type: ignore[method-assign]
    store_cls.__delitem__ = delitem  # type: ignore[method-assign]
    store_cls.drop = drop  # type: ignore[method-assign]
    collection_cls._ensure_uniques = ensure_uniques  # type: ignore[method-assign]
    collection_cls._iter_documents = iter_documents  # type: ignore[method-assign]
