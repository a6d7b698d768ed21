"""Many single-document writes in one round trip: ``bulk_write(ordered=False)``.

A batch of events (or of segment changes) touches many documents; each document's update stays
the atomic single-document write it was, but all of them travel in one request. Unordered, so
one failing write does not stop the others; the failures come back by index in the error's
details.

The one failure an upsert expects is a duplicate key: the document exists but the filter (which
is not a plain ``_id`` equality: it also says "not counted yet", "older fact") did not match, so
the upsert tried to insert it again — or a concurrent first write created it a moment ago. The
server does not retry such an upsert; the writes that failed so are sent again without
``upsert``, which settles both cases (a no-op in the first, the update in the second).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pymongo import UpdateOne
from pymongo.errors import BulkWriteError

DUPLICATE_KEY = 11000

Filter = Mapping[str, Any]
Update = Mapping[str, Any]


def duplicate_key_failures(error: BulkWriteError) -> set[int]:
    """Indexes of the writes that failed on a duplicate key; re-raises any other failure."""
    failures = error.details.get("writeErrors") or []
    if any(f.get("code") != DUPLICATE_KEY for f in failures):
        raise error
    return {int(f["index"]) for f in failures}


async def update_each(collection: Any, writes: Sequence[tuple[Filter, Update]], *,
                      upsert: bool = True, upsert_retries: int = 0) -> None:
    """Apply each (filter, update) as its own ``update_one``, all in one round trip (plus one
    per retry when some upserts met a duplicate key).

    ``upsert_retries``: times a write that met a duplicate key is sent again *as an upsert*
    before the last, plain attempt — for filters where a concurrent writer may have removed the
    match meanwhile (the queue's pending key), so the document must be created again."""
    pending = list(writes)
    attempts_left = upsert_retries
    while pending:
        as_upsert = upsert and (attempts_left >= 0)
        ops = [UpdateOne(dict(f), dict(u), upsert=as_upsert) for f, u in pending]
        try:
            await collection.bulk_write(ops, ordered=False)
            return
        except BulkWriteError as error:
            failed = duplicate_key_failures(error)
        if not as_upsert:
            return  # a plain update cannot meet a duplicate key; nothing left to settle
        pending = [pending[i] for i in sorted(failed)]
        attempts_left -= 1


#: documents inserted per round trip by :func:`insert_new`
INSERT_PAGE = 5_000


async def insert_new(collection: Any, documents: Sequence[Mapping[str, Any]]) -> int:
    """Insert documents whose ``_id`` is not stored yet (a stored one wins), ``INSERT_PAGE``
    a round trip; how many were new. For backfills of whole documents: an insert costs a
    fraction of an upsert and cannot touch what is already there."""
    inserted = 0
    for start in range(0, len(documents), INSERT_PAGE):
        page = [dict(d) for d in documents[start:start + INSERT_PAGE]]
        try:
            await collection.insert_many(page, ordered=False)
            inserted += len(page)
        except BulkWriteError as error:
            inserted += len(page) - len(duplicate_key_failures(error))
    return inserted
