"""Latency benchmark: hop and chain latency through tradewire beside raw confluent-kafka, same broker, same run.

Needs a running broker and registry (`tradewire dev up`, or TRADEWIRE_BOOTSTRAP_SERVERS and
TRADEWIRE_REGISTRY_URL). Every topic is fresh (a unique prefix per run, one partition each).
Every sender is paced: one event every 1/rate seconds on an absolute schedule (sleeping in
between, never spinning), not a burst, so the figures are latency, not a drained backlog;
how far a sender fell behind its schedule is printed. Each path first waits until its
consumers are assigned and deliver (warm-up events, left out of the figures), and every
measured phase follows --warmup unmeasured events; the phases of the two paths alternate
(--rounds), so both see the same machine noise. All clocks are this host's time.time().

hop, produce -> consume (consumers in this process, in threads; senders in the main thread,
or with --sender-process in a child process, as when agents are separate processes):
  raw confluent-kafka: a producer (acks=all, idempotence, lz4, tradewire's latency-profile
    linger) sends the bytes of an encoded signal with its send time in a header; a plain
    consumer (poll() one record at a time, auto-commit) reads it; latency = receipt - send.  <- baseline
  tradewire: Producer.send(SignalGenerated) to a Consumer (decode, SQLite dedup, offsets
    committed after processing); the handler records time.time() - event.metadata.produced_at
    when it starts.
  Also printed: produce -> acks=all acknowledgement for the same sends, and the CPU time per
  measured event of each process (librdkafka's threads included), which is what queueing on
  a small machine comes from.

chain, 4 hops (signal -> risk assessed -> personality variance -> order placed -> last handler;
the three middle agents are processes of their own, as in production; the last one is here):
  raw confluent-kafka: relays forward the bytes and headers unchanged (no decode);
    latency = the last receipt - the root's send time.  <- baseline
  tradewire: the agents' handlers build the next event and `ctx.send(...)` it; the last
    handler records time.time() - ctx.root_time (the signal's produced_at) when it starts.

Targets (the issue): tradewire hop p50 within 1.3x of raw; hop p50 <= 2 ms and p99 <= 10 ms at
1k events/s with acks=all, idempotence, commits and dedup on; chain p99 <= 25 ms. The chain
runs at --chain-rate signals/s (default 250: 1k events/s over its four topics).

Run: .venv/bin/python bench/latency.py [--events 6000] [--rate 1000] [--chain-events 2000]
     [--chain-rate 250] [--rounds 2] [--warmup 500] [--sender-process] [--skip-hop | --skip-chain]
     [--linger-ms 0.5] [--consumer-setting KEY=VALUE ...] [--producer-setting KEY=VALUE ...]
     [--json results.json]
--consumer-setting / --producer-setting take ConsumerSettings / ProducerSettings field names or
librdkafka keys (e.g. dedup_store=none, fetch.wait.max.ms=5), applied to tradewire's clients only.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import hashlib
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import Any

import confluent_kafka
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

import tradewire
from tradewire.avro.record import Event
from tradewire.consumer import Consumer, MessageContext
from tradewire.contracts import (
    EventMetadata,
    OrderPlaced,
    OrderSide,
    OrderType,
    PersonalityMood,
    PersonalityVarianceApplied,
    RiskDecision,
    SignalDirection,
    SignalGenerated,
    SignalRiskAssessed,
    TimeInForce,
)
from tradewire.producer import Delivery, Producer
from tradewire.settings import ConsumerSettings, ProducerSettings, apply_overrides

ROOT = Path(__file__).resolve().parents[1]
TARGET_RATIO = 1.3
TARGET_HOP_P50 = 0.002
TARGET_HOP_P99 = 0.010
TARGET_CHAIN_P99 = 0.025
CHAIN = (SignalGenerated, SignalRiskAssessed, PersonalityVarianceApplied, OrderPlaced)
CHAIN_AGENTS = ("risk", "personality", "execution")
SENT_HEADER = "bench_sent"
PHASE_HEADER = "bench_phase"
WARM = "warm"
READY_TIMEOUT = 120.0


# -- samples ------------------------------------------------------------------------------------------
class Samples:
    """Latencies (seconds) by phase, appended from consumer threads, awaited from the main thread."""

    def __init__(self) -> None:
        self._by_phase: dict[str, list[float]] = {}
        self._changed = threading.Condition()

    def add(self, phase: str, seconds: float) -> None:
        with self._changed:
            self._by_phase.setdefault(phase, []).append(seconds)
            self._changed.notify_all()

    def count(self, phase: str) -> int:
        with self._changed:
            return len(self._by_phase.get(phase, ()))

    def wait(self, phase: str, count: int, timeout: float) -> list[float]:
        """The latencies of `phase` once `count` arrived; fails naming what is missing after `timeout`."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self._by_phase.get(phase, ())) < count:
                remaining = deadline - time.monotonic()
                have = len(self._by_phase.get(phase, ()))
                assert remaining > 0, f"phase {phase}: {have} of {count} events arrived within {timeout:.0f} s"
                self._changed.wait(min(remaining, 0.5))
            return list(self._by_phase[phase])


def percentile(values: list[float], fraction: float) -> float:
    """The `fraction` quantile (nearest rank) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def summary(values: list[float]) -> dict[str, float]:
    """Count, p50, p95, p99 and max, in milliseconds."""
    return {
        "count": len(values),
        "p50_ms": percentile(values, 0.50) * 1000,
        "p95_ms": percentile(values, 0.95) * 1000,
        "p99_ms": percentile(values, 0.99) * 1000,
        "max_ms": max(values) * 1000,
    }


# -- pacing ---------------------------------------------------------------------------------------------
def paced(count: int, rate: float, send: Callable[[int], None], wait: Callable[[float], None]) -> float:
    """Call `send(i)` for i in range(count), the i-th at start + i/rate; returns the worst lateness (s).

    A late sender does not skip slots, it catches up; the lateness says whether it had to.
    """
    interval = 1.0 / rate
    start = time.perf_counter()
    worst = 0.0
    for index in range(count):
        due = start + index * interval
        now = time.perf_counter()
        while now < due:
            wait(due - now)
            now = time.perf_counter()
        worst = max(worst, now - due)
        send(index)
    return worst


# -- raw confluent-kafka ---------------------------------------------------------------------------------
def raw_producer_config(bootstrap: str, linger_ms: float) -> dict[str, Any]:
    """The raw producer: the guarantees and batching tradewire's latency profile uses."""
    return {
        "bootstrap.servers": bootstrap,
        "acks": "all",
        "enable.idempotence": True,
        "compression.type": "lz4",
        "linger.ms": linger_ms,
    }


def _header_pairs(message: confluent_kafka.Message) -> list[tuple[str, Any]]:
    """A record's headers as (name, value) pairs (librdkafka hands them over as a list)."""
    raw: Any = message.headers() or []
    return list(raw)


class RawReceiver:
    """A plain confluent-kafka consumer in a thread: poll one record at a time, auto-commit."""

    def __init__(self, bootstrap: str, topic: str, samples: Samples) -> None:
        self.samples = samples
        self._consumer = confluent_kafka.Consumer(
            {"bootstrap.servers": bootstrap, "group.id": f"raw-{uuid.uuid4().hex}", "auto.offset.reset": "earliest"}
        )
        self._consumer.subscribe([topic])
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"raw-receiver-{topic}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopping.is_set():
            message = self._consumer.poll(0.1)
            if message is None or message.error() is not None:
                continue
            received = time.time()
            headers = {name: value for name, value in _header_pairs(message) if isinstance(value, bytes)}
            self.samples.add(headers[PHASE_HEADER].decode(), received - float(headers[SENT_HEADER]))
        self._consumer.close()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(30)


class RawSender:
    """A raw producer that stamps the send time and phase into headers and times the acks."""

    def __init__(self, bootstrap: str, linger_ms: float, topic: str, value: bytes) -> None:
        self._producer = confluent_kafka.Producer(raw_producer_config(bootstrap, linger_ms))
        self.topic = topic
        self.value = value
        self.acks: list[float] = []

    def send(self, phase: str) -> None:
        started = time.perf_counter()
        measured = phase != WARM

        def acknowledged(error: confluent_kafka.KafkaError | None, message: confluent_kafka.Message) -> None:
            assert error is None, error
            if measured:
                self.acks.append(time.perf_counter() - started)

        headers: list[tuple[str, str | bytes | None]] = [
            (SENT_HEADER, repr(time.time()).encode()),
            (PHASE_HEADER, phase.encode()),
        ]
        self._producer.produce(self.topic, value=self.value, key=b"BENCH", headers=headers, on_delivery=acknowledged)
        self._producer.poll(0)

    def wait(self, seconds: float) -> None:
        """Sleep while serving delivery reports (so ack times are not delayed by the pacing)."""
        deadline = time.perf_counter() + seconds
        remaining = seconds
        while remaining > 0:
            if remaining >= 0.001:
                self._producer.poll(remaining)
            else:  # librdkafka counts whole milliseconds: poll(0.0005) would not wait, and spin
                time.sleep(remaining)
            remaining = deadline - time.perf_counter()

    def flush(self) -> None:
        assert self._producer.flush(30) == 0


def raw_relay(bootstrap: str, source: str, target: str, linger_ms: float, stopping: threading.Event) -> None:
    """Forward every record of `source` to `target` unchanged (value, key, headers), until `stopping`."""
    consumer = confluent_kafka.Consumer(
        {"bootstrap.servers": bootstrap, "group.id": f"raw-relay-{uuid.uuid4().hex}", "auto.offset.reset": "earliest"}
    )
    producer = confluent_kafka.Producer(raw_producer_config(bootstrap, linger_ms))
    consumer.subscribe([source])
    try:
        while not stopping.is_set():
            message = consumer.poll(0.1)
            if message is not None and message.error() is None:
                producer.produce(target, value=message.value(), key=message.key(), headers=message.headers())
            producer.poll(0)
    finally:
        consumer.close()
        producer.flush(30)


# -- tradewire events ------------------------------------------------------------------------------------
def signal_event(phase: str, index: int) -> SignalGenerated:
    """A valid signal (as tests/integration/consumer_support.py builds one); the phase rides in `symbol`."""
    now = datetime.datetime.now(datetime.UTC)
    return SignalGenerated(
        metadata=EventMetadata(
            event_id=uuid.uuid4(), correlation_id=uuid.uuid4(), produced_at=now, source_agent="market-analysis"
        ),
        symbol=phase,
        venue="coinbase",
        direction=SignalDirection.LONG,
        strategy="momentum",
        model_version="1",
        confidence=Decimal("0.5"),
        reference_price=Decimal(index + 1),
        horizon_seconds=60,
        expires_at=now,
    )


def next_in_chain(event: Event) -> Event:
    """What the agent handling `event` sends next (the symbol, hence the phase, carries over)."""
    now = datetime.datetime.now(datetime.UTC)
    if isinstance(event, SignalGenerated):
        return SignalRiskAssessed(
            symbol=event.symbol,
            signal_id=event.metadata.event_id,
            decision=RiskDecision.APPROVED,
            approved_quantity=Decimal("1"),
            max_notional=Decimal("1000"),
            risk_score=Decimal("0.1"),
            valid_until=now,
        )
    if isinstance(event, SignalRiskAssessed):
        return PersonalityVarianceApplied(
            symbol=event.symbol,
            signal_id=event.signal_id,
            profile="steady",
            mood=PersonalityMood.CALM,
            side=OrderSide.BUY,
            base_quantity=event.approved_quantity,
            adjusted_quantity=event.approved_quantity,
            variance_factor=Decimal("1"),
            seed=7,
        )
    if isinstance(event, PersonalityVarianceApplied):
        return OrderPlaced(
            symbol=event.symbol,
            order_id=uuid.uuid4(),
            client_order_id=f"bench-{event.signal_id}",
            venue="coinbase",
            signal_id=event.signal_id,
            side=event.side,
            order_type=OrderType.MARKET,
            time_in_force=TimeInForce.IOC,
            quantity=event.adjusted_quantity,
            placed_at=now,
        )
    raise TypeError(f"{type(event).__name__} ends the chain")


# -- tradewire runtime -----------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Stack:
    """Where and how every client of a run connects; overrides as given on the command line."""

    bootstrap: str
    registry: str
    state: Path
    linger_ms: float
    consumer_overrides: dict[str, Any]
    producer_overrides: dict[str, Any]

    def producer(self, agent: str, prefix: str) -> Producer:
        settings = ProducerSettings(
            bootstrap_servers=self.bootstrap,
            registry_url=self.registry,
            agent=agent,
            auto_register=True,
            topic_prefix=prefix,
            linger_ms=self.linger_ms,
        )
        return Producer(apply_overrides(settings, self.producer_overrides))

    def consumer(self, agent: str, prefix: str, producer: Producer) -> Consumer:
        settings = ConsumerSettings(
            bootstrap_servers=self.bootstrap,
            registry_url=self.registry,
            agent=agent,
            group=f"{prefix}{agent}",
            topic_prefix=prefix,
            state_dir=str(self.state / f"{prefix}{agent}"),
        )
        return Consumer(apply_overrides(settings, self.consumer_overrides), producer=producer)


@contextmanager
def running(consumer: Consumer) -> Iterator[Consumer]:
    """`consumer.run()` in a thread for the duration of the block; stopped and joined after."""
    failure: list[BaseException] = []

    def run() -> None:
        try:
            consumer.run(install_signal_handlers=False)
        except BaseException as error:
            failure.append(error)

    thread = threading.Thread(target=run, name=f"consumer-{consumer.group}", daemon=True)
    thread.start()
    try:
        yield consumer
    finally:
        consumer.stop()
        thread.join(60)
        assert not thread.is_alive(), f"consumer {consumer.group} did not stop"
    if failure:
        raise failure[0]


def agent_main(options: argparse.Namespace) -> int:
    """A chain agent in its own process, until SIGTERM: a tradewire consumer that sends the next
    event, or a raw relay."""
    stack = stack_from(options)
    if options.agent.startswith("raw-relay"):
        stopping = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stopping.set())
        raw_relay(stack.bootstrap, options.source, options.target, stack.linger_ms, stopping)
        return 0
    producer = stack.producer(options.agent, options.prefix)
    consumer = stack.consumer(options.agent, options.prefix, producer)
    event_type = CHAIN[CHAIN_AGENTS.index(options.agent)]
    phases: dict[str, list[float]] = {}  # phase: CPU time at its first and latest event, events

    def forward(event: Event, ctx: MessageContext) -> None:
        mark = phases.setdefault(getattr(event, "symbol", WARM), [time.process_time(), 0.0, 0])
        ctx.send(next_in_chain(event))
        mark[1], mark[2] = time.process_time(), mark[2] + 1

    consumer.add_handler(event_type, forward)
    stats = consumer.run()  # SIGTERM: drain, commit, close
    producer.close()
    measured = [mark for phase, mark in phases.items() if phase.startswith("tradewire-")]
    cpu = sum(last - first for first, last, _ in measured) / max(1, sum(count - 1 for _, _, count in measured))
    print(json.dumps({**dataclasses.asdict(stats), "cpu_us_per_event": cpu * 1e6}))
    return 0


def child_command(options: argparse.Namespace, *arguments: str) -> list[str]:
    """This script as a child process with the run's connection and settings, plus `arguments`."""
    command = [sys.executable, __file__, "--bootstrap", options.bootstrap, "--registry", options.registry]
    command += ["--state-dir", str(options.state_dir), "--linger-ms", str(options.linger_ms)]
    for item in options.consumer_setting:
        command += ["--consumer-setting", item]
    for item in options.producer_setting:
        command += ["--producer-setting", item]
    return [*command, *arguments]


@contextmanager
def agent_processes(options: argparse.Namespace, agents: list[list[str]]) -> Iterator[list[subprocess.Popen[str]]]:
    """Chain agents as child processes of this script; SIGTERM and reaped (by pid) after the block."""
    processes = [
        subprocess.Popen(child_command(options, *arguments), stdout=subprocess.PIPE, text=True) for arguments in agents
    ]
    try:
        yield processes
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


# -- senders ----------------------------------------------------------------------------------------------
class Senders:
    """Both paths' senders into one topic set: a raw producer and a tradewire Producer, paced."""

    def __init__(self, stack: Stack, prefix: str, raw_topic: str) -> None:
        self.tradewire = stack.producer("market-analysis", prefix)
        value = self.tradewire.serializer(signal_event("BENCH", 0), prefix + SignalGenerated.TOPIC)
        self.raw = RawSender(stack.bootstrap, stack.linger_ms, raw_topic, value)
        self.acks: list[float] = []  # floats only: holding the deliveries would grow the heap (and GC pauses)

    def run(self, path: str, phase: str, count: int, rate: float) -> tuple[float, float]:
        """Send `count` events of `phase` on `path` at `rate`, then flush; the sender's worst lateness
        and the CPU time this process spent meanwhile (s)."""
        cpu = time.process_time()
        if path == "raw":
            lateness = paced(count, rate, lambda index: self.raw.send(phase), self.raw.wait)
            self.raw.flush()
            return lateness, time.process_time() - cpu

        def acknowledged(delivery: Delivery) -> None:
            self.acks.append(delivery.result().ack_seconds)

        def send(index: int) -> None:
            self.tradewire.send(signal_event(phase, index), on_delivery=None if phase == WARM else acknowledged)

        lateness = paced(count, rate, send, time.sleep)
        self.tradewire.flush(30)
        return lateness, time.process_time() - cpu

    def close(self) -> dict[str, list[float]]:
        """Flush and close; the acknowledgement times (s) of the measured sends, by path."""
        self.raw.flush()
        self.tradewire.close()
        return {"raw": self.raw.acks, "tradewire": self.acks}


class RemoteSenders:
    """`Senders` in a child process of this script (one JSON line per command and reply), so the
    senders share no interpreter lock with the consumers measured here."""

    def __init__(self, options: argparse.Namespace, prefix: str, raw_topic: str) -> None:
        command = child_command(options, "--sender", "--prefix", prefix, "--target", raw_topic)
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self._process.stdin is not None and self._process.stdout is not None
        self._commands, self._replies = self._process.stdin, self._process.stdout

    def _call(self, command: dict[str, Any]) -> Any:
        self._commands.write(json.dumps(command) + "\n")
        self._commands.flush()
        line = self._replies.readline()
        assert line, f"the sender process died (exit code {self._process.poll()})"
        return json.loads(line)

    def run(self, path: str, phase: str, count: int, rate: float) -> tuple[float, float]:
        lateness, cpu = self._call({"path": path, "phase": phase, "count": count, "rate": rate})
        return float(lateness), float(cpu)

    def close(self) -> dict[str, list[float]]:
        acks: dict[str, list[float]] = self._call({"close": True})
        self._process.wait(30)
        return acks


def sender_main(options: argparse.Namespace) -> int:
    """The child side of `RemoteSenders`: run commands from stdin until told to close."""
    senders = Senders(stack_from(options), options.prefix, options.target)
    for line in sys.stdin:
        command = json.loads(line)
        if command.get("close"):
            print(json.dumps(senders.close()), flush=True)
            return 0
        print(json.dumps(senders.run(command["path"], command["phase"], command["count"], command["rate"])), flush=True)
    senders.close()
    return 0


# -- phases ----------------------------------------------------------------------------------------------
def measure(
    options: argparse.Namespace,
    senders: Senders | RemoteSenders,
    samples: dict[str, Samples],
    *,
    events: int,
    rate: float,
    warmup: int,
) -> dict[str, Any]:
    """Wait until both paths deliver, then alternate warmed-up, paced phases of raw and tradewire;
    by path: every measured latency, the readiness time, the senders' worst lateness, and the CPU
    time of this process and of the sender's process over the measured phases."""
    result: dict[str, Any] = {}
    for path, received in samples.items():
        started = time.monotonic()
        while received.count(WARM) == 0:  # consumers assigned and fed
            assert time.monotonic() - started < READY_TIMEOUT, f"{path}: nothing arrived in {READY_TIMEOUT:.0f} s"
            senders.run(path, WARM, 1, rate)
            time.sleep(0.1)
        result[f"{path}_ready_s"] = time.monotonic() - started
        result[path], result[f"{path}_lateness"] = [], 0.0
        result[f"{path}_cpu_s"] = result[f"{path}_sender_cpu_s"] = 0.0
    per_round = events // options.rounds
    for round_index in range(options.rounds):
        for path in list(samples) if round_index % 2 == 0 else reversed(list(samples)):
            phase = f"{path}-{round_index}"
            senders.run(path, WARM, warmup, rate)
            cpu = time.process_time()
            late, sender_cpu = senders.run(path, phase, per_round, rate)
            result[path] += samples[path].wait(phase, per_round, timeout=60 + 4 * per_round / rate)
            result[f"{path}_cpu_s"] += time.process_time() - cpu
            result[f"{path}_sender_cpu_s"] += sender_cpu
            result[f"{path}_lateness"] = max(result[f"{path}_lateness"], late)
    return result


def make_senders(options: argparse.Namespace, stack: Stack, prefix: str, raw_topic: str) -> Senders | RemoteSenders:
    return RemoteSenders(options, prefix, raw_topic) if options.sender_process else Senders(stack, prefix, raw_topic)


def hop_phases(options: argparse.Namespace, stack: Stack, run: str) -> dict[str, Any]:
    """Raw and tradewire hop phases, alternating; every latency of every round, and the acks."""
    prefix = f"lat{run}h."
    raw_topic = f"{prefix}raw.hop"
    create_topics(stack.bootstrap, raw_topic, prefix + SignalGenerated.TOPIC)
    samples = {"raw": Samples(), "tradewire": Samples()}
    senders = make_senders(options, stack, prefix, raw_topic)
    sink_producer = stack.producer("hop-sink", prefix)
    consumer = stack.consumer("hop-sink", prefix, sink_producer)

    @consumer.handler(SignalGenerated)
    def on_signal(event: SignalGenerated, ctx: MessageContext) -> None:
        samples["tradewire"].add(event.symbol, time.time() - event.metadata.produced_at.timestamp())

    raw_receiver = RawReceiver(stack.bootstrap, raw_topic, samples["raw"])
    try:
        with running(consumer):
            result = measure(options, senders, samples, events=options.events, rate=options.rate, warmup=options.warmup)
    finally:
        raw_receiver.stop()
        acks = senders.close()
        sink_producer.close()
    result["raw_ack"], result["tradewire_ack"] = acks["raw"], acks["tradewire"]
    return result


def chain_phases(options: argparse.Namespace, stack: Stack, run: str) -> dict[str, Any]:
    """Raw and tradewire 4-hop chains, middle agents in child processes, phases alternating."""
    prefix = f"lat{run}c."
    raw_topics = [f"{prefix}raw.chain.{hop}" for hop in range(len(CHAIN))]
    create_topics(stack.bootstrap, *raw_topics, *(prefix + event_type.TOPIC for event_type in CHAIN))
    samples = {"raw": Samples(), "tradewire": Samples()}
    sink_producer = stack.producer("order-sink", prefix)
    sink = stack.consumer("order-sink", prefix, sink_producer)

    @sink.handler(OrderPlaced)
    def on_order(event: OrderPlaced, ctx: MessageContext) -> None:
        started = time.time()
        assert ctx.root_time is not None
        samples["tradewire"].add(event.symbol, started - ctx.root_time.timestamp())

    agents = [["--agent", agent, "--prefix", prefix] for agent in CHAIN_AGENTS]
    agents += [
        ["--agent", f"raw-relay-{hop}", "--source", raw_topics[hop], "--target", raw_topics[hop + 1]]
        for hop in range(len(CHAIN) - 1)
    ]
    raw_receiver = RawReceiver(stack.bootstrap, raw_topics[-1], samples["raw"])
    senders = make_senders(options, stack, prefix, raw_topics[0])
    try:
        with agent_processes(options, agents) as processes, running(sink):
            result = measure(
                options,
                senders,
                samples,
                events=options.chain_events,
                rate=options.chain_rate,
                warmup=options.warmup // 4,
            )
    finally:
        raw_receiver.stop()
        senders.close()
        sink_producer.close()
    result["agents"] = [process.stdout.read().strip() if process.stdout else "" for process in processes]
    return result


def create_topics(bootstrap: str, *topics: str) -> None:
    """Fresh single-partition topics, created and awaited."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(topic, 1, 1) for topic in topics]).values():
        future.result(timeout=30)


# -- reporting ---------------------------------------------------------------------------------------------
def load() -> str:
    """The 1-minute load average (how shared the machine was)."""
    return f"{os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else "n/a"


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (Linux), else what platform knows."""
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    return next(
        (line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), platform.processor()
    )


def broker_version(bootstrap: str) -> str:
    """The broker's version as the dev stack pins it (dev/kafka/pom.xml), when the stack is tradewire's."""
    pom = ROOT / "dev" / "kafka" / "pom.xml"
    text = pom.read_text() if pom.exists() else ""
    start = text.find("<kafka.version>")
    pinned = text[start + len("<kafka.version>") : text.find("</kafka.version>")] if start >= 0 else "unknown"
    return f"Apache Kafka {pinned} (KRaft, dev/kafka/pom.xml) at {bootstrap}"


def source_state() -> str:
    """Which tradewire runs: where it is imported from, its commit, and uncommitted runtime changes."""
    package = Path(tradewire.__file__).resolve().parent
    consumer_file = package / "consumer" / "__init__.py"
    digest = hashlib.sha256(consumer_file.read_bytes()).hexdigest()[:12]
    state = f"tradewire from {package} (consumer module sha256 {digest})"
    if package.is_relative_to(ROOT):
        try:
            head = subprocess.run(
                ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
            ).stdout.strip()
            dirty = subprocess.run(
                ["git", "-C", str(ROOT), "status", "--porcelain", "--", "src/tradewire"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split("\n")
        except (OSError, subprocess.CalledProcessError):
            return state
        changed = sorted(line[3:] for line in dirty if line.strip())
        state += f", commit {head}" + (f" + uncommitted: {', '.join(changed)}" if changed else "")
    return state


def versions(bootstrap: str) -> str:
    """Machine, Python, library and broker versions."""
    libs = (
        f"confluent-kafka {metadata.version('confluent-kafka')} (librdkafka {confluent_kafka.libversion()[0]}), "
        f"fastavro {metadata.version('fastavro')}, prometheus-client {metadata.version('prometheus-client')}"
    )
    machine = f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs ({cpu_model()})"
    return f"{machine}, Python {platform.python_version()}; {libs}; {broker_version(bootstrap)}"


def print_table(title: str, rows: dict[str, dict[str, float]], baseline: str) -> None:
    print(f"\n{title}")
    header = f"{'path':<48}{'count':>7}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}{'p50 vs raw':>12}{'p99 vs raw':>12}"
    print(header)
    print("-" * len(header))
    base = rows[baseline]
    for name, row in rows.items():
        print(
            f"{name:<48}{row['count']:>7.0f}{row['p50_ms']:>8.2f}{row['p95_ms']:>8.2f}{row['p99_ms']:>8.2f}"
            f"{row['max_ms']:>8.2f}{row['p50_ms'] / base['p50_ms']:>11.2f}x{row['p99_ms'] / base['p99_ms']:>11.2f}x"
        )


def cpu_per_event(result: dict[str, Any], options: argparse.Namespace) -> dict[str, dict[str, float]]:
    """CPU microseconds per measured event of each path, by process."""
    events = (options.events // options.rounds) * options.rounds
    sides = {"cpu_s": "this process (consumer)" if options.sender_process else "this process (sender + consumer)"}
    if options.sender_process:
        sides["sender_cpu_s"] = "sender process"
    rows = {}
    for key, side in sides.items():
        raw, ours = (result[f"{path}_{key}"] / events * 1e6 for path in ("raw", "tradewire"))
        rows[side] = {"raw": raw, "tradewire": ours, "ratio": ours / raw if raw else float("inf")}
    return rows


def setting(text: str) -> tuple[str, Any]:
    """KEY=VALUE from the command line, the value as int, float or text."""
    key, _, raw = text.partition("=")
    if not key or not _:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    for kind in (int, float):
        try:
            return key, kind(raw)
        except ValueError:
            continue
    return key, raw


def stack_from(options: argparse.Namespace) -> Stack:
    return Stack(
        bootstrap=options.bootstrap,
        registry=options.registry,
        state=Path(options.state_dir),
        linger_ms=options.linger_ms,
        consumer_overrides=dict(setting(item) for item in options.consumer_setting),
        producer_overrides=dict(setting(item) for item in options.producer_setting),
    )


def parse(argv: list[str]) -> argparse.Namespace:
    default_linger = ProducerSettings().librdkafka()["linger.ms"]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=6000, help="measured hop events per path (all rounds)")
    parser.add_argument("--rate", type=float, default=1000.0, help="hop events per second")
    parser.add_argument("--chain-events", type=int, default=2000, help="measured chains per path (all rounds)")
    parser.add_argument("--chain-rate", type=float, default=250.0, help="signals per second into the chain")
    parser.add_argument("--rounds", type=int, default=2, help="alternating raw/tradewire phases per path")
    parser.add_argument(
        "--warmup",
        type=int,
        default=500,
        help="unmeasured events before every hop phase (a quarter before chain phases)",
    )
    parser.add_argument("--skip-chain", action="store_true", help="measure the hop only")
    parser.add_argument("--skip-hop", action="store_true", help="measure the chain only")
    parser.add_argument(
        "--sender-process",
        action="store_true",
        help="run the paced senders in a child process (no shared interpreter lock with the consumers)",
    )
    parser.add_argument(
        "--linger-ms", type=float, default=default_linger, help="both paths' producers (tradewire latency profile)"
    )
    parser.add_argument(
        "--consumer-setting",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="tradewire ConsumerSettings override",
    )
    parser.add_argument(
        "--producer-setting",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="tradewire ProducerSettings override",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    parser.add_argument("--bootstrap", default=os.environ.get("TRADEWIRE_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))
    parser.add_argument("--registry", default=os.environ.get("TRADEWIRE_REGISTRY_URL", "http://127.0.0.1:8081"))
    for hidden in ("--agent", "--prefix", "--source", "--target", "--state-dir"):
        parser.add_argument(hidden, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--sender", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


VERDICT = {True: "PASS", False: "FAIL"}
INTERNAL_OPTIONS = {"json", "state_dir", "agent", "sender", "prefix", "source", "target"}
HOP_RAW = "raw confluent-kafka (receipt)"
HOP_OURS = "tradewire Producer -> Consumer (handler start)"
CHAIN_RAW = "raw confluent-kafka relays (receipt)"
CHAIN_OURS = "tradewire agents, ctx.send (handler start)"


def report_hop(hop: dict[str, Any], options: argparse.Namespace) -> dict[str, Any]:
    """Print the hop tables and verdicts; the figures for --json."""
    rows = {HOP_RAW: summary(hop["raw"]), HOP_OURS: summary(hop["tradewire"])}
    acks = {"raw confluent-kafka": summary(hop["raw_ack"]), "tradewire Producer.send": summary(hop["tradewire_ack"])}
    print_table(f"hop latency at {options.rate:g} events/s, produce -> consume (ms)", rows, HOP_RAW)
    print_table("produce -> acks=all acknowledgement, same sends (ms)", acks, "raw confluent-kafka")
    cpu = cpu_per_event(hop, options)
    print(f"\n{'CPU time per measured event (us)':<48}{'raw':>11}{'tradewire':>11}{'ratio':>9}")
    for side, figures in cpu.items():
        print(f"{side:<48}{figures['raw']:>11.0f}{figures['tradewire']:>11.0f}{figures['ratio']:>8.2f}x")
    lateness = {path: hop[f"{path}_lateness"] * 1000 for path in ("raw", "tradewire")}
    late = f"raw {lateness['raw']:.2f}, tradewire {lateness['tradewire']:.2f}"
    print(f"senders' worst lateness behind schedule (ms): {late}")
    ours, raw = rows[HOP_OURS], rows[HOP_RAW]
    ratio = ours["p50_ms"] / raw["p50_ms"]
    verdicts = {
        "hop_p50_ratio": ratio <= TARGET_RATIO,
        "hop_p50": ours["p50_ms"] <= TARGET_HOP_P50 * 1000,
        "hop_p99": ours["p99_ms"] <= TARGET_HOP_P99 * 1000,
    }
    print(f"\ntradewire hop p50 vs raw: {ratio:.2f}x (target <= {TARGET_RATIO}x): {VERDICT[verdicts['hop_p50_ratio']]}")
    print(f"tradewire hop p50: {ours['p50_ms']:.2f} ms (target <= 2 ms): {VERDICT[verdicts['hop_p50']]}")
    print(f"tradewire hop p99: {ours['p99_ms']:.2f} ms (target <= 10 ms): {VERDICT[verdicts['hop_p99']]}")
    return {"hop": rows, "ack": acks, "cpu_us_per_event": cpu, "sender_lateness_ms": lateness, "pass": verdicts}


def report_chain(chain: dict[str, Any], options: argparse.Namespace) -> dict[str, Any]:
    """Print the chain table and verdict; the figures for --json."""
    rows = {CHAIN_RAW: summary(chain["raw"]), CHAIN_OURS: summary(chain["tradewire"])}
    title = f"4-hop chain latency at {options.chain_rate:g} signals/s, root produce -> last consume (ms)"
    print_table(title, rows, CHAIN_RAW)
    agent_cpu = [json.loads(line)["cpu_us_per_event"] for line in chain["agents"] if line]
    per_agent = ", ".join(f"{value:.0f}" for value in agent_cpu)
    print(f"tradewire chain agents (risk, personality, execution): CPU per event while measured {per_agent} us")
    passed = rows[CHAIN_OURS]["p99_ms"] <= TARGET_CHAIN_P99 * 1000
    print(f"\ntradewire chain p99: {rows[CHAIN_OURS]['p99_ms']:.2f} ms (target <= 25 ms): {VERDICT[passed]}")
    return {"chain": rows, "chain_agent_cpu_us_per_event": agent_cpu, "pass": {"chain_p99": passed}}


def main(argv: list[str]) -> int:
    options = parse(argv)
    if options.agent:
        return agent_main(options)
    if options.sender:
        return sender_main(options)
    run = uuid.uuid4().hex[:8]
    load_before = load()
    with tempfile.TemporaryDirectory(prefix="tradewire-bench-latency-") as state:
        options.state_dir = state
        stack = stack_from(options)
        hop = None if options.skip_hop else hop_phases(options, stack, run)
        chain = None if options.skip_chain else chain_phases(options, stack, run)
    load_after = load()
    print(f"tradewire latency benchmark: run {run}, {options.rounds} alternating rounds per path")
    print(versions(options.bootstrap))
    print(source_state())
    overrides = ", ".join([*options.consumer_setting, *options.producer_setting]) or "none"
    where = "a child process" if options.sender_process else "this process (main thread), beside the consumers"
    print(f"senders in {where}; linger.ms {options.linger_ms:g} (both paths); tradewire overrides: {overrides}")
    print(f"machine shared with other work: 1-min load average {load_before} before, {load_after} after")
    figures: dict[str, Any] = {
        "run": run,
        "versions": versions(options.bootstrap),
        "source": source_state(),
        "load_average": [load_before, load_after],
        "options": {key: value for key, value in vars(options).items() if key not in INTERNAL_OPTIONS},
        "pass": {},
    }
    for result, report in ((hop, report_hop), (chain, report_chain)):
        if result is not None:
            section = report(result, options)
            figures["pass"].update(section.pop("pass"))
            figures.update(section)
    if options.json:
        options.json.write_text(json.dumps(figures, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
