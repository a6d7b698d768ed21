"""Prometheus metrics, kept in a per-app registry (no process-global state)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.requests = Counter("audience_http_requests", "HTTP requests",
                                ["path", "method", "status"], registry=self.registry)
        self.latency = Histogram("audience_http_request_seconds", "HTTP request latency",
                                 ["path"], registry=self.registry)
        self.graphql_errors = Counter("audience_graphql_errors", "GraphQL errors by code",
                                      ["code"], registry=self.registry)
        self.events = Counter("audience_events", "Events received",
                              ["outcome"], registry=self.registry)
