"""Prometheus instruments of the messaging runtime, created once, cheap per message.

Base units (seconds), `_total` counters, and labels that never carry ids or keys: topic,
consumer group, source agent, outcome, reason (and partition for per-partition gauges).

Latency is measured across processes from `produced_at`, the sender's wall clock; it
assumes the agents' clocks agree (NTP keeps hosts within a millisecond or so; agents on one
host share a clock). A negative hop latency can only come from clock skew: it is counted in
`tradewire_clock_skew_events_total` and observed as zero, and the process exports its own
clock offset estimate source in `tradewire_process_info` (the wall clock it used).

A replayed event (from a `TOPIC.replay.GROUP` topic) is not late by its original `produced_at`:
its hop latency is measured from its replay (the `tw.replay.at` header), and how old it is
(now minus its original `produced_at`) goes to `tradewire_replayed_event_age_seconds` instead.

For several processes behind one endpoint, set PROMETHEUS_MULTIPROC_DIR before start-up
(prometheus-client's multiprocess mode); `serve_metrics` then exposes the merged view
(without `tradewire_process_info`: prometheus-client cannot merge Info metrics across processes).
"""

from __future__ import annotations

import os
import threading
from typing import Any, TypeVar

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    start_http_server,
)
from prometheus_client import multiprocess as _multiprocess

__all__ = [
    "AGE_BUCKETS",
    "CHAIN_LATENCY",
    "CLOCK_SKEW",
    "CONSUMED",
    "CONSUMER_LAG",
    "DEDUP_HITS",
    "DLQ_WRITES",
    "HANDLER_DURATION",
    "HOP_LATENCY",
    "LATENCY_BUCKETS",
    "METRIC_NAMES",
    "PARKED",
    "PRODUCED",
    "PRODUCE_ACK",
    "PRODUCE_ERRORS",
    "REPLAYED_AGE",
    "cached",
    "serve_from_env",
    "serve_metrics",
]

LATENCY_BUCKETS = (
    0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.0075,
    0.01, 0.015, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
)  # fmt: skip
"""From 0.1 ms (a sub-millisecond median is visible) to 5 s; the SLO lines (10 ms, 100 ms) are bucket edges."""

HOP_LATENCY = Histogram(
    "tradewire_hop_latency_seconds",
    "Time from an event's produced_at (a replayed event's replay) to the start of its handler, per hop.",
    ["topic", "source_agent", "group"],
    buckets=LATENCY_BUCKETS,
)
AGE_BUCKETS = (1.0, 10.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0, 12 * 3600.0, 86400.0, 3 * 86400.0, 7 * 86400.0,
               14 * 86400.0)  # fmt: skip
"""From a second to the 14 days a dead letter is kept."""

REPLAYED_AGE = Histogram(
    "tradewire_replayed_event_age_seconds",
    "Age of a replayed event when its handler starts: now minus its original produced_at (its hop latency is "
    "measured from the replay).",
    ["topic", "group"],
    buckets=AGE_BUCKETS,
)
HANDLER_DURATION = Histogram(
    "tradewire_handler_duration_seconds",
    "Time a handler took (successful or not).",
    ["topic", "group"],
    buckets=LATENCY_BUCKETS,
)
PRODUCE_ACK = Histogram(
    "tradewire_produce_ack_seconds",
    "Time from handing a record to the producer to the broker's acks=all acknowledgement.",
    ["topic"],
    buckets=LATENCY_BUCKETS,
)
CHAIN_LATENCY = Histogram(
    "tradewire_chain_latency_seconds",
    "Time from the root event's produced_at (the signal) to the produced_at of an event it caused, by its topic.",
    ["topic"],
    buckets=LATENCY_BUCKETS,
)
PRODUCED = Counter("tradewire_events_produced_total", "Events acknowledged by the broker.", ["topic", "agent"])
PRODUCE_ERRORS = Counter(
    "tradewire_produce_errors_total",
    "Sends that failed, by reason (serialization, delivery, queue_full, topic_not_found).",
    ["topic", "reason"],
)
CONSUMED = Counter(
    "tradewire_events_consumed_total",
    "Consumed records by outcome: handled, duplicate, retried, dead_lettered, poison.",
    ["topic", "group", "outcome"],
)
DLQ_WRITES = Counter(
    "tradewire_dlq_writes_total", "Records written to a dead-letter topic, by reason.", ["topic", "group", "reason"]
)
DEDUP_HITS = Counter(
    "tradewire_dedup_hits_total", "Events skipped because the group had already handled them.", ["group"]
)
CLOCK_SKEW = Counter(
    "tradewire_clock_skew_events_total",
    "Events whose produced_at lies in the consumer's future (clock skew between hosts); observed as 0 s.",
    ["topic", "group"],
)
PARKED = Gauge(
    "tradewire_parked_messages",
    "Records waiting behind a retry, per partition.",
    ["topic", "partition", "group"],
    multiprocess_mode="livesum",
)
CONSUMER_LAG = Gauge(
    "tradewire_consumer_lag",
    "Records not yet consumed (high watermark minus position), per partition.",
    ["topic", "partition", "group"],
    multiprocess_mode="livesum",
)
PROCESS = Info("tradewire_process", "The process: agent, role and the clock latency is measured against.")

METRIC_NAMES = (
    "tradewire_hop_latency_seconds",
    "tradewire_handler_duration_seconds",
    "tradewire_produce_ack_seconds",
    "tradewire_chain_latency_seconds",
    "tradewire_events_produced_total",
    "tradewire_produce_errors_total",
    "tradewire_events_consumed_total",
    "tradewire_dlq_writes_total",
    "tradewire_dedup_hits_total",
    "tradewire_clock_skew_events_total",
    "tradewire_replayed_event_age_seconds",
    "tradewire_parked_messages",
    "tradewire_consumer_lag",
    "tradewire_process_info",
)
"""Every metric name the runtime exports (the dashboard and alert tests check against this)."""

M = TypeVar("M")
_children: dict[tuple[int, tuple[str, ...]], Any] = {}
_lock = threading.Lock()


def cached(metric: M, *labels: str) -> M:
    """`metric.labels(*labels)`, looked up once per label set (the hot path pays a dict lookup)."""
    key = (id(metric), labels)
    child = _children.get(key)
    if child is None:
        with _lock:
            child = _children.setdefault(key, metric.labels(*labels))  # type: ignore[attr-defined]
    return child  # type: ignore[return-value]


_server_lock = threading.Lock()
_serving: dict[int, object] = {}


def serve_metrics(port: int, *, agent: str = "", role: str = "", address: str = "127.0.0.1") -> int:
    """Expose /metrics on `address:port` (0 picks a free port); returns the port. Idempotent per port."""
    with _server_lock:
        if port and port in _serving:
            return port
        registry: CollectorRegistry = REGISTRY
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            _multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        PROCESS.info({"agent": agent, "role": role, "clock": "wall (time.time, UTC)", "pid": str(os.getpid())})
        server, _thread = start_http_server(port, addr=address, registry=registry)
        bound = int(server.server_address[1])
        _serving[bound] = server
        return bound


def serve_from_env(agent: str, role: str) -> int | None:
    """Serve metrics on $TRADEWIRE_METRICS_PORT when it is set; returns the port."""
    port = os.environ.get("TRADEWIRE_METRICS_PORT")
    if not port:
        return None
    return serve_metrics(int(port), agent=agent, role=role)
