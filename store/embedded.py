"""The embedded store: mongomock, built from adapter classes that make it behave like MongoDB
where the difference matters here.

The adapter is a set of subclasses the embedded client is built from (nothing in mongomock is
patched globally, so a plain ``mongomock`` client in the same process behaves as shipped; the
tests in tests/integration/test_embedded.py compare the two):

- **Indexes are used.** mongomock answers every query by copying and filtering the whole
  collection, so a lookup by ``_id`` or by an indexed field costs O(collection) and per-event
  work would grow with history, the opposite of a real server. Here a filter that pins ``_id``
  (equality or ``$in``) looks only at those documents, and a filter with equalities (or
  ``$in``) on fields of declared indexes looks up a hash index on each of those fields and
  takes the documents in all of them, kept up to date on every insert, in-place update,
  replace, delete and drop. Candidates are re-checked by mongomock's own ``filter_applies``,
  and a document whose value for an indexed field is not a plain scalar is a candidate for
  every lookup on that field, so results are exactly the unindexed ones, minus the scan.
- **bulk_write works with PyMongo 4.9+**, which passes ``sort=`` to the bulk builder that
  mongomock 4.3 does not accept (a TypeError there, a normal bulk write on MongoDB).

The hooks are mongomock's internal ``_iter_documents`` and ``_ensure_uniques``, which is why
pyproject pins mongomock to 4.3.x.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from bson import ObjectId
from mongomock import helpers
from mongomock.collection import BulkOperationBuilder, Collection
from mongomock.database import Database
from mongomock.filtering import filter_applies
from mongomock.mongo_client import MongoClient
from mongomock.store import CollectionStore, DatabaseStore, ServerStore
from mongomock_motor import AsyncMongoMockClient

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

    def matching(self, field: str, wanted: list[Any]) -> set[Any]:
        """Keys of the documents that may hold one of ``wanted`` in ``field`` (a superset)."""
        keys: set[Any] = set(self.unindexable[field])
        for value in wanted:
            keys |= self.values[field].get(value, set())
        return keys

    def candidates(self, conditions: list[tuple[str, list[Any]]]) -> list[Any]:
        """Keys that may match every (field, wanted values) condition, in insertion order:
        the smallest field's set narrowed by the others, as a compound index's equality
        prefix narrows a real server's scan."""
        sets = sorted((self.matching(field, wanted) for field, wanted in conditions), key=len)
        keys = sets[0].intersection(*sets[1:])
        return sorted(keys, key=lambda k: self.position.get(k, 0))


def _store_key(document_id: Any) -> Any:
    if isinstance(document_id, dict):
        return helpers.hashdict(document_id)
    return document_id


def _indexed_fields(store: Any) -> set[str]:
    """Every top-level field of the collection's declared indexes."""
    fields = set()
    for index in store.indexes.values():
        for name, _ in index.get("key", [("_id", 1)]):
            if name != "_id" and "." not in name:
                fields.add(name)
    return fields


class IndexedCollectionStore(CollectionStore):
    """A collection's documents, plus the field index that follows every change to them."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.field_index: FieldIndex | None = None

    def follow(self, key: Any, document: dict[str, Any] | None) -> None:
        if self.field_index is None:
            return
        if document is None:
            self.field_index.remove(key)
        else:
            self.field_index.put(key, document)

    def __setitem__(self, key: Any, val: Any) -> None:
        super().__setitem__(key, val)
        self.follow(key, val)

    def __delitem__(self, key: Any) -> None:
        super().__delitem__(key)
        self.follow(key, None)

    def drop(self) -> None:
        super().drop()
        self.field_index = None

    def index_for_lookups(self) -> FieldIndex | None:
        """The field index, built on first use and rebuilt when the declared indexes change."""
        fields = _indexed_fields(self)
        if not fields:
            return None
        if self.field_index is None or self.field_index.fields != fields:
            self.field_index = FieldIndex(fields, list(self._documents.values()))
        return self.field_index


class _BulkBuilder(BulkOperationBuilder):
    """mongomock's bulk builder, taking the arguments PyMongo 4.9+ passes (``sort``)."""

    def add_update(self, selector: Any, doc: Any, multi: bool = False, upsert: bool = False,
                   collation: Any = None, array_filters: Any = None, hint: Any = None,
                   sort: Any = None) -> None:
        super().add_update(selector, doc, multi=multi, upsert=upsert, collation=collation,
                           array_filters=array_filters, hint=hint)

    def add_replace(self, selector: Any, doc: Any, upsert: bool, collation: Any = None,
                    hint: Any = None, sort: Any = None) -> None:
        super().add_replace(selector, doc, upsert, collation=collation, hint=hint)


class IndexedCollection(Collection):
    """A mongomock collection whose lookups use the field index of its store."""

    def _ensure_uniques(self, new_data: dict[str, Any]) -> None:
        # Called after every insert and in-place update: the moment the index must follow.
        store = self._store
        if isinstance(store, IndexedCollectionStore):
            store.follow(_store_key(new_data["_id"]), new_data)
        super()._ensure_uniques(new_data)

    def _iter_documents(self, filter_: Any) -> Iterator[dict[str, Any]]:
        store = self._store
        if not isinstance(filter_, dict) or not isinstance(store, IndexedCollectionStore) \
                or store.is_empty:
            return super()._iter_documents(filter_)
        keys: list[Any] | None = None
        if "_id" in filter_:
            keys = _wanted(filter_["_id"])
        if keys is None:
            index = store.index_for_lookups()
            if index is not None:
                conditions = [(field, wanted) for field in filter_ if field in index.fields
                              and (wanted := _wanted(filter_[field])) is not None]
                if conditions:
                    keys = index.candidates(conditions)
        if keys is None:
            return super()._iter_documents(filter_)
        documents = store._documents
        return iter([documents[k] for k in keys
                     if k in documents and filter_applies(filter_, documents[k])])

    def bulk_write(self, requests: Any, ordered: bool = True,
                   bypass_document_validation: bool = False, session: Any = None,
                   **_: Any) -> Any:
        from pymongo.results import BulkWriteResult

        bulk = _BulkBuilder(self, ordered=ordered)
        for operation in requests:
            operation._add_to_bulk(bulk)
        return BulkWriteResult(bulk.execute(), True)

    def with_options(self, *args: Any, **kwargs: Any) -> Any:
        plain = super().with_options(*args, **kwargs)
        if plain is self:
            return self
        return IndexedCollection(plain.database, plain.name, _db_store=self._db_store,
                                 write_concern=plain.write_concern,
                                 read_concern=plain.read_concern,
                                 read_preference=plain.read_preference,
                                 codec_options=plain.codec_options)


class _IndexedDatabaseStore(DatabaseStore):
    def __getitem__(self, col_name: str) -> CollectionStore:
        try:
            return self._collections[col_name]  # type: ignore[no-any-return]
        except KeyError:
            col = self._collections[col_name] = IndexedCollectionStore(col_name)
            return col


class _IndexedServerStore(ServerStore):
    def __getitem__(self, db_name: str) -> DatabaseStore:
        try:
            return self._databases[db_name]  # type: ignore[no-any-return]
        except KeyError:
            db = self._databases[db_name] = _IndexedDatabaseStore()
            return db


class _IndexedDatabase(Database):
    def get_collection(self, name: str, codec_options: Any = None, read_preference: Any = None,
                       write_concern: Any = None, read_concern: Any = None) -> Any:
        if name not in self._collection_accesses:
            self._ensure_valid_collection_name(name)
            self._collection_accesses[name] = IndexedCollection(
                self, name=name, read_concern=read_concern, write_concern=write_concern,
                read_preference=read_preference or self.read_preference,
                codec_options=codec_options or self._codec_options, _db_store=self._store)
        return super().get_collection(name, codec_options=codec_options,
                                      read_preference=read_preference,
                                      write_concern=write_concern, read_concern=read_concern)


class _IndexedMongoClient(MongoClient):
    def get_database(self, name: str | None = None, codec_options: Any = None,
                     read_preference: Any = None, write_concern: Any = None,
                     read_concern: Any = None) -> Any:
        if name is not None and name not in self._database_accesses:
            self._database_accesses[name] = _IndexedDatabase(
                self, name, read_preference=read_preference or self.read_preference,
                codec_options=codec_options or self._codec_options, _store=self._store[name],
                read_concern=read_concern)
        return super().get_database(name, codec_options=codec_options,
                                    read_preference=read_preference,
                                    write_concern=write_concern, read_concern=read_concern)


def embedded_client() -> Any:
    """A motor-compatible client over an in-process mongomock built from the classes above."""
    return AsyncMongoMockClient(mock_mongo_client=_IndexedMongoClient(
        tz_aware=True, _store=_IndexedServerStore()))
