"""One record at the broker's size limit never stops a consumer group, and is never lost.

The record is what a new user produced: `\\x00` + a schema id + about a megabyte of random bytes,
accepted by a source topic with the broker's default `max.message.bytes`. Its dead letter is as
large plus the `tw.dlq.*` headers.
"""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

from confluent_kafka import Consumer as RawConsumer
from confluent_kafka import KafkaError, TopicPartition
from confluent_kafka import Producer as RawProducer
from consumer_support import Background, create_topics, producer, read_all, wait_for
from consumer_support import signal as make_signal

from tradewire.consumer import Consumer, MessageContext
from tradewire.contracts import SignalGenerated
from tradewire.dlq import dlq_topic
from tradewire.serde.wire import frame, unframe
from tradewire.settings import ConsumerSettings

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


def produce_raw(bootstrap: str, topic: str, key: bytes, value: bytes) -> None:
    """Produce one record as it is, with a client that allows records of any size the broker takes."""
    failures: list[KafkaError] = []
    raw = RawProducer(
        {"bootstrap.servers": bootstrap, "acks": "all", "message.max.bytes": 10_000_000, "compression.type": "none"}
    )
    raw.produce(topic, key=key, value=value, on_delivery=lambda error, _: failures.append(error) if error else None)
    assert (0, []) == (raw.flush(30), failures)


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
    """What a test handler saw: symbols in order."""

    symbols: list[str] = dataclasses.field(default_factory=list)

    def on_signal(self, event: SignalGenerated, ctx: MessageContext) -> None:
        self.symbols.append(event.symbol)


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

