"""The consumer's guarantees, proven with counts against the real broker and registry."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from confluent_kafka import Producer as RawProducer
from consumer_support import Background, create_topics, producer, read_all, wait_for
from consumer_support import signal as make_signal

from tradewire.consumer import Consumer, MessageContext
from tradewire.contracts import OrderPlaced, OrderSide, OrderType, SignalGenerated, TimeInForce
from tradewire.dlq import AUDIT_TOPIC, dlq_topic, replay
from tradewire.errors import NonRetryableError
from tradewire.serde.wire import frame, unframe
from tradewire.settings import ConsumerSettings, RetryPolicy

AGENTS = Path(__file__).resolve().parent / "agents"


def settings(
    bootstrap: str, registry: str, prefix: str, group: str, state: Path, **changes: object
) -> ConsumerSettings:
    """Consumer settings for a test: prefixed topics, SQLite dedup in `state`."""
    base = ConsumerSettings(
        bootstrap_servers=bootstrap,
        registry_url=registry,
        agent="tester",
        group=group,
        topic_prefix=prefix,
        state_dir=str(state),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_poison_goes_to_the_dlq_byte_for_byte_and_good_events_are_handled_once(
    kafka_bootstrap: str, registry_url: str, unique: str, tmp_path: Path
) -> None:
    """10 000 signals with 5 kinds of poison mixed in: every poison record in the DLQ with identical
    bytes, no good record there, and every good signal handled exactly once."""
    prefix = f"t{unique}."
    topic = prefix + SignalGenerated.TOPIC
    create_topics(kafka_bootstrap, 3, topic, prefix + OrderPlaced.TOPIC)
    sender = producer(kafka_bootstrap, registry_url, prefix)
    good = [make_signal(f"S{index % 50}", index) for index in range(10_000)]
    deliveries = [sender.send(event) for event in good]
    assert 0 == sender.flush(60)
    assert all(d.result(timeout=30).offset >= 0 for d in deliveries)
    sent_ids = {str(event.metadata.event_id) for event in good}
    framed = sender.serializer(good[0], topic)
    schema_id, body = unframe(framed)
    order = OrderPlaced(
        symbol="S1",
        order_id=good[0].metadata.event_id,
        client_order_id="c1",
        venue="v",
        signal_id=good[0].metadata.event_id,
        side=OrderSide.BUY,
        order_type=OrderType.MARKET,
        time_in_force=TimeInForce.IOC,
        quantity=good[0].reference_price,
        placed_at=good[0].expires_at,
    )
    poison = {
        "bad-magic-byte": b"\x07" + framed[1:],
        "unknown-schema": frame(987_654_321, body),
        "undecodable": frame(schema_id, b"\xff\xff\xff\xff"),
        "truncated": framed[: len(framed) // 2],
        "wrong-type": sender.serializer(order, prefix + OrderPlaced.TOPIC),
    }
    raw = RawProducer({"bootstrap.servers": kafka_bootstrap, "acks": "all"})
    for index, value in enumerate(list(poison.values()) * 2):
        raw.produce(topic, key=f"S{index}".encode(), value=value)
    assert 0 == raw.flush(30)
    handled: list[str] = []
    consumer = Consumer(settings(kafka_bootstrap, registry_url, prefix, f"g{unique}", tmp_path))

    @consumer.handler(SignalGenerated)
    def on_signal(event: SignalGenerated, ctx: MessageContext) -> None:
        handled.append(str(event.metadata.event_id))

    running = Background(consumer)
    wait_for(lambda: len(handled) >= 10_000 and consumer.stats.dead_lettered.get("poison", 0) >= 10, 180, "all records")
    stats = running.stop()
    assert (10_000, sent_ids, {"poison": 10}, 10) == (len(handled), set(handled), stats.dead_lettered, stats.poison)
    dead = read_all(kafka_bootstrap, dlq_topic(topic, f"g{unique}"), 10)
    assert sorted(list(poison.values()) * 2) == sorted(value or b"" for _, value, _ in dead)
    reasons = sorted(dict(headers)["tw.dlq.reason"] for _, _, headers in dead)
    assert [b"poison"] * 10 == reasons


def test_a_failing_handler_is_retried_after_backoff_without_holding_back_other_keys(
    kafka_bootstrap: str, registry_url: str, unique: str, tmp_path: Path
) -> None:
    """A handler failing twice then succeeding handles the event once after the backoff; later
    events of other keys are not delayed, and events of the same key are handled in order."""
    prefix = f"t{unique}."
    topic = prefix + SignalGenerated.TOPIC
    create_topics(kafka_bootstrap, 1, topic)
    sender = producer(kafka_bootstrap, registry_url, prefix)
    events = [
        make_signal("AAA", 0),
        *[make_signal("BBB", i) for i in range(1, 6)],
        make_signal("AAA", 6),
        make_signal("AAA", 7),
    ]
    for event in events:
        sender.send(event)
    assert 0 == sender.flush(30)
    failing = events[0].metadata.event_id
    attempts: list[int] = []
    order: list[tuple[str, float]] = []
    consumer = Consumer(
        settings(kafka_bootstrap, registry_url, prefix, f"g{unique}", tmp_path, retry=RetryPolicy(base_seconds=0.5))
    )

    @consumer.handler(SignalGenerated)
    def on_signal(event: SignalGenerated, ctx: MessageContext) -> None:
        if event.metadata.event_id == failing:
            attempts.append(ctx.attempt)
            if ctx.attempt <= 2:
                raise RuntimeError("venue briefly unavailable")
        order.append((f"{event.symbol}:{int(event.reference_price)}", time.monotonic()))

    running = Background(consumer)
    wait_for(lambda: len(order) == len(events), 60, "all events handled")
    stats = running.stop()
    names = [name for name, _ in order]
    assert ([1, 2, 3], 8, 2, {}) == (attempts, stats.handled, stats.retried, stats.dead_lettered)
    assert ["AAA:1", "AAA:7", "AAA:8"] == [name for name in names if name.startswith("AAA")]
    first_success = dict(order)["AAA:1"]
    assert all(at < first_success for name, at in order if name.startswith("BBB"))
    assert names.index("AAA:1") > max(names.index(f"BBB:{i + 1}") for i in range(1, 6))


def test_an_event_sent_twice_back_to_back_is_handled_once_even_within_one_batch(
    kafka_bootstrap: str, registry_url: str, unique: str, tmp_path: Path
) -> None:
    """The consumer hands records to handlers in batches and checks dedup for a batch at once: an event
    id met twice in one batch must still be handled once, the second record counted as a duplicate."""
    prefix = f"t{unique}."
    create_topics(kafka_bootstrap, 1, prefix + SignalGenerated.TOPIC)
    sender = producer(kafka_bootstrap, registry_url, prefix)
    events = [make_signal(f"S{index % 3}", index) for index in range(60)]
    for index, event in enumerate(events):
        sender.send(event)
        if index % 6 == 0:
            sender.send(event)  # the same event id again, right behind the first (a sender's retry)
    assert 0 == sender.flush(30)
    sender.close()
    handled: list[str] = []
    consumer = Consumer(settings(kafka_bootstrap, registry_url, prefix, f"g{unique}", tmp_path))

    @consumer.handler(SignalGenerated)
    def on_signal(event: SignalGenerated, ctx: MessageContext) -> None:
        handled.append(str(event.metadata.event_id))

    running = Background(consumer)
    wait_for(lambda: consumer.stats.received == 70 and len(handled) == 60, 60, "all 70 records processed")
    stats = running.stop()
    assert sorted(str(event.metadata.event_id) for event in events) == sorted(handled)
    assert (70, 60, 10) == (stats.received, stats.handled, stats.duplicates)


def test_a_killed_consumer_restarts_without_loss_and_dedup_suppresses_redelivered_events(
    kafka_bootstrap: str, registry_url: str, unique: str, tmp_path: Path
) -> None:
    """SIGKILL mid-stream, restart: every event is handled, and events redelivered after the crash
    that were already handled are skipped by the idempotency store."""
    prefix = f"t{unique}."
    topic = prefix + SignalGenerated.TOPIC
    create_topics(kafka_bootstrap, 2, topic)
    sender = producer(kafka_bootstrap, registry_url, prefix)
    events = [make_signal(f"S{index % 20}", index) for index in range(3_000)]
    for event in events:
        sender.send(event)
    assert 0 == sender.flush(60)
    out = tmp_path / "handled.txt"
    command = [
        sys.executable,
        str(AGENTS / "recording_consumer.py"),
        kafka_bootstrap,
        registry_url,
        f"g{unique}",
        prefix,
        str(tmp_path / "state"),
        str(out),
        "1",
    ]
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log = (tmp_path / "consumer.log").open("ab")
    first = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)
    wait_for(lambda: out.exists() and len(out.read_text().splitlines()) >= 1_000, 120, "1000 events before the crash")
    first.send_signal(signal.SIGKILL)
    first.wait(30)
    before = out.read_text().splitlines()
    second = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=log, text=True)
    expected = {str(e.metadata.event_id) for e in events}
    wait_for(lambda: expected <= set(out.read_text().splitlines()), 180, "every event after the restart")
    second.send_signal(signal.SIGTERM)
    stdout, _ = second.communicate(timeout=60)
    stats = json.loads(stdout.strip().splitlines()[-1])
    lines = out.read_text().splitlines()
    assert (-9, 0, expected) == (first.returncode, second.returncode, set(lines))
    assert stats["duplicates"] > 0, stats
    assert len(lines) - len(expected) < 1_000, (
        f"{len(lines) - len(expected)} events handled twice (before: {len(before)})"
    )


def test_a_second_consumer_joining_the_group_loses_nothing(
    kafka_bootstrap: str, registry_url: str, unique: str, tmp_path: Path
) -> None:
    """A rebalance while events flow: the two consumers together handle every event."""
    prefix = f"t{unique}."
    topic = prefix + SignalGenerated.TOPIC
    create_topics(kafka_bootstrap, 4, topic)
    sender = producer(kafka_bootstrap, registry_url, prefix)
    events = [make_signal(f"S{index % 40}", index) for index in range(2_000)]
    handled: list[str] = []
    lock = threading.Lock()

    def make(name: str) -> Consumer:
        # each instance of a group has its own agent name (and so its own group.instance.id)
        consumer = Consumer(
            settings(kafka_bootstrap, registry_url, prefix, f"g{unique}", tmp_path / name, agent=f"tester-{name}")
        )

        @consumer.handler(SignalGenerated)
        def on_signal(event: SignalGenerated, ctx: MessageContext) -> None:
            time.sleep(0.001)
            with lock:
                handled.append(str(event.metadata.event_id))

        return consumer

    first = Background(make("a"))
    for event in events[:1_000]:
        sender.send(event)
    sender.flush(30)
    wait_for(lambda: len(handled) >= 300, 60, "the first consumer to start handling")
    second = Background(make("b"))
    for event in events[1_000:]:
        sender.send(event)
    assert 0 == sender.flush(30)
    expected = {str(e.metadata.event_id) for e in events}
    wait_for(lambda: expected <= set(handled), 120, "every event handled by the group")
    first_stats, second_stats = first.stop(), second.stop()
    assert expected == set(handled)
    assert second_stats.handled > 0, "the second consumer got partitions"
    assert first_stats.handled + second_stats.handled == len(handled)


def test_replay_after_fixing_the_handler_handles_every_dead_letter_exactly_once_and_is_audited(
    kafka_bootstrap: str, registry_url: str, unique: str, tmp_path: Path
) -> None:
    """20 of 200 events are refused (non-retryable) and dead-lettered; after the fix, a replay makes the
    failing group handle each of the 20 exactly once, and the audit record lists exactly those 20."""
    prefix = f"t{unique}."
    topic = prefix + SignalGenerated.TOPIC
    group = f"g{unique}"
    create_topics(kafka_bootstrap, 2, topic)
    sender = producer(kafka_bootstrap, registry_url, prefix)
    events = [make_signal(f"S{index % 7}", index) for index in range(200)]
    for event in events:
        sender.send(event)
    assert 0 == sender.flush(30)
    refused = {event.metadata.event_id for event in events[::10]}
    handled: list[tuple[str, bool]] = []
    consumer = Consumer(settings(kafka_bootstrap, registry_url, prefix, group, tmp_path))

    @consumer.handler(SignalGenerated)
    def on_signal(event: SignalGenerated, ctx: MessageContext) -> None:
        if event.metadata.event_id in refused:
            raise NonRetryableError("instrument not tradable")
        handled.append((str(event.metadata.event_id), ctx.replayed))

    running = Background(consumer)
    try:
        wait_for(
            lambda: consumer.stats.dead_lettered.get("non-retryable", 0) == 20 and len(handled) == 180,
            90,
            "20 dead letters",
        )
        refused.clear()  # the handler is fixed
        report = replay(sender, kafka_bootstrap, dlq_topic(topic, group), timeout=30)
        wait_for(lambda: len(handled) == 200, 90, "the 20 replayed events")
    finally:
        stats = running.stop()
        sender.close()
    replayed_ids = sorted(event_id for event_id, replayed in handled if replayed)
    expected = sorted(str(event.metadata.event_id) for event in events[::10])
    assert (expected, 200, 0, 20) == (
        replayed_ids,
        len({i for i, _ in handled}),
        stats.duplicates,
        len(report.replayed),
    )
    audits = [json.loads(value or b"{}") for _, value, _ in read_all(kafka_bootstrap, AUDIT_TOPIC, 10_000, timeout=10)]
    mine = [audit for audit in audits if audit.get("dlq_topic") == dlq_topic(topic, group)]
    assert [(20, expected)] == [(audit["count"], sorted(r["event_id"] for r in audit["replayed"])) for audit in mine]


def test_a_record_whose_sends_the_broker_refused_is_neither_remembered_nor_committed(
    kafka_bootstrap: str, registry_url: str, unique: str, tmp_path: Path
) -> None:
    """The handler succeeds but the broker refuses what it sent (the output topic takes no record that
    large): the record is handled again on every retry, then dead-lettered as exhausted; it never
    counts as handled, so dedup would not skip it after a crash and no offset skips it either."""
    prefix = f"t{unique}."
    create_topics(kafka_bootstrap, 1, prefix + SignalGenerated.TOPIC)
    create_topics(kafka_bootstrap, 1, prefix + OrderPlaced.TOPIC, max_message_bytes=50)  # refuses every order
    sender = producer(kafka_bootstrap, registry_url, prefix)
    signal_event = make_signal("S1", 1)
    sender.send(signal_event).result(timeout=30)
    consumer = Consumer(
        settings(
            kafka_bootstrap, registry_url, prefix, f"g{unique}", tmp_path,
            retry=RetryPolicy(base_seconds=0.01, retries=2),
        ),
        producer=sender,
    )  # fmt: skip
    calls: list[int] = []

    @consumer.handler(SignalGenerated)
    def place(event: SignalGenerated, ctx: MessageContext) -> None:
        calls.append(ctx.attempt)
        ctx.send(
            OrderPlaced(
                symbol=event.symbol,
                order_id=event.metadata.event_id,
                client_order_id="c1",
                venue="v",
                signal_id=event.metadata.event_id,
                side=OrderSide.BUY,
                order_type=OrderType.MARKET,
                time_in_force=TimeInForce.IOC,
                quantity=event.reference_price,
                placed_at=event.expires_at,
            )
        )

    running = Background(consumer)
    wait_for(lambda: bool(consumer.stats.dead_lettered), 60, "the refused record to be dead-lettered")
    stats = running.stop()

    assert [1, 2, 3] == calls
    assert (0, {"exhausted": 1}) == (stats.handled, stats.dead_lettered)
    [(_, _, headers)] = read_all(kafka_bootstrap, dlq_topic(prefix + SignalGenerated.TOPIC, f"g{unique}"), 1)
    assert b"DeliveryError" in dict(headers)["tw.dlq.error.class"]
    assert str(signal_event.metadata.event_id).encode() == dict(headers)["ce_id"]
