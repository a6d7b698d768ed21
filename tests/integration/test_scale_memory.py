"""The scale bench's memory meter: what the run sends to the database is not the run's memory.

mongomock keeps a written document's numbers by reference; a driver sends a copy and keeps
nothing. Without the copy the daily run's peak would grow with the documents it wrote, not
with what it holds.
"""

from __future__ import annotations

from bench.memory import WorkingMemory
from store.database import Store

VALUES = 10_000
FLOAT_BYTES = 24
BATCH = 100


async def test_values_the_run_wrote_are_left_out_and_values_it_holds_count() -> None:
    store = Store.open(None, "scale_memory_meter")
    probe = store.collection("probe")
    with WorkingMemory() as memory:
        for start in range(0, VALUES, BATCH):  # a batch's documents live only for its call
            await probe.insert_many([{"_id": n, "v": n * 1.5}
                                     for n in range(start, start + BATCH)])
        held = [n * 2.5 for n in range(VALUES)]  # what the run itself keeps until the end
        await probe.count_documents({})  # a round trip: a sample while ``held`` is alive
    assert len(held) == VALUES
    # the held floats and their list count (8 bytes a slot), with one batch in flight; the
    # written ones, now the database's, do not (with them the peak would pass VALUES * 56)
    assert VALUES * FLOAT_BYTES <= memory.peak < VALUES * (FLOAT_BYTES + 8) + 100_000
    assert memory.samples == VALUES // BATCH + 2  # every round trip and the end
    store.close()
