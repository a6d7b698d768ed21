"""The daily run's own memory on the embedded store (the scale bench's meter).

With MongoDB the documents live on the server; in-process, mongomock holds them in the same
heap as the run. The meter counts what the run itself allocates and still holds, and leaves
out the database's part: what mongomock allocates, and what a driver would have sent away.
A MongoDB driver encodes each call's filter, update and documents into BSON and keeps
nothing; mongomock deep-copies containers but keeps numbers and strings by reference, so
without :func:`sent_over_the_wire` every value the run ever wrote would stay traced to the
line that computed it, and the run would seem to hold all it wrote.
"""

from __future__ import annotations

import functools
import pickle
import tracemalloc
from collections import Counter, defaultdict
from contextlib import AbstractContextManager, ExitStack
from fnmatch import fnmatch
from typing import Any
from unittest.mock import patch

from store.adapter import CollectionAdapter

#: where allocations are not the run's (left out of its memory): the embedded database's code
#: (on MongoDB it lives on the server) and this meter, with the copies of what each call
#: sends (``sent_over_the_wire``)
NOT_THE_RUN = ("*/mongomock/*", "*/mongomock_motor/*", "*/copy.py", "*/packaging/*",
               "*/store/embedded.py", "*/bench/memory.py", "*/tracemalloc.py")


class WorkingMemory:
    """The daily run's own peak memory (bytes), sampled (``tracemalloc``) at the start of
    every round trip: the run holds most just before it writes what it built, and sparser
    samples missed a page's peak by chance (the figure moved by a fifth between runs).

    What the run builds and holds (segments, cells, pages) counts; allocations made in
    ``NOT_THE_RUN`` do not. One frame per allocation: with whole stacks the 10x world's run
    takes hours (220x slower than untraced, against 16x with one frame)."""

    def __init__(self) -> None:
        self.peak = 0
        #: the files whose allocations the run held at its peak (the largest first)
        self.peak_by_file: list[tuple[str, int]] = []
        self.samples = 0
        self._base: dict[str, int] = {}
        self._patches = ExitStack()

    def _sample(self) -> None:
        held = Counter(self._by_file())
        held.subtract(self._base)
        for filename in [f for f in held if _not_the_run(f)]:
            del held[filename]
        if held.total() > self.peak:
            self.peak = held.total()
            self.peak_by_file = held.most_common(6)
        self.samples += 1

    @staticmethod
    def _by_file() -> dict[str, int]:
        """Bytes traced now, by the file that allocated them: what ``take_snapshot`` and
        ``statistics`` do, without building objects per allocation (4x faster; a sample
        walks every allocation traced, the database's copies included)."""
        sizes: defaultdict[str, int] = defaultdict(int)
        for trace in tracemalloc._get_traces():  # type: ignore[attr-defined]
            # (domain, size, frames, ...): one frame, (filename, line number)
            sizes[trace[2][0][0]] += trace[1]
        return sizes

    def __enter__(self) -> WorkingMemory:
        self._patches.enter_context(sent_over_the_wire())
        tracemalloc.start(1)
        self._base = self._by_file()
        original = CollectionAdapter.round_trip

        async def sampled(adapter: CollectionAdapter, operation: str) -> None:
            self._sample()
            await original(adapter, operation)

        self._patches.enter_context(patch.object(CollectionAdapter, "round_trip", sampled))
        return self

    def __exit__(self, *exc: object) -> None:
        self._sample()
        tracemalloc.stop()
        self._patches.close()


@functools.cache  # a few hundred file names
def _not_the_run(filename: str) -> bool:
    # matched per file, not per allocation: tracemalloc.Filter matches every trace in Python,
    # seconds a sample once the database holds a few thousand documents
    return any(fnmatch(filename, pattern) for pattern in NOT_THE_RUN)


def _copied(value: Any) -> Any:
    """New objects all through, as decoding BSON makes (allocated here: the database's)."""
    return pickle.loads(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))


def sent_over_the_wire() -> AbstractContextManager[Any]:
    """Every call the adapters make passes a copy of its arguments, as a driver sends one."""
    original = CollectionAdapter._call

    async def copying(adapter: CollectionAdapter, operation: str, *args: Any,
                      **kwargs: Any) -> Any:
        return await original(adapter, operation, *_copied(args), **_copied(kwargs))

    return patch.object(CollectionAdapter, "_call", copying)
