"""The scale bench's memory meter: what the embedded database keeps is not the run's memory.

mongomock keeps a written document's numbers by reference, so without the subtraction the
daily run's peak would grow with the documents it wrote, not with what it holds.
"""

from __future__ import annotations

from bench.scale import WorkingMemory, stored_documents
from store.database import Store

VALUES = 10_000
FLOAT_BYTES = 24


async def test_values_the_database_keeps_are_left_out_and_values_the_run_holds_count() -> None:
    store = Store.open(None, "scale_memory_meter")
    documents = stored_documents(store)
    with WorkingMemory(1, documents) as memory:
        written = [n * 1.5 for n in range(VALUES)]
        await store.db["probe"].insert_many([{"_id": n, "v": v} for n, v in enumerate(written)])
        del written
        held = [n * 2.5 for n in range(VALUES)]  # what the run itself keeps until the end
    assert len(held) == VALUES
    # the held floats and their list count (8 bytes a slot); the written ones, now the
    # database's, do not (with them the peak would pass VALUES * 56)
    assert VALUES * FLOAT_BYTES <= memory.peak < VALUES * (FLOAT_BYTES + 8) + 250_000
    store.close()


async def test_the_meter_sees_the_stored_documents() -> None:
    store = Store.open(None, "scale_memory_documents")
    await store.db["probe"].insert_many([{"_id": n, "v": n * 0.5} for n in range(10)])
    assert sorted(d["_id"] for d in stored_documents(store)()) == list(range(10))
    store.close()
