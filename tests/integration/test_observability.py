"""Observability end to end: a real Prometheus scrapes a real consumer's hop latency, and its
estimates, `tradewire latency` and an independent measurement in the handler agree.

How closely they can agree: the consumer observes an event's hop latency on the handler's thread
just before calling the handler; the handler measures the same thing (now - produced_at) as its
first statement. So per event, measured >= observed, and the difference is the observation itself
(microseconds; more when the machine is busy).

* Quantiles: Prometheus's estimate of rank r lies in the bucket of LATENCY_BUCKETS holding the
  r-th smallest observation (inside it, it interpolates linearly, so only the bucket is exact).
  The measured r-th smallest value is the same or, pushed over an edge by the handoff, one
  bucket higher: 0 <= bucket(measured) - bucket(estimate) <= 1.
* Averages are exact (sum / count): the measured average is at least Prometheus's and at most
  1 ms more than it plus the overhead around the handler, bounded by the consumer's own handler
  duration histogram (which includes the observation) minus the handler's own running time.
"""

from __future__ import annotations

import bisect
import contextlib
import io
import json
import logging
import math
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from consumer_support import Background, create_topics, producer, wait_for
from consumer_support import signal as make_signal
from prometheus_support import Prometheus, Result, running_prometheus

from tradewire.cli import main
from tradewire.consumer import Consumer, MessageContext
from tradewire.contracts import AgentHealthReported, AgentRole, HealthStatus, SignalGenerated
from tradewire.logs import configure_logging
from tradewire.metrics import LATENCY_BUCKETS, REGISTRY, serve_metrics
from tradewire.settings import ConsumerSettings

SIGNALS = 200
SEND_INTERVAL_SECONDS = 0.005
AVERAGE_TOLERANCE_SECONDS = 0.001
LOGGED_FIELDS = ("correlation_id", "event_id", "topic", "partition", "offset", "group", "agent")
log = logging.getLogger("tradewire.tests.observability")


@dataclass(frozen=True)
class Handled:
    """What the handler saw of one event: its ids, where it came from, its hop latency as measured
    by the handler, and how long the handler itself ran."""

    correlation_id: str
    event_id: str
    topic: str
    partition: int
    offset: int
    latency: float
    handler_seconds: float


@contextlib.contextmanager
def json_logs() -> Iterator[io.StringIO]:
    """The JSON log lines written inside the block (configure_logging into a buffer; the root
    logger restored after)."""
    root = logging.getLogger()
    kafka = logging.getLogger("tradewire.kafka")
    levels = (root.level, kafka.level)
    output = io.StringIO()
    handler = configure_logging("observability-test", stream=output)
    try:
        yield output
    finally:
        root.removeHandler(handler)
        root.setLevel(levels[0])
        kafka.setLevel(levels[1])


def bucket_index(seconds: float) -> int:
    """Which bucket of LATENCY_BUCKETS holds `seconds`: i for (bound[i-1], bound[i]]; len() for +Inf."""
    return bisect.bisect_left(LATENCY_BUCKETS, seconds)


def nearest_rank(values: list[float], q: float) -> float:
    """The q-quantile of measured values: the ceil(q * n)-th smallest (the rank Prometheus estimates)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def scalar(result: Result) -> float:
    """The value of a single-series instant query result."""
    assert 1 == len(result), result
    return float(result[0]["value"][1])


def wait_for_value(prometheus: Prometheus, expression: str, expected: float) -> float:
    """Wait (bounded) until a single-value query reaches `expected` (later scrapes); return the value."""
    result = prometheus.wait_for(
        expression,
        lambda result: bool(result) and float(result[0]["value"][1]) >= expected,
        timeout=15,
        what=f"{expected:g}",
    )
    return scalar(result)


def prometheus_figures(prometheus: Prometheus, topic: str) -> dict[str, float]:
    """By PromQL: the hop latency p50 and p99 (histogram_quantile over the topic's buckets) and
    average, and the average handler duration."""
    selector = f'{{topic="{topic}"}}'
    buckets = f"sum by (le) (tradewire_hop_latency_seconds_bucket{selector})"

    def average(metric: str) -> float:
        return scalar(prometheus.query(f"sum({metric}_sum{selector}) / sum({metric}_count{selector})"))

    return {
        "p50": scalar(prometheus.query(f"histogram_quantile(0.5, {buckets})")),
        "p99": scalar(prometheus.query(f"histogram_quantile(0.99, {buckets})")),
        "average": average("tradewire_hop_latency_seconds"),
        "handler_duration": average("tradewire_handler_duration_seconds"),
    }


def latency_rows(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, list[dict[str, Any]]]:
    """Run `tradewire latency ... --format json`; its exit code and JSON rows."""
    code = main(["latency", *arguments, "--format", "json"])
    out = capsys.readouterr().out
    return code, [json.loads(line) for line in out.splitlines() if line.strip()]


def milliseconds(figures: dict[str, float]) -> dict[str, float]:
    """Figures in seconds as rounded milliseconds, for the test's printed report."""
    return {name: round(value * 1000, 3) for name, value in figures.items()}


def health_report() -> AgentHealthReported:
    """A health report: the warm-up event proving the consumer has its partitions."""
    return AgentHealthReported(
        agent_id="observability-test",
        role=AgentRole.RISK,
        status=HealthStatus.HEALTHY,
        heartbeat_sequence=1,
        window_seconds=10,
        events_handled=0,
        events_failed=0,
        consumer_lag=0,
        p99_hop_latency_micros=0,
    )


def risk_settings(bootstrap: str, registry: str, prefix: str, group: str, state: Path) -> ConsumerSettings:
    """Settings of the test's consumer: agent "risk", prefixed topics, SQLite dedup in `state`."""
    return ConsumerSettings(
        bootstrap_servers=bootstrap,
        registry_url=registry,
        agent="risk",
        group=group,
        topic_prefix=prefix,
        state_dir=str(state),
    )


def run_signals_through_a_consumer(
    kafka_bootstrap: str, registry_url: str, prefix: str, group: str, state: Path
) -> tuple[list[Handled], int]:
    """Send SIGNALS paced signals to a running consumer (after a warm-up); return what its handler
    saw and how many events it handled in all."""
    create_topics(kafka_bootstrap, 1, prefix + SignalGenerated.TOPIC, prefix + AgentHealthReported.TOPIC)
    sender = producer(kafka_bootstrap, registry_url, prefix)
    consumer = Consumer(risk_settings(kafka_bootstrap, registry_url, prefix, group, state), producer=sender)
    handled: list[Handled] = []
    warmed_up: list[str] = []

    @consumer.handler(SignalGenerated)
    def on_signal(event: SignalGenerated, ctx: MessageContext) -> None:
        started = time.perf_counter()
        latency = time.time() - event.metadata.produced_at.timestamp()
        metadata = event.metadata
        log.info("handled signal %s", metadata.event_id)
        handled.append(
            Handled(
                str(metadata.correlation_id),
                str(metadata.event_id),
                ctx.topic,
                ctx.partition,
                ctx.offset,
                latency,
                time.perf_counter() - started,
            )
        )

    @consumer.handler(AgentHealthReported)
    def on_health(event: AgentHealthReported, ctx: MessageContext) -> None:
        warmed_up.append(event.agent_id)

    running = Background(consumer)
    try:
        # Both topics are assigned in the first rebalance: once the report is handled, no signal
        # waits for the group to form (its latency would be the join time, not a hop).
        sender.send(health_report())
        wait_for(lambda: bool(warmed_up), 30, "the warm-up health report")
        for index in range(SIGNALS):
            sender.send(make_signal("OBS", index))
            time.sleep(SEND_INTERVAL_SECONDS)
        assert 0 == sender.flush(30)
        wait_for(lambda: len(handled) >= SIGNALS, 30, f"{SIGNALS} handled signals")
    finally:
        stats = running.stop()
        sender.close()
    return handled, stats.handled


def test_prometheus_estimates_agree_with_the_measured_hop_latency(
    kafka_bootstrap: str, registry_url: str, unique: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """200 signals through a real consumer, scraped by a real Prometheus: histogram_quantile's p50/p99,
    `tradewire latency --prometheus` and `--metrics` agree with the handler's own measurement to a
    bucket and on the average (see the module docstring); the hop, produced and handled counts are
    the events sent; the handler's log lines carry the message context."""
    prefix = f"obs{unique}."
    topic = prefix + SignalGenerated.TOPIC
    group = f"g{unique}"
    port = serve_metrics(0, agent="observability-test", role="consumer")
    with running_prometheus(tmp_path / "prometheus", port) as prometheus:
        with json_logs() as logs:
            handled, handled_in_all = run_signals_through_a_consumer(
                kafka_bootstrap, registry_url, prefix, group, tmp_path / "state"
            )
        assert (SIGNALS, SIGNALS + 1) == (len(handled), handled_in_all)  # + the warm-up report
        counts = [
            wait_for_value(prometheus, f'sum({metric}{{topic="{topic}"{extra}}})', SIGNALS)
            for metric, extra in (
                ("tradewire_hop_latency_seconds_count", ""),
                ("tradewire_handler_duration_seconds_count", ""),
                ("tradewire_events_produced_total", ""),
                ("tradewire_events_consumed_total", ',outcome="handled"'),
            )
        ]
        assert [SIGNALS] * 4 == counts
        estimated = prometheus_figures(prometheus, topic)
        prometheus_code, prometheus_rows = latency_rows(capsys, "--prometheus", prometheus.url)
    metrics_code, metrics_rows = latency_rows(capsys, "--metrics", f"http://127.0.0.1:{port}/metrics")

    measured = [event.latency for event in handled]
    truth = {
        "p50": nearest_rank(measured, 0.5),
        "p99": nearest_rank(measured, 0.99),
        "average": statistics.mean(measured),
    }
    handoff = estimated["handler_duration"] - statistics.mean(event.handler_seconds for event in handled)
    print(f"\nhop latency of {SIGNALS} signals in ms: measured by the handler {milliseconds(truth)}, "
          f"Prometheus {milliseconds(estimated)}, handoffs to and from the handler {handoff * 1000:.3f}")  # fmt: skip
    for quantile in ("p50", "p99"):
        buckets_apart = bucket_index(truth[quantile]) - bucket_index(estimated[quantile])
        assert 0 <= buckets_apart <= 1, (quantile, truth[quantile], estimated[quantile])
    assert handoff >= 0
    gap = truth["average"] - estimated["average"]
    assert -1e-9 <= gap <= AVERAGE_TOLERANCE_SECONDS + handoff, (truth["average"], estimated["average"], handoff)

    for code, rows in ((prometheus_code, prometheus_rows), (metrics_code, metrics_rows)):
        assert (100 if any(row["ok"] is False for row in rows) else 0) == code
        [row] = [row for row in rows if row["kind"] == "hop" and row["topic"] == topic]
        assert ("market-analysis", group, SIGNALS, 0.010, row["average"] < 0.010) == (
            row["source_agent"],
            row["group"],
            row["count"],
            row["budget"],
            row["ok"],
        )
        assert [estimated["p50"], estimated["p99"], estimated["average"]] == pytest.approx(
            [row["p50"], row["p99"], row["average"]], rel=1e-9
        )

    lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    logged = {line["event_id"]: line for line in lines if line["message"].startswith("handled signal ")}
    assert [
        (event.correlation_id, event.event_id, event.topic, event.partition, event.offset, group, "observability-test")
        for event in handled
    ] == [tuple(logged.get(event.event_id, {}).get(name) for name in LOGGED_FIELDS) for event in handled]


def test_each_event_s_hop_ends_when_its_own_handler_starts_even_late_in_a_batch(
    kafka_bootstrap: str, registry_url: str, unique: str, tmp_path: Path
) -> None:
    """Records reach the handler thread in batches; an event's hop must still end when its own handler
    starts, not when its batch did (later events of a batch wait for the handlers before them). Six
    events already on the topic, a handler of 40 ms: the observed hops add up to what the handler
    measured itself, within 2 ms per event (observing at the batch's start would miss 40 ms for every
    event behind another in its batch)."""
    prefix = f"hop{unique}."
    topic = prefix + SignalGenerated.TOPIC
    group = f"g{unique}"
    create_topics(kafka_bootstrap, 1, topic)
    sender = producer(kafka_bootstrap, registry_url, prefix)
    for index in range(6):
        sender.send(make_signal("HOP", index))
    assert 0 == sender.flush(30)
    sender.close()
    consumer = Consumer(risk_settings(kafka_bootstrap, registry_url, prefix, group, tmp_path))
    measured: list[float] = []

    @consumer.handler(SignalGenerated)
    def on_signal(event: SignalGenerated, ctx: MessageContext) -> None:
        measured.append(time.time() - event.metadata.produced_at.timestamp())
        time.sleep(0.04)

    running = Background(consumer)
    wait_for(lambda: len(measured) == 6, 60, "six handled signals")
    stats = running.stop()
    labels = {"topic": topic, "source_agent": "market-analysis", "group": group}
    observed = REGISTRY.get_sample_value("tradewire_hop_latency_seconds_sum", labels)
    count = REGISTRY.get_sample_value("tradewire_hop_latency_seconds_count", labels)
    assert (6, 6.0) == (stats.handled, count)
    assert observed is not None
    assert 0 <= sum(measured) - observed <= 6 * 0.002, (sum(measured), observed)
