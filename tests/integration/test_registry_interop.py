"""confluent-kafka's own client and Avro serde, through the real broker, against the dev registry."""

from __future__ import annotations

import datetime
import struct
import uuid
from decimal import Decimal

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from confluent_kafka.schema_registry import Schema, SchemaReference, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from integration_support import REPO_ROOT

from tradewire.avro.canonical import dumps, to_json
from tradewire.avro.catalog import Catalog
from tradewire.contracts import EventMetadata, SignalDirection, SignalGenerated
from tradewire.registry.client import RegistryClient


def signals(count: int) -> list[SignalGenerated]:
    """`count` distinct valid signals."""
    now = datetime.datetime(2026, 11, 26, 12, tzinfo=datetime.UTC)
    return [
        SignalGenerated(
            metadata=EventMetadata(
                event_id=uuid.uuid4(), correlation_id=uuid.uuid4(), produced_at=now, source_agent="market-analysis-1"
            ),
            symbol="BTC-USD",
            venue="coinbase",
            direction=SignalDirection.LONG,
            strategy="momentum",
            model_version="1",
            confidence=Decimal("0.9"),
            reference_price=Decimal(50000 + index),
            horizon_seconds=60,
            expires_at=now,
            features={"rsi": Decimal("71.5")},
        )
        for index in range(count)
    ]


def create_topic(bootstrap: str, topic: str) -> None:
    """Create a one-partition topic and wait for it."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(timeout=30)


def consume(bootstrap: str, topic: str, count: int) -> list[bytes]:
    """Read `count` raw values from the start of `topic` (bounded wait)."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": f"g-{uuid.uuid4().hex}", "auto.offset.reset": "earliest"}
    )
    consumer.subscribe([topic])
    values: list[bytes] = []
    try:
        for _ in range(300):
            if len(values) >= count:
                break
            message = consumer.poll(0.2)
            if message is not None and message.error() is None:
                values.append(message.value())
    finally:
        consumer.close()
    return values


def test_confluent_serializer_pair_round_trips_through_kafka_with_default_settings(
    kafka_bootstrap: str, registry_url: str, unique: str
) -> None:
    """AvroSerializer (auto-register) and AvroDeserializer work through the broker with the dev registry,
    and the bytes are Confluent's wire format around exactly tradewire's own encoding."""
    topic = f"interop.{unique}.signals"
    create_topic(kafka_bootstrap, topic)
    catalog = Catalog.from_directory(REPO_ROOT, "schemas")
    node = catalog.files["schemas/trading/trading.signals.generated.avsc"].node
    assert node is not None
    expanded = dumps(to_json(node, expand=True))
    client = SchemaRegistryClient({"url": registry_url})
    serializer = AvroSerializer(client, expanded, lambda signal, ctx: signal.to_avro())
    deserializer = AvroDeserializer(client, None, lambda record, ctx: SignalGenerated.from_avro(record))
    context = SerializationContext(topic, MessageField.VALUE)
    sent = signals(5)
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "acks": "all", "enable.idempotence": True})
    for signal in sent:
        producer.produce(topic, serializer(signal, context))
    assert 0 == producer.flush(30)
    received = consume(kafka_bootstrap, topic, len(sent))
    registered = RegistryClient(registry_url).latest(f"{topic}-value")
    assert registered is not None
    assert [(0, registered.id)] * len(sent) == [struct.unpack(">bI", value[:5]) for value in received]
    assert sent == [deserializer(value, context) for value in received]
    assert sent == [SignalGenerated.decode(value[5:]) for value in received]


def test_confluent_serializer_without_auto_register_uses_the_pushed_schema_and_its_references(
    kafka_bootstrap: str, registry_url: str, unique: str
) -> None:
    """With auto.register.schemas=False the serializer finds the registered schema (with its reference
    to the shared metadata) and the deserializer resolves that reference to decode."""
    topic = f"interop.{unique}.referenced"
    create_topic(kafka_bootstrap, topic)
    ours = RegistryClient(registry_url)
    metadata_subject = f"{unique}.tradewire.common.EventMetadata"
    ours.register(metadata_subject, EventMetadata.__avro_schema__)
    reference = SchemaReference("tradewire.common.EventMetadata", metadata_subject, 1)
    schema = Schema(SignalGenerated.__avro_schema__, "AVRO", [reference])
    client = SchemaRegistryClient({"url": registry_url})
    registered_id = client.register_schema(f"{topic}-value", schema)
    serializer = AvroSerializer(
        client, schema, lambda signal, ctx: signal.to_avro(), conf={"auto.register.schemas": False}
    )
    deserializer = AvroDeserializer(client, None, lambda record, ctx: SignalGenerated.from_avro(record))
    context = SerializationContext(topic, MessageField.VALUE)
    sent = signals(3)
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "acks": "all", "enable.idempotence": True})
    for signal in sent:
        producer.produce(topic, serializer(signal, context))
    assert 0 == producer.flush(30)
    received = consume(kafka_bootstrap, topic, len(sent))
    assert [registered_id] * len(sent) == [struct.unpack(">I", value[1:5])[0] for value in received]
    assert sent == [deserializer(value, context) for value in received]
    assert [1] == ours.versions(f"{topic}-value")
