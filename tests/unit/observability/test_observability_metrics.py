"""Specification of the runtime's Prometheus instruments: every documented name registered, label
children cached, and /metrics served on loopback in a form Prometheus parses."""

from __future__ import annotations

import os
import socket
import urllib.request
import uuid
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from tradewire.metrics import (
    CHAIN_LATENCY,
    CLOCK_SKEW,
    CONSUMED,
    CONSUMER_LAG,
    DEDUP_HITS,
    DLQ_WRITES,
    HANDLER_DURATION,
    HOP_LATENCY,
    METRIC_NAMES,
    PARKED,
    PRODUCE_ACK,
    PRODUCE_ERRORS,
    PRODUCED,
    cached,
    serve_from_env,
    serve_metrics,
)

EXPOSED_SUFFIX = {"counter": "_total", "info": "_info"}


def exported_names() -> set[str]:
    """The tradewire_* names the default registry exposes (counters with _total, infos with _info)."""
    return {
        family.name + EXPOSED_SUFFIX.get(family.type, "")
        for family in REGISTRY.collect()
        if family.name.startswith("tradewire_")
    }


def scrape(port: int) -> dict[str, set[str]]:
    """family name (as exposed) -> its sample names, from http://127.0.0.1:port/metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {
        family.name + EXPOSED_SUFFIX.get(family.type, ""): {sample.name for sample in family.samples}
        for family in text_string_to_metric_families(text)
    }


def listening_addresses(port: int) -> set[str]:
    """The local IPv4/IPv6 addresses a TCP socket listens on at `port` (from /proc/net/tcp*)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].split(":")
            if fields[3] == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
                raw = bytes.fromhex(address)
                if len(raw) == 4:
                    found.add(socket.inet_ntop(socket.AF_INET, raw[::-1]))
                else:
                    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
                    found.add(socket.inet_ntop(socket.AF_INET6, words))
    return found


def test_every_documented_metric_is_registered_and_every_registered_one_documented() -> None:
    """METRIC_NAMES (which the dashboard and alerts are checked against) is exactly what the runtime exports."""
    assert sorted(METRIC_NAMES) == sorted(exported_names())


def test_cached_returns_the_same_child_for_the_same_labels() -> None:
    """cached(metric, *labels) is metric.labels(*labels), looked up once: same labels, same child."""
    topic = f"unit-{uuid.uuid4().hex[:8]}"
    first = cached(HOP_LATENCY, topic, "market-analysis", "risk")
    assert first is cached(HOP_LATENCY, topic, "market-analysis", "risk")
    assert first is HOP_LATENCY.labels(topic, "market-analysis", "risk")
    assert first is not cached(HOP_LATENCY, topic, "market-analysis", "learning")
    assert cached(HANDLER_DURATION, topic, "risk") is not cached(HOP_LATENCY, topic, "risk", "risk")


def test_served_metrics_listen_on_loopback_and_expose_every_touched_metric() -> None:
    """serve_metrics(0) picks a free port on 127.0.0.1 only; its /metrics parses and holds the process
    info and every metric in METRIC_NAMES once it has a sample."""
    topic = f"unit-{uuid.uuid4().hex[:8]}"
    cached(HOP_LATENCY, topic, "market-analysis", "risk").observe(0.001)
    cached(HANDLER_DURATION, topic, "risk").observe(0.0002)
    cached(PRODUCE_ACK, topic).observe(0.003)
    cached(CHAIN_LATENCY, topic).observe(0.02)
    cached(PRODUCED, topic, "market-analysis").inc()
    cached(PRODUCE_ERRORS, topic, "delivery").inc()
    cached(CONSUMED, topic, "risk", "handled").inc()
    cached(DLQ_WRITES, topic, "risk", "poison").inc()
    cached(DEDUP_HITS, f"group-{topic}").inc()
    cached(CLOCK_SKEW, topic, "risk").inc()
    cached(PARKED, topic, "0", "risk").set(0)
    cached(CONSUMER_LAG, topic, "0", "risk").set(3)
    port = serve_metrics(0, agent="unit-agent", role="consumer")
    assert port > 0
    assert {"127.0.0.1"} == listening_addresses(port)
    families = scrape(port)
    assert [] == [name for name in METRIC_NAMES if name not in families]
    assert {
        "tradewire_hop_latency_seconds_bucket",
        "tradewire_hop_latency_seconds_count",
        "tradewire_hop_latency_seconds_sum",
    } <= families["tradewire_hop_latency_seconds"]
    process = {"agent": "unit-agent", "role": "consumer", "clock": "wall (time.time, UTC)", "pid": str(os.getpid())}
    assert 1.0 == REGISTRY.get_sample_value("tradewire_process_info", process)


def test_serving_the_same_port_twice_is_harmless() -> None:
    """serve_metrics is idempotent per port: a second call returns the port and starts nothing."""
    port = serve_metrics(0)
    assert port == serve_metrics(port)
    assert "tradewire_process_info" in scrape(port)


def test_serve_from_env_serves_on_the_configured_port_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without TRADEWIRE_METRICS_PORT nothing is served; with it, /metrics answers on that port."""
    monkeypatch.delenv("TRADEWIRE_METRICS_PORT", raising=False)
    assert serve_from_env("agent", "producer") is None
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = int(probe.getsockname()[1])
    monkeypatch.setenv("TRADEWIRE_METRICS_PORT", str(free))
    assert free == serve_from_env("agent", "producer")
    assert "tradewire_process_info" in scrape(free)
