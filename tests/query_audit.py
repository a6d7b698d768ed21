"""The query audit: record every query the store issues, then check each against the shard-key
table (``store/shards.py``) the way a sharded MongoDB would treat it.

``RecordingStore`` wraps each collection handle at the store boundary (``Store.collection``),
so every repository's calls pass through it; it notes the operation, filter, sort, limit and the
repository method that issued it. ``audit`` returns one finding per rule a query breaks:

- **shard key**: a query on a sharded collection without an equality (or ``$in``) on the shard
  key's first field is scatter-gather; an upsert without equalities on the whole key cannot be
  routed. Allowed only for the methods the table lists under ``scatter``.
- **index**: no index (``_id``'s, the ranged shard key's, or a declared one) whose prefix holds
  the equality fields, then the sort fields in order, then the range fields (ESR).
- **bound**: a read or multi-document write with no limit, no pinned ``_id`` and no key range
  reads a set that grows with the data. Allowed only for the rebuild's whole passes.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from store.database import Store
from store.shards import HASHED, MIGRATION, REBUILD, SHARDS, Placement, indexes

#: operations that read documents (the rest write; all of them carry a filter)
READS = {"find", "find_one", "count_documents", "aggregate", "distinct"}
_FILTER_OPS = {"find", "find_one", "count_documents", "update_one", "update_many",
               "replace_one", "delete_one", "delete_many", "find_one_and_update",
               "find_one_and_delete", "find_one_and_replace", "distinct", "aggregate"}
#: an aggregation ending in ``$count``: one number back, bounded like ``count_documents``
COUNTING_AGGREGATE = "aggregate/$count"
_COUNTS = {"count_documents", COUNTING_AGGREGATE}
_SINGLE = {"update_one", "replace_one", "delete_one", "find_one", "find_one_and_update",
           "find_one_and_delete", "find_one_and_replace"}


@dataclass
class Query:
    collection: str
    op: str
    filter: dict[str, Any]
    origin: str
    sort: list[tuple[str, int]] = field(default_factory=list)
    limit: int | None = None
    upsert: bool = False

    def __str__(self) -> str:
        return (f"{self.origin}: {self.collection}.{self.op}({self.filter}"
                f"{', sort=' + str(self.sort) if self.sort else ''}"
                f"{', limit=' + str(self.limit) if self.limit else ''})")


def _origin() -> str:
    """``Class.method`` of the store repository that issued the call."""
    for frame in inspect.stack()[2:]:
        module = frame.frame.f_globals.get("__name__", "")
        if module.startswith("store.") and module not in ("store.database",):
            owner = frame.frame.f_locals.get("self")
            name = frame.function
            if owner is not None:
                return f"{type(owner).__name__}.{name}"
            return f"{module}.{name}"
    return "?"


def _sort_spec(key: Any, direction: Any = None) -> list[tuple[str, int]]:
    if isinstance(key, str):
        return [(key, 1 if direction is None else int(direction))]
    return [(k, int(d)) for k, d in key]


class _Cursor:
    def __init__(self, inner: Any, query: Query) -> None:
        self._inner, self._query = inner, query

    def sort(self, key: Any, direction: Any = None) -> _Cursor:
        self._query.sort = _sort_spec(key, direction)
        self._inner = self._inner.sort(key, direction) if direction is not None \
            else self._inner.sort(key)
        return self

    def limit(self, n: int) -> _Cursor:
        self._query.limit = n
        self._inner = self._inner.limit(n)
        return self

    def batch_size(self, n: int) -> _Cursor:
        self._inner = self._inner.batch_size(n)
        return self

    def __aiter__(self) -> Any:
        return self._inner.__aiter__()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _Recording:
    def __init__(self, inner: Any, name: str, log: list[Query]) -> None:
        self._inner, self._name, self._log = inner, name, log

    def __getattr__(self, op: str) -> Any:
        attr = getattr(self._inner, op)
        if op not in _FILTER_OPS:
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            if op == "aggregate":
                pipeline = args[0] if args else kwargs.get("pipeline", [])
                first = pipeline[0] if pipeline else {}
                flt = dict(first.get("$match", {}))
            elif op == "distinct":
                flt = dict(args[1] if len(args) > 1 else kwargs.get("filter") or {})
            else:
                flt = dict(args[0] if args else kwargs.get("filter") or {})
            query = Query(self._name, op, flt, _origin(), upsert=bool(kwargs.get("upsert")))
            if "sort" in kwargs and kwargs["sort"]:
                query.sort = _sort_spec(kwargs["sort"])
            if op == "aggregate":
                stages = [stage for s in pipeline for stage in s.items()]
                query.sort = next((_sort_spec(list(v.items())) for k, v in stages
                                   if k == "$sort"), [])
                if stages and stages[-1][0] == "$count":
                    query.op = COUNTING_AGGREGATE  # answers one number, like count_documents
            if op in _SINGLE:
                query.limit = 1
            self._log.append(query)
            result = attr(*args, **kwargs)
            return _Cursor(result, query) if op == "find" else result

        return call


class RecordingStore(Store):
    """The store, every collection handle wrapped to record its queries."""

    log: list[Query]

    def collection(self, name: str) -> Any:
        return _Recording(super().collection(name), name, self.log)


def recording(store: Store) -> RecordingStore:
    wrapped = RecordingStore(client=store.client, db=store.db, embedded=store.embedded,
                             counter=store.counter)
    wrapped.log = []
    return wrapped


# --- the rules --------------------------------------------------------------------------------

def _is_equality(condition: Any) -> bool:
    if isinstance(condition, dict):
        return set(condition) <= {"$eq", "$in"} and bool(condition)
    return True  # a plain value (a sub-document compared whole is an equality too)


def _branches(flt: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The filter as a list of conjunctions (each ``$or`` branch with the fields around it)."""
    base = {k: v for k, v in flt.items() if k != "$or"}
    if "$or" not in flt:
        return [base]
    return [{**base, **branch} for branch in flt["$or"]]


def _fields(branch: Mapping[str, Any]) -> tuple[set[str], set[str]]:
    """(equality fields, range fields) of a conjunction; operators like ``$and`` are opaque."""
    equality = {k for k, v in branch.items() if not k.startswith("$") and _is_equality(v)}
    ranged = {k for k, v in branch.items() if not k.startswith("$") and not _is_equality(v)}
    return equality, ranged


def _index_keys(collection: str) -> list[list[tuple[str, Any]]]:
    placement = SHARDS[collection]
    keys = [[("_id", 1)]] + [list(ix.document["key"].items()) for ix in indexes(collection)]
    if placement.key:
        keys.append(list(placement.key))
    return keys


def _serves(index: Sequence[tuple[str, Any]], equality: set[str], sort: list[tuple[str, int]],
            ranged: set[str]) -> bool:
    """Whether ``index`` serves the query by equality–sort–range: its first fields are some of
    the equality fields (any order), the next ones the sort fields in order (all in the index's
    direction or all reversed); what it does not hold is filtered on the documents it found.
    A query none of whose leading fields starts an index is a collection scan. A hashed field
    serves equalities only."""
    names = [name for name, _ in index]
    kinds = dict(index)
    sort = [(f, d) for f, d in sort if f not in equality]
    if any(kinds.get(f) == HASHED for f in ranged | {f for f, _ in sort}):
        return False
    prefix = 0
    while prefix < len(names) and names[prefix] in equality:
        prefix += 1
    if sort:
        window = names[prefix:prefix + len(sort)]
        if window != [f for f, _ in sort]:
            return False
        if len({1 if kinds[f] == d else -1 for f, d in sort}) != 1:
            return False
    if prefix == 0 and not sort and not (names and names[0] in ranged):
        return False  # the index's first field is not in the query: a full index scan
    return True  # fields the index does not hold are filtered on the documents it found


def _bounded(query: Query, branch: Mapping[str, Any], ranged: set[str]) -> bool:
    if query.op in _SINGLE or query.limit:
        return True
    pinned = branch.get("_id")
    if pinned is not None and _is_equality(pinned):
        return True
    return bool(ranged)  # a key range bounds what a page reads


def audit(queries: Iterable[Query], exempt: Mapping[str, Placement] = SHARDS) -> list[str]:
    """Every rule the queries break: one line per rule and issuing method, with an example."""
    findings: dict[tuple[str, str], str] = {}
    for rule, query in _findings(queries, exempt):
        findings.setdefault((rule, f"{query.origin} {query.collection}"), f"{rule}: {query}")
    return sorted(findings.values())


def _findings(queries: Iterable[Query], exempt: Mapping[str, Placement]
              ) -> Iterable[tuple[str, Query]]:
    for query in queries:
        placement = exempt[query.collection]
        listed = query.origin in placement.scatter
        # only a rebuild's (or a test's) whole-collection pass may read without a bound
        whole = placement.scatter.get(query.origin) in (REBUILD, MIGRATION)
        # a one-time migration looks for leftovers of an old shape, which no index holds
        migration = placement.scatter.get(query.origin) == MIGRATION
        for branch in _branches(query.filter):
            equality, ranged = _fields(branch)
            if placement.key and not listed:
                key = placement.key_fields
                needed = set(key) if query.upsert else {key[0]}
                if not needed <= equality:
                    yield f"shard key {key} missing", query
            scan = not equality and not ranged and not query.sort  # reported as unbounded
            if not scan and not migration and not any(_serves(ix, equality, query.sort, ranged)
                                    for ix in _index_keys(query.collection)):
                yield "no index serves it (ESR)", query
            if not whole and query.op not in _COUNTS and not _bounded(
                    query, branch, ranged):
                yield "unbounded", query
            if query.op == "distinct" and not listed:
                yield "distinct (its answer is one document, capped at 16 MB)", query
