"""``DeadLetter``: an outbox change or a queue job set aside after its attempts ran out."""

from __future__ import annotations

from datetime import datetime
from typing import TypeAlias

import strawberry

from domain.queue import DeadLetter as DomainDeadLetter
from domain.queue import DeadLetterSource as DomainSource

# Registers the GraphQL enum on the domain class (strawberry.enum returns that same class).
strawberry.enum(DomainSource, name="DeadLetterSource",
                description="Where a dead letter came from.")
DeadLetterSource: TypeAlias = DomainSource


@strawberry.type(description="A record that failed too often to keep retrying, kept for an "
                             "operator: its sweep went on without it.")
class DeadLetter:
    id: strawberry.ID
    source: DeadLetterSource
    key: str = strawberry.field(description="The pair (viewer|creator) or the job's work key.")
    error: str = strawberry.field(description="The last error.")
    attempts: int
    at: datetime = strawberry.field(description="When it was set aside.")
    _letter: strawberry.Private[DomainDeadLetter]

    @classmethod
    def from_domain(cls, d: DomainDeadLetter) -> DeadLetter:
        return cls(id=strawberry.ID(d.id), source=d.source, key=d.key, error=d.error,
                   attempts=d.attempts, at=d.at, _letter=d)
