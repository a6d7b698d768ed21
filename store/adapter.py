"""The one door to the driver: every repository's call to MongoDB goes through
:class:`CollectionAdapter`, which counts it as one round trip.

The count goes to an :class:`OperationCounter`, a port the composition root hands in (the API
counts ``audience_store_operations_total{collection,operation}`` for /metrics; tests and benches
read :class:`CallCounter`). Nothing can bypass it: repositories only ever see adapters.

What counts as one round trip is what costs one on a real server: each write, each
``find_one``, each ``count_documents``; a cursor (``find``, ``aggregate``) is counted once when it
is opened and its first batch read, not per document. A bench may set ``latency_seconds`` to
simulate the network hop each round trip costs against a remote server.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol


class OperationCounter(Protocol):
    """Told about every round trip: the collection and the driver operation."""

    def __call__(self, collection: str, operation: str) -> None: ...


@dataclass
class CallCounter:
    """Round trips by (collection, operation), and in total; one per store."""

    calls: int = 0
    by_operation: dict[tuple[str, str], int] = field(default_factory=dict)
    #: further ports told about every round trip (the API's /metrics counter)
    listeners: list[OperationCounter] = field(default_factory=list)

    def __call__(self, collection: str, operation: str) -> None:
        self.calls += 1
        key = (collection, operation)
        self.by_operation[key] = self.by_operation.get(key, 0) + 1
        for listener in self.listeners:
            listener(collection, operation)


class _Cursor:
    """A driver cursor whose first read is one counted round trip (and its simulated delay).

    ``sort``, ``limit``, ``skip``, ``batch_size`` chain as on motor's cursor.
    """

    def __init__(self, inner: Any, adapter: CollectionAdapter, operation: str) -> None:
        self._inner = inner
        self._adapter = adapter
        self._operation = operation
        self._opened = False
        self._iterator: Any = None

    def sort(self, *args: Any, **kwargs: Any) -> _Cursor:
        self._inner = self._inner.sort(*args, **kwargs)
        return self

    def limit(self, count: int) -> _Cursor:
        self._inner = self._inner.limit(count)
        return self

    def skip(self, count: int) -> _Cursor:
        self._inner = self._inner.skip(count)
        return self

    def batch_size(self, size: int) -> _Cursor:
        self._inner = self._inner.batch_size(size)
        return self

    async def _open(self) -> None:
        if not self._opened:
            self._opened = True
            await self._adapter.round_trip(self._operation)

    async def to_list(self, length: int | None = None) -> list[Any]:
        await self._open()
        return list(await self._inner.to_list(length))

    def __aiter__(self) -> _Cursor:
        return self

    async def __anext__(self) -> Any:
        await self._open()
        if self._iterator is None:
            self._iterator = self._inner.__aiter__()
        return await self._iterator.__anext__()


class CollectionAdapter:
    """One collection, with every driver operation the repositories use, each counted."""

    def __init__(self, inner: Any, name: str, count: OperationCounter,
                 latency_seconds: float = 0.0, *, yields: bool = False) -> None:
        self._inner = inner
        self.name = name
        self._count = count
        self.latency_seconds = latency_seconds
        #: give the event loop a turn on every round trip, as real network I/O does: the
        #: embedded store answers synchronously, so without it a long load (the demo world)
        #: would hold the loop and /healthz would wait for the whole of it
        self.yields = yields

    async def round_trip(self, operation: str) -> None:
        self._count(self.name, operation)
        if self.latency_seconds:
            await asyncio.sleep(self.latency_seconds)
        elif self.yields:
            await asyncio.sleep(0)

    async def _call(self, operation: str, *args: Any, **kwargs: Any) -> Any:
        await self.round_trip(operation)
        method: Callable[..., Any] = getattr(self._inner, operation)
        return await method(*args, **kwargs)

    # reads
    def find(self, *args: Any, **kwargs: Any) -> _Cursor:
        return _Cursor(self._inner.find(*args, **kwargs), self, "find")

    def aggregate(self, pipeline: list[dict[str, Any]], **kwargs: Any) -> _Cursor:
        return _Cursor(self._inner.aggregate(pipeline, **kwargs), self, "aggregate")

    async def find_one(self, *args: Any, **kwargs: Any) -> Any:
        return await self._call("find_one", *args, **kwargs)

    async def count_documents(self, *args: Any, **kwargs: Any) -> int:
        return int(await self._call("count_documents", *args, **kwargs))

    async def estimated_document_count(self) -> int:
        """The collection's metadata count: O(1), no documents read (on a sharded cluster
        the sum of each shard's)."""
        return int(await self._call("estimated_document_count"))

    async def distinct(self, *args: Any, **kwargs: Any) -> list[Any]:
        return list(await self._call("distinct", *args, **kwargs))

    # writes
    async def insert_one(self, *args: Any, **kwargs: Any) -> Any:
        return await self._call("insert_one", *args, **kwargs)

    async def insert_many(self, *args: Any, **kwargs: Any) -> Any:
        return await self._call("insert_many", *args, **kwargs)

    async def update_one(self, *args: Any, **kwargs: Any) -> Any:
        return await self._call("update_one", *args, **kwargs)

    async def update_many(self, *args: Any, **kwargs: Any) -> Any:
        return await self._call("update_many", *args, **kwargs)

    async def replace_one(self, *args: Any, **kwargs: Any) -> Any:
        return await self._call("replace_one", *args, **kwargs)

    async def delete_one(self, *args: Any, **kwargs: Any) -> Any:
        return await self._call("delete_one", *args, **kwargs)

    async def delete_many(self, *args: Any, **kwargs: Any) -> Any:
        return await self._call("delete_many", *args, **kwargs)

    async def find_one_and_update(self, *args: Any, **kwargs: Any) -> Any:
        return await self._call("find_one_and_update", *args, **kwargs)

    async def find_one_and_delete(self, *args: Any, **kwargs: Any) -> Any:
        return await self._call("find_one_and_delete", *args, **kwargs)

    async def bulk_write(self, *args: Any, **kwargs: Any) -> Any:
        return await self._call("bulk_write", *args, **kwargs)

    # administration
    async def create_indexes(self, *args: Any, **kwargs: Any) -> Any:
        return await self._call("create_indexes", *args, **kwargs)

    async def list_indexes(self) -> list[dict[str, Any]]:
        await self.round_trip("list_indexes")
        return [dict(info) async for info in self._inner.list_indexes()]

    async def drop_index(self, name: str) -> None:
        await self._call("drop_index", name)

    async def drop(self) -> None:
        await self._call("drop")


@contextmanager
def document_writes() -> Iterator[Counter[tuple[str, str]]]:
    """Diagnostics (benches, tests): every write naming one document, by (collection, _id),
    for the duration, in every store of the process. A write by a filter on other fields (a
    queue claim, a marking ``$in``) names no single document and is not counted."""
    writes: Counter[tuple[str, str]] = Counter()
    original = CollectionAdapter._call

    async def counting(self: CollectionAdapter, operation: str, *args: Any, **kw: Any) -> Any:
        targets: list[Any] = []
        if operation in ("update_one", "replace_one", "find_one_and_update", "insert_one") and args:
            targets = [args[0]]
        elif operation == "bulk_write" and args:
            targets = [getattr(r, "_filter", None) or getattr(r, "_doc", {}) for r in args[0]]
        elif operation == "insert_many" and args:
            targets = list(args[0])
        for target in targets:
            if isinstance(target, dict) and isinstance(target.get("_id"), str):
                writes[(self.name, target["_id"])] += 1
        return await original(self, operation, *args, **kw)

    CollectionAdapter._call = counting  # type: ignore[method-assign]
    try:
        yield writes
    finally:
        CollectionAdapter._call = original  # type: ignore[method-assign]
