"""Progress for long jobs (``audience rebuild``, demo loading): a rich progress bar on a
terminal, a log line every fifth of the way otherwise (pipes, files, JSON logs)."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

#: called with (done, total) as work advances
Progress = Callable[[int, int], None]

log = logging.getLogger("audience.progress")


@contextmanager
def progress_bar(description: str, *, bar: bool | None = None) -> Iterator[Progress]:
    """``with progress_bar("rebuild") as progress: work(progress)``.

    ``bar`` forces the choice; by default a bar only when stderr is a terminal.
    """
    if bar is None:
        bar = sys.stderr.isatty()
    if not bar:
        yield _logging_progress(description)
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.progress import Progress as RichProgress

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TimeRemainingColumn())
    with RichProgress(*columns, console=Console(stderr=True)) as rich:
        task = rich.add_task(description, total=None)

        def advance(done: int, total: int) -> None:
            rich.update(task, completed=done, total=total)

        yield advance


def _logging_progress(description: str) -> Progress:
    started = time.perf_counter()
    reported = {"fifth": -1}

    def advance(done: int, total: int) -> None:
        fifth = 5 * done // total if total else 5
        if fifth > reported["fifth"]:
            reported["fifth"] = fifth
            log.info("%s: %d/%d (%.1fs)", description, done, total,
                     time.perf_counter() - started)

    return advance
