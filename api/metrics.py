"""Prometheus metrics, kept in a per-app registry (no process-global state)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from domain.queue import JobStatus, SegmentHealth
from services.kpis import ComputationOutcome, KpiGauges


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
        # contract section 8: outcome is accepted, duplicate or refused
        self.events = Counter("audience_events", "Events received, by type and outcome",
                              ["type", "outcome"], registry=self.registry)
        # one per round trip to the store, counted by the store adapter (store/adapter.py)
        self.store_operations = Counter("audience_store_operations",
                                        "Round trips to the store",
                                        ["collection", "operation"], registry=self.registry)
        # Queue figures: set from the store each time /metrics is scraped (observe_health).
        self.store_up = Gauge("audience_store_up", "1 when the store answered the last scrape",
                              registry=self.registry)
        # contract section 8 (a KPI): priority "all" sums every priority
        self.queue_jobs = Gauge("audience_queue_depth", "Segment jobs by priority and status",
                                ["priority", "status"], registry=self.registry)
        # the product's KPIs (contract section 8, services/kpis.py)
        self.segment_coverage = Gauge("audience_segment_coverage_ratio",
                                      "Share of viewers with an interaction who hold a segment "
                                      "(per creator they interacted with), 0-1",
                                      registry=self.registry)
        self.refresh_age = Gauge("audience_analytics_refresh_age_seconds",
                                 "Age of the oldest creator release still current",
                                 registry=self.registry)
        self.impressions = Counter("audience_discovery_impressions",
                                   "Creators shown to viewers by discovery (written)",
                                   registry=self.registry)
        self.conversions = Counter("audience_discovery_conversions",
                                   "Impressions followed within 24 h by a paid interaction "
                                   "with their creator", registry=self.registry)
        self.computations = Counter("audience_segment_computations",
                                    "Pair classifications by outcome",
                                    ["outcome"], registry=self.registry)
        for outcome in ComputationOutcome:
            self.computations.labels(outcome.value)  # every outcome exported from the start
        self.queue_failed_24h = Gauge("audience_queue_failed_last_24h",
                                      "Jobs marked failed in the last 24 hours",
                                      registry=self.registry)
        self.queue_oldest_pending = Gauge("audience_queue_oldest_pending_age_seconds",
                                          "Age of the oldest pending job (0 when none)",
                                          registry=self.registry)
        self.queue_overdue = Gauge("audience_queue_max_overdue_seconds",
                                   "How far past due the most overdue pending job is",
                                   registry=self.registry)
        self.compute_seconds = Gauge("audience_segment_compute_seconds",
                                     "Per-pair recomputation time in this process",
                                     ["quantile"], registry=self.registry)
        self.threshold_cache_hit_ratio = Gauge("audience_threshold_cache_hit_ratio",
                                               "Threshold reads served from the cache, 0-1",
                                               registry=self.registry)
        self.daily_run_finished = Gauge("audience_daily_run_last_finished_timestamp_seconds",
                                        "When the last daily run finished (0: never)",
                                        registry=self.registry)
        self.dead_letters = Gauge("audience_dead_letters",
                                  "Records set aside after their attempts ran out, by source",
                                  ["source"], registry=self.registry)
        self.queue_workers = Gauge("audience_queue_workers_seen",
                                   "Workers that reported within the last hour",
                                   registry=self.registry)

    def count_event(self, event_type: str, outcome: str) -> None:
        """The ingestion port: one event's outcome."""
        self.events.labels(event_type, outcome).inc()

    def count_store_operation(self, collection: str, operation: str) -> None:
        """The store adapter's port: one round trip."""
        self.store_operations.labels(collection, operation).inc()

    # the KPI port (services/kpis.py KpiCounters)
    def count_impressions(self, n: int) -> None:
        self.impressions.inc(n)

    def count_conversions(self, n: int) -> None:
        self.conversions.inc(n)

    def count_computations(self, outcome: str, n: int) -> None:
        if n:
            self.computations.labels(outcome).inc(n)

    def observe_kpis(self, gauges: KpiGauges | None) -> None:
        """Set the KPI gauges from a fresh read (``None``: the store did not answer)."""
        if gauges is not None:
            self.segment_coverage.set(gauges.coverage_ratio)
            self.refresh_age.set(gauges.refresh_age_seconds)

    def observe_health(self, health: SegmentHealth | None) -> None:
        """Set the queue gauges from a fresh health read (``None``: the store did not answer)."""
        self.store_up.set(0 if health is None else 1)
        if health is None:
            return
        self.queue_jobs.clear()  # a priority/status pair that emptied must not linger
        for status in JobStatus:
            self.queue_jobs.labels("all", status.value).set(health.jobs(status))
        for row in health.depth:
            self.queue_jobs.labels(str(row.priority), row.status.value).set(row.jobs)
        self.queue_failed_24h.set(health.failed_last_24h)
        self.queue_oldest_pending.set(health.oldest_pending_age_seconds or 0.0)
        self.queue_overdue.set(health.max_overdue_seconds or 0.0)
        for name, value in (("0.5", health.compute_p50_seconds),
                            ("0.95", health.compute_p95_seconds)):
            self.compute_seconds.labels(name).set(value if value is not None else float("nan"))
        self.threshold_cache_hit_ratio.set(health.threshold_cache_hit_rate)
        run = health.last_daily_run
        self.daily_run_finished.set(run.finished_at.timestamp()
                                    if run is not None and run.finished_at else 0)
        self.queue_workers.set(len(health.workers))
        for source, n in (health.dead_letters or {}).items():
            self.dead_letters.labels(source.value).set(n)
