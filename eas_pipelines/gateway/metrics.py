"""Prometheus metrics of the gateway, in a registry of its own.

One registry per app (not the process-global default) so that several apps in one process (tests,
an embedded deployment) neither collide on registration nor mix their counts.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from eas_pipelines.observability.metrics import register_process_metrics

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class GatewayMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.http_requests = Counter(
            "eas_gateway_http_requests_total",
            "HTTP requests answered, by route template, method and status code.",
            ["method", "endpoint", "status"],
            registry=r,
        )
        self.http_latency = Histogram(
            "eas_gateway_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template and method.",
            ["method", "endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.accepted = Counter(
            "eas_gateway_requests_accepted_total",
            "Accepted requests once routed (counted once each, whether at intake or by the reconciler): "
            "outcome queued or needs_review, lane and priority ('none' where not set).",
            ["outcome", "lane", "priority"],
            registry=r,
        )
        self.classification_failures = Counter(
            "eas_gateway_classification_failures_total",
            "Requests that could not be classified on this try, by reason.",
            ["reason"],
            registry=r,
        )
        self.lane_fallbacks = Counter(
            "eas_gateway_fast_lane_fallbacks_total",
            "Fast-lane requests sent to the standard lane because no worker was alive.",
            registry=r,
        )
        self.enqueue_failures = Counter(
            "eas_gateway_fast_lane_enqueue_failures_total",
            "Queued requests whose fast-lane enqueue failed (Redis); the reconciler enqueues them again.",
            registry=r,
        )
        self.nlp_replica_up = Gauge(
            "eas_gateway_nlp_replica_up",
            "1 when the NLP replica is in rotation, 0 while it is ejected.",
            ["replica"],
            registry=r,
        )
        self.nlp_calls = Counter(
            "eas_gateway_nlp_calls_total",
            "Calls to NLP replicas (parses and health checks), by outcome.",
            ["replica", "outcome"],
            registry=r,
        )
        self.nlp_latency = Histogram(
            "eas_gateway_nlp_call_duration_seconds",
            "Duration of calls to NLP replicas.",
            ["replica"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.auth_failures = Counter(
            "eas_gateway_auth_failures_total",
            "Requests refused by authentication (401) or authorisation (403), by reason.",
            ["reason"],
            registry=r,
        )
        self.rate_limited = Counter(
            "eas_gateway_rate_limited_total", "Requests refused with 429.", registry=r
        )
        self.rate_limit_degraded = Counter(
            "eas_gateway_rate_limit_degraded_total",
            "Requests let through unlimited because Redis was unreachable.",
            registry=r,
        )
        self.reconciled = Counter(
            "eas_gateway_reconciled_total",
            "Requests left 'received' that the reconciler tried again, by outcome.",
            ["outcome"],
            registry=r,
        )
        self.decisions = Counter(
            "eas_gateway_approval_decisions_total", "Approval decisions recorded.", ["decision"], registry=r
        )
        # The process-wide catalog too (eas_requests_total, process_cpu_seconds_total...): one /metrics.
        register_process_metrics(r)

    def observe_replica_state(self, replica: str, available: bool) -> None:
        self.nlp_replica_up.labels(replica).set(1 if available else 0)

    def observe_nlp_call(self, replica: str, outcome: str, seconds: float) -> None:
        self.nlp_calls.labels(replica, outcome).inc()
        self.nlp_latency.labels(replica).observe(seconds)

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
