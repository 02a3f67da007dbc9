"""One record at the broker's size limit never stops a consumer group, and is never lost.

The record is what a new user produced: `\\x00` + a schema id + about a megabyte of random bytes,
accepted by a source topic with the broker's default `max.message.bytes`. Its dead letter is as
large plus the `tw.dlq.*` headers.
"""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import pytest
from confluent_kafka import Consumer as RawConsumer
from confluent_kafka import KafkaError, TopicPartition
from confluent_kafka import Producer as RawProducer
from confluent_kafka.admin import (  # type: ignore[attr-defined]  # public names, re-exported without __all__
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ResourceType,
)
from consumer_support import Background, create_topics, producer, read_all, wait_for
from consumer_support import signal as make_signal

from tradewire.cli import main
from tradewire.consumer import Consumer, MessageContext
from tradewire.contracts import SignalGenerated
from tradewire.dlq import SIZE_ALLOWANCE_BYTES, dlq_topic, replay_topic
from tradewire.errors import NonRetryableError
from tradewire.metadata import cloudevent_headers
from tradewire.producer import Producer
from tradewire.serde.wire import frame, unframe
from tradewire.settings import ConsumerSettings, ProducerSettings

RANDOM_BYTES = 1_048_000
"""The poison record's body: with its 5-byte frame it is about as large as a default topic accepts."""


def settings(bootstrap: str, registry: str, prefix: str, group: str, state: Path) -> ConsumerSettings:
    """Consumer settings for a test: prefixed topics, SQLite dedup in `state`."""
    return ConsumerSettings(
        bootstrap_servers=bootstrap,
        registry_url=registry,
        agent="tester",
        group=group,
        topic_prefix=prefix,
        state_dir=str(state),
    )


def produce_raw(
    bootstrap: str, topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]] | None = None
) -> None:
    """Produce one record as it is, uncompressed, with a client that allows records of any size the broker takes."""
    failures: list[KafkaError] = []
    raw = RawProducer(
        {"bootstrap.servers": bootstrap, "acks": "all", "message.max.bytes": 10_000_000, "compression.type": "none"}
    )
    raw.produce(
        topic,
        key=key,
        value=value,
        headers=headers,
        on_delivery=lambda error, _: failures.append(error) if error else None,
    )
    assert (0, []) == (raw.flush(30), failures)


def topic_max_message_bytes(bootstrap: str, topic: str) -> int:
    """The effective max.message.bytes of `topic`."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    resource = ConfigResource(ResourceType.TOPIC, topic)
    return int(admin.describe_configs([resource])[resource].result(timeout=30)["max.message.bytes"].value)


def set_max_message_bytes(bootstrap: str, topic: str, limit: int) -> None:
    """Set `topic`'s max.message.bytes (as an operator would)."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    entry = ConfigEntry("max.message.bytes", str(limit), incremental_operation=AlterConfigOpType.SET)
    resource = ConfigResource(ResourceType.TOPIC, topic, incremental_configs=[entry])
    admin.incremental_alter_configs([resource])[resource].result(timeout=30)


def committed(bootstrap: str, group: str, topic: str, partition: int = 0) -> int:
    """The offset `group` committed on `topic`[`partition`] (-1001 when none)."""
    reader = RawConsumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        [position] = reader.committed([TopicPartition(topic, partition)], timeout=30)
        return int(position.offset)
    finally:
        reader.close()


@dataclasses.dataclass
class Handled:
    """What a test handler saw: symbols in order (and whether each was replayed); it refuses the
    event ids in `refuse` as non-retryable."""

    symbols: list[str] = dataclasses.field(default_factory=list)
    replayed: list[bool] = dataclasses.field(default_factory=list)
    refuse: set[object] = dataclasses.field(default_factory=set)

    def on_signal(self, event: SignalGenerated, ctx: MessageContext) -> None:
        if event.metadata.event_id in self.refuse:
            raise NonRetryableError("the venue refuses this signal")
        self.symbols.append(event.symbol)
        self.replayed.append(ctx.replayed)


def poison_at_the_limit(sender_serializer: object, topic: str, seed: int) -> bytes:
    """`\\x00` + the signal schema's id + RANDOM_BYTES seeded random bytes."""
    framed = sender_serializer(make_signal("ID", 0), topic)  # type: ignore[operator]
    schema_id, _ = unframe(framed)
    return frame(schema_id, random.Random(seed).randbytes(RANDOM_BYTES))


def test_a_poison_record_at_the_brokers_limit_is_dead_lettered_byte_for_byte_and_the_group_goes_on(
    kafka_bootstrap: str, registry_url: str, unique: str, tmp_path: Path
) -> None:
    """A ~1 MB poison record on a default topic: its dead letter (DLQ sized for it) holds the same bytes,
    the events after it are handled, the offset is committed past it, and a restarted member handles
    what comes next without meeting the poison again."""
    prefix = f"t{unique}."
    topic = prefix + SignalGenerated.TOPIC
    group = f"g{unique}"
    create_topics(kafka_bootstrap, 1, topic)
    sender = producer(kafka_bootstrap, registry_url, prefix)
    poison = poison_at_the_limit(sender.serializer, topic, seed=1)
    sender.send(make_signal("BEFORE", 1)).result(timeout=30)
    produce_raw(kafka_bootstrap, topic, b"BIG", poison)
    sender.send(make_signal("AFTER", 2)).result(timeout=30)
    seen = Handled()
    consumer = Consumer(settings(kafka_bootstrap, registry_url, prefix, group, tmp_path))
    consumer.add_handler(SignalGenerated, seen.on_signal)
    running = Background(consumer)
    wait_for(lambda: seen.symbols == ["BEFORE", "AFTER"] and consumer.stats.dead_lettered, 120, "the poison and after")
    stats = running.stop()
    assert ({"poison": 1}, 3) == (stats.dead_lettered, committed(kafka_bootstrap, group, topic))
    [(key, value, headers)] = read_all(kafka_bootstrap, dlq_topic(topic, group), 1)
    assert (b"BIG", poison, b"poison") == (key, value, dict(headers)["tw.dlq.reason"])

    sender.send(make_signal("LATER", 3)).result(timeout=30)
    restarted = Consumer(settings(kafka_bootstrap, registry_url, prefix, group, tmp_path))
    restarted.add_handler(SignalGenerated, seen.on_signal)
    again = Background(restarted)
    wait_for(lambda: seen.symbols[-1:] == ["LATER"], 120, "the restarted member to handle the next event")
    after_restart = again.stop()
    sender.close()
    assert (["BEFORE", "AFTER", "LATER"], {}, 4) == (
        seen.symbols,
        after_restart.dead_lettered,
        committed(kafka_bootstrap, group, topic),
    )


def big_signal(size: int) -> SignalGenerated:
    """A valid signal whose strategy name alone has `size` characters."""
    return dataclasses.replace(make_signal("BIG", 7), strategy="s" * size)


def test_a_dead_letter_the_producer_refuses_as_too_large_becomes_a_reference_and_its_replay_reaches_the_handler(
    kafka_bootstrap: str,
    registry_url: str,
    unique: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A ~1 MB signal the handler refuses, with a DLQ producer allowing 1,000,000-byte records (librdkafka's
    default): a too-large reference is written (no value, the key, the original reason, sizes and the
    refusal), the group goes on and commits past it; `dlq show` says where the signal is and how large it
    is; `dlq replay` of the reference reads the signal from
    its source topic and the handler gets it, marked replayed; a restarted member does not meet it again."""
    prefix = f"t{unique}."
    topic = prefix + SignalGenerated.TOPIC
    group = f"g{unique}"
    create_topics(kafka_bootstrap, 1, topic)
    sender = producer(kafka_bootstrap, registry_url, prefix)
    big = big_signal(1_040_000)
    framed = sender.serializer(big, topic)
    produce_raw(kafka_bootstrap, topic, b"BIG", framed, cloudevent_headers(big, "market-analysis"))
    sender.send(make_signal("AFTER", 2)).result(timeout=30)
    seen = Handled(refuse={big.metadata.event_id})
    limited = Producer(
        ProducerSettings(
            bootstrap_servers=kafka_bootstrap, registry_url=registry_url, agent="tester", message_max_bytes=1_000_000
        )
    )
    consumer = Consumer(settings(kafka_bootstrap, registry_url, prefix, group, tmp_path), producer=limited)
    consumer.add_handler(SignalGenerated, seen.on_signal)
    running = Background(consumer)
    wait_for(lambda: consumer.stats.dead_lettered == {"too-large": 1} and seen.symbols == ["AFTER"], 120, "a reference")
    wait_for(lambda: committed(kafka_bootstrap, group, topic) == 2, 60, "the commit past the refused signal")
    [(key, value, headers)] = read_all(kafka_bootstrap, dlq_topic(topic, group), 1)
    found = dict(headers)
    assert (b"BIG", None) == (key, value)
    assert {
        "tw.dlq.reason": b"too-large",
        "tw.dlq.original.reason": b"non-retryable",
        "tw.dlq.topic": topic.encode(),
        "tw.dlq.partition": b"0",
        "tw.dlq.offset": b"0",
        "tw.dlq.original.key.bytes": b"3",
        "tw.dlq.original.value.bytes": str(len(framed)).encode(),
        "tw.dlq.original.key.kept": b"true",
        "tw.dlq.original.headers.kept": b"true",
        "tw.dlq.error.class": b"tradewire.errors.NonRetryableError",
        "ce_id": str(big.metadata.event_id).encode(),
    }.items() <= found.items()
    assert b"MSG_SIZE_TOO_LARGE" in found["tw.dlq.write.error"]
    capsys.readouterr()
    assert 0 == main(["dlq", "show", dlq_topic(topic, group), "--bootstrap-servers", kafka_bootstrap])
    shown = capsys.readouterr().out.splitlines()
    size = 3 + len(framed) + int(found["tw.dlq.original.headers.bytes"])
    assert [
        f"  reason:    too-large: a reference to a record of {size} bytes that its DLQ topic could not take "
        "(it failed as non-retryable, after 0 attempt(s))",
        f"  value:     not in the DLQ: {len(framed)} bytes at {topic}[0]@0, which keeps it until retention removes "
        "it; `tradewire dlq replay` reads it from there",
    ] == [line for line in shown if line.startswith(("  reason:", "  value:"))]

    seen.refuse.clear()  # the cause is fixed
    assert 0 == main(["dlq", "replay", dlq_topic(topic, group), "--bootstrap-servers", kafka_bootstrap, "--yes"])
    wait_for(lambda: seen.symbols[-1:] == ["BIG"], 120, "the replayed signal at the handler")
    stats = running.stop()
    [(_, replayed_value, _)] = read_all(kafka_bootstrap, replay_topic(topic, group), 1)
    assert (framed, [False, True], {"too-large": 1}) == (replayed_value, seen.replayed, stats.dead_lettered)

    sender.send(make_signal("LATER", 3)).result(timeout=30)
    restarted = Consumer(settings(kafka_bootstrap, registry_url, prefix, group, tmp_path), producer=limited)
    restarted.add_handler(SignalGenerated, seen.on_signal)
    again = Background(restarted)
    wait_for(lambda: seen.symbols[-1:] == ["LATER"], 120, "the restarted member to handle the next event")
    after_restart = again.stop()
    sender.close()
    limited.close()
    assert (["AFTER", "BIG", "LATER"], {}) == (seen.symbols, after_restart.dead_lettered)


def test_a_dead_letter_the_broker_refuses_as_too_large_becomes_a_reference_and_the_dlq_is_raised_again(
    kafka_bootstrap: str, registry_url: str, unique: str, tmp_path: Path
) -> None:
    """An operator lowered the DLQ topic's max.message.bytes below the poison record's size: the broker
    refuses the dead letter, a too-large reference is written instead, the group goes on and commits; a
    restarted member raises the DLQ topic's limit back to the source's plus the allowance."""
    prefix = f"t{unique}."
    topic = prefix + SignalGenerated.TOPIC
    group = f"g{unique}"
    dlq = dlq_topic(topic, group)
    create_topics(kafka_bootstrap, 1, topic)
    sender = producer(kafka_bootstrap, registry_url, prefix)
    poison = poison_at_the_limit(sender.serializer, topic, seed=2)
    seen = Handled()
    consumer = Consumer(settings(kafka_bootstrap, registry_url, prefix, group, tmp_path))
    consumer.add_handler(SignalGenerated, seen.on_signal)
    running = Background(consumer)
    sender.send(make_signal("BEFORE", 1)).result(timeout=30)
    wait_for(lambda: seen.symbols == ["BEFORE"], 60, "the consumer to run (and its DLQ topic to exist)")
    set_max_message_bytes(kafka_bootstrap, dlq, 20_000)
    produce_raw(kafka_bootstrap, topic, b"BIG", poison)
    sender.send(make_signal("AFTER", 2)).result(timeout=30)
    wait_for(lambda: consumer.stats.dead_lettered == {"too-large": 1} and seen.symbols[-1:] == ["AFTER"], 120, "it")
    wait_for(lambda: committed(kafka_bootstrap, group, topic) == 3, 60, "the commit past the poison")
    running.stop()
    [(key, value, headers)] = read_all(kafka_bootstrap, dlq, 1)
    found = dict(headers)
    assert (b"BIG", None, b"poison", str(len(poison)).encode(), b"1") == (
        key,
        value,
        found["tw.dlq.original.reason"],
        found["tw.dlq.original.value.bytes"],
        found["tw.dlq.offset"],
    )
    assert b"Message size too large" in found["tw.dlq.write.error"]

    restarted = Consumer(settings(kafka_bootstrap, registry_url, prefix, group, tmp_path))
    restarted.add_handler(SignalGenerated, seen.on_signal)
    again = Background(restarted)
    sender.send(make_signal("LATER", 3)).result(timeout=30)
    wait_for(lambda: seen.symbols[-1:] == ["LATER"], 120, "the restarted member to handle the next event")
    after_restart = again.stop()
    sender.close()
    source_limit = topic_max_message_bytes(kafka_bootstrap, topic)
    assert ({}, source_limit + SIZE_ALLOWANCE_BYTES) == (
        after_restart.dead_lettered,
        topic_max_message_bytes(kafka_bootstrap, dlq),
    )
