"""Throughput benchmark: tradewire's producer and consumer beside raw confluent-kafka, same broker, same run.

Needs a running broker and registry (`tradewire dev up`, or TRADEWIRE_BOOTSTRAP_SERVERS and
TRADEWIRE_REGISTRY_URL). Every path works on the same seeded events and the same framed
bytes (encoded once, up front), each on its own fresh topic:

producer (events/s, all acks=all + idempotence + lz4, latency profile linger 0.5 ms):
  raw confluent-kafka `produce(bytes)`                       <- baseline
  tradewire `send_raw(bytes)` (delivery futures, listeners)  (transport overhead only)
  tradewire `send(event)` (stamp metadata, encode, frame, CloudEvents headers)
  raw confluent-kafka + its AvroSerializer(event)            (the typed raw equivalent)

consumer (events/s, from the beginning of a filled topic):
  raw confluent-kafka `consume()` of the bytes              <- baseline
  raw confluent-kafka + AvroDeserializer + manual commits    (the typed raw equivalent)
  tradewire Consumer (decode, SQLite dedup, commits after processing, a no-op handler)
  tradewire decode alone, in memory                         (the floor under any typed consumer)

Run: .venv/bin/python bench/throughput.py [--events 20000] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import uuid
from importlib import metadata
from pathlib import Path
from typing import Any

import confluent_kafka
from confluent_kafka.admin import AdminClient, NewTopic
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serde import seeded_signals
from tradewire.consumer import Consumer, MessageContext
from tradewire.contracts import SignalGenerated
from tradewire.producer import Producer
from tradewire.registry.client import RegistryClient
from tradewire.serde.deserializer import EventDeserializer, reader_schema
from tradewire.settings import ConsumerSettings, ProducerSettings

RAW_CONFIG = {"acks": "all", "enable.idempotence": True, "compression.type": "lz4", "linger.ms": 0.5}


def create(bootstrap: str, topic: str) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(timeout=30)


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def produce_raw(bootstrap: str, topic: str, values: list[bytes], keys: list[bytes]) -> float:
    producer = confluent_kafka.Producer({"bootstrap.servers": bootstrap, **RAW_CONFIG})
    started = time.perf_counter()
    for key, value in zip(keys, values, strict=True):
        while True:
            try:
                producer.produce(topic, value=value, key=key)
                break
            except BufferError:
                producer.poll(0.01)
        producer.poll(0)
    assert producer.flush(60) == 0
    return rate(len(values), time.perf_counter() - started)


def produce_tradewire_raw(bootstrap: str, registry: str, topic: str, values: list[bytes], keys: list[bytes]) -> float:
    producer = Producer(ProducerSettings(bootstrap_servers=bootstrap, registry_url=registry, agent="bench"))
    started = time.perf_counter()
    deliveries = [producer.send_raw(topic, key, value) for key, value in zip(keys, values, strict=True)]
    assert producer.flush(60) == 0
    elapsed = time.perf_counter() - started
    assert all(d.exception(timeout=10) is None for d in deliveries)
    producer.close()
    return rate(len(values), elapsed)


def produce_tradewire_typed(bootstrap: str, registry: str, prefix: str, events: list[SignalGenerated]) -> float:
    producer = Producer(
        ProducerSettings(
            bootstrap_servers=bootstrap, registry_url=registry, agent="bench", auto_register=True, topic_prefix=prefix
        )
    )
    producer.send(seeded_signals(1, seed=7)[0]).result(30)  # schema id resolved and cached before timing
    started = time.perf_counter()
    for event in events:
        producer.send(event)
    assert producer.flush(60) == 0
    elapsed = time.perf_counter() - started
    producer.close()
    return rate(len(events), elapsed)


def produce_raw_typed(bootstrap: str, registry: str, topic: str, events: list[SignalGenerated]) -> float:
    client = SchemaRegistryClient({"url": registry})
    serializer = AvroSerializer(
        client, reader_schema(SignalGenerated), lambda e, c: e.to_avro(), conf={"subject.name.strategy.type": "TOPIC"}
    )
    context = SerializationContext(topic, MessageField.VALUE)
    producer = confluent_kafka.Producer({"bootstrap.servers": bootstrap, **RAW_CONFIG})
    serializer(events[0], context)
    started = time.perf_counter()
    for event in events:
        value = serializer(event, context)
        while True:
            try:
                producer.produce(topic, value=value, key=event.partition_key().encode())
                break
            except BufferError:
                producer.poll(0.01)
        producer.poll(0)
    assert producer.flush(60) == 0
    return rate(len(events), time.perf_counter() - started)


def consume_raw(bootstrap: str, topic: str, count: int, *, decode: Any = None, commit: bool = False) -> float:
    consumer = confluent_kafka.Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"raw-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    seen = 0
    started = None
    while seen < count:
        # never ask for more than is left: consume(n, timeout) waits out the timeout unless n records come
        batch = consumer.consume(num_messages=min(500, count - seen), timeout=1)
        if batch and started is None:
            started = time.perf_counter()
        for message in batch:
            if message.error() is None:
                if decode is not None:
                    decode(message)
                seen += 1
        if commit and batch:
            consumer.commit(asynchronous=False)
    assert started is not None
    elapsed = time.perf_counter() - started
    consumer.close()
    return rate(count, elapsed)


def consume_tradewire(bootstrap: str, registry: str, prefix: str, count: int, state: Path) -> float:
    settings = ConsumerSettings(
        bootstrap_servers=bootstrap,
        registry_url=registry,
        agent="bench",
        group=f"bench-{uuid.uuid4().hex}",
        topic_prefix=prefix,
        state_dir=str(state),
    )
    consumer = Consumer(settings)
    marks: dict[str, float] = {}

    @consumer.handler(SignalGenerated)
    def on_signal(event: SignalGenerated, ctx: MessageContext) -> None:
        if "first" not in marks:
            marks["first"] = time.perf_counter()
        marks["count"] = marks.get("count", 0) + 1
        if marks["count"] >= count:
            marks["last"] = time.perf_counter()
            consumer.stop()

    consumer.run(install_signal_handlers=False, max_seconds=600)
    return rate(count - 1, marks["last"] - marks["first"])


def decode_only(registry: str, prefix: str, values: list[bytes]) -> float:
    """tradewire's decoding alone, in memory (unframe, cached writer schema, generated decoder): the
    floor under any typed consumer, Kafka or not."""
    deserializer = EventDeserializer(RegistryClient(registry), [SignalGenerated], topic_prefix=prefix)
    topic = prefix + SignalGenerated.TOPIC
    deserializer(values[0], topic)  # the writer schema fetched and cached before timing
    started = time.perf_counter()
    for value in values:
        deserializer(value, topic)
    return rate(len(values), time.perf_counter() - started)


def versions() -> str:
    libs = f"confluent-kafka {metadata.version('confluent-kafka')} (librdkafka {confluent_kafka.libversion()[0]})"
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; {libs}"
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="tradewire vs raw confluent-kafka throughput")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--json", type=Path, default=None)
    options = parser.parse_args(argv)
    bootstrap = os.environ.get("TRADEWIRE_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    registry = os.environ.get("TRADEWIRE_REGISTRY_URL", "http://127.0.0.1:8081")
    run = uuid.uuid4().hex[:8]
    events = seeded_signals(options.events)
    prefix = f"bench{run}."
    # encode once through tradewire (the bytes every path sends and reads)
    warm = Producer(
        ProducerSettings(
            bootstrap_servers=bootstrap, registry_url=registry, agent="bench", auto_register=True, topic_prefix=prefix
        )
    )
    create(bootstrap, prefix + SignalGenerated.TOPIC)
    values = [warm.serializer(event, prefix + SignalGenerated.TOPIC) for event in events]
    keys = [event.partition_key().encode() for event in events]
    warm.close()
    topics = {name: f"bench{run}.{name}" for name in ("raw", "twraw", "rawtyped")}
    for topic in topics.values():
        create(bootstrap, topic)
    producer_rows = {
        "raw confluent-kafka produce(bytes)": produce_raw(bootstrap, topics["raw"], values, keys),
        "tradewire send_raw(bytes)": produce_tradewire_raw(bootstrap, registry, topics["twraw"], values, keys),
        "tradewire send(event)": produce_tradewire_typed(bootstrap, registry, prefix, events),
        "raw confluent-kafka + AvroSerializer": produce_raw_typed(bootstrap, registry, topics["rawtyped"], events),
    }
    client = SchemaRegistryClient({"url": registry})
    deserializer = AvroDeserializer(client, None, lambda record, ctx: SignalGenerated.from_avro(record))
    context = SerializationContext(prefix + SignalGenerated.TOPIC, MessageField.VALUE)
    count = len(events) + 1  # the typed producer's warm-up event is on the topic too
    with tempfile.TemporaryDirectory() as state:
        consumer_rows = {
            "raw confluent-kafka consume(bytes)": consume_raw(bootstrap, prefix + SignalGenerated.TOPIC, count),
            "raw confluent-kafka + AvroDeserializer + commits": consume_raw(
                bootstrap,
                prefix + SignalGenerated.TOPIC,
                count,
                decode=lambda m: deserializer(m.value(), context),
                commit=True,
            ),
            "tradewire Consumer (decode, dedup, commits)": consume_tradewire(
                bootstrap, registry, prefix, count, Path(state)
            ),
            "tradewire decode alone, in memory (no Kafka)": decode_only(registry, prefix, values),
        }
    print(f"tradewire throughput benchmark: {SignalGenerated.__avro_name__}, {options.events} seeded events")
    print(versions())
    for title, rows in (("producer", producer_rows), ("consumer", consumer_rows)):
        baseline = next(iter(rows.values()))
        print(f"\n{title:<52}{'events/s':>12}{'vs raw':>9}")
        for name, value in rows.items():
            print(f"{name:<52}{value:>12,.0f}{value / baseline:>8.2f}x")
    if options.json:
        options.json.write_text(
            json.dumps({"versions": versions(), "producer": producer_rows, "consumer": consumer_rows}, indent=2) + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
