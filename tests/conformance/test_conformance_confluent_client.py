"""Conformance: confluent-kafka's own SchemaRegistryClient and Avro serde work against the registry."""

from __future__ import annotations

import json
import struct
from typing import Any

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext
from conformance_helpers import Registry, quote


def _order_schema(unique: str) -> str:
    return json.dumps(
        {
            "type": "record",
            "name": f"Order{unique}",
            "namespace": "tw.conformance",
            "fields": [
                {"name": "id", "type": "string"},
                {"name": "qty", "type": "int"},
                {"name": "note", "type": ["null", "string"], "default": None},
            ],
        }
    )


ORDER = {"id": "o-1", "qty": 3, "note": "rush"}


@pytest.fixture
def topic(registry: Registry, unique: str) -> Any:
    """A unique topic whose value subject (TopicNameStrategy) is cleaned up afterwards."""
    name = f"conformance.orders.{unique}"
    yield name
    subject = quote(f"{name}-value")
    registry.call("DELETE", f"/subjects/{subject}")
    registry.call("DELETE", f"/subjects/{subject}", query={"permanent": "true"})


def _client(url: str) -> SchemaRegistryClient:
    return SchemaRegistryClient({"url": url})


def _schema_id(data: bytes) -> int:
    magic, schema_id = struct.unpack(">bI", data[:5])
    assert 0 == magic
    return int(schema_id)


def test_default_serializer_round_trip(registry_url: str, topic: str, unique: str) -> None:
    """AvroSerializer (default settings: auto-register, associated subjects) and AvroDeserializer round-trip."""
    context = SerializationContext(topic, MessageField.VALUE)
    data = AvroSerializer(_client(registry_url), _order_schema(unique))(ORDER, context)
    assert data is not None
    decoded = AvroDeserializer(_client(registry_url))(data, context)
    registered = _client(registry_url).get_latest_version(f"{topic}-value")
    assert ORDER == decoded
    assert registered.schema_id == _schema_id(data)


def test_serializer_without_auto_register_looks_the_schema_up(registry_url: str, topic: str, unique: str) -> None:
    """With auto.register.schemas off, a schema registered beforehand is found by lookup and used."""
    schema_id = _client(registry_url).register_schema(f"{topic}-value", Schema(_order_schema(unique), "AVRO"))
    context = SerializationContext(topic, MessageField.VALUE)
    serializer = AvroSerializer(_client(registry_url), _order_schema(unique), conf={"auto.register.schemas": False})
    data = serializer(ORDER, context)
    assert data is not None
    assert schema_id == _schema_id(data)
    assert ORDER == AvroDeserializer(_client(registry_url))(data, context)


def test_serializer_without_auto_register_fails_for_unknown_schema(registry_url: str, topic: str, unique: str) -> None:
    """With auto.register.schemas off and nothing registered, serializing fails with the registry's 40401."""
    serializer = AvroSerializer(_client(registry_url), _order_schema(unique), conf={"auto.register.schemas": False})
    with pytest.raises(SchemaRegistryError) as raised:
        serializer(ORDER, SerializationContext(topic, MessageField.VALUE))
    assert (404, 40401) == (raised.value.http_status_code, raised.value.error_code)


def test_client_calls(registry_url: str, topic: str, unique: str) -> None:
    """register, get_latest_version, get_schema, lookup, compatibility settings and tests, and deletion behave."""
    client = _client(registry_url)
    subject = f"{topic}-value"
    schema = Schema(_order_schema(unique), "AVRO")
    schema_id = client.register_schema(subject, schema)
    latest = client.get_latest_version(subject)
    by_id = _client(registry_url).get_schema(schema_id)
    looked_up = client.lookup_schema(subject, schema)
    assert (schema_id, 1, subject) == (latest.schema_id, latest.version, latest.subject)
    assert json.loads(_order_schema(unique)) == json.loads(by_id.schema_str)
    assert (schema_id, 1) == (looked_up.schema_id, looked_up.version)
    assert schema_id == client.register_schema(subject, Schema(_order_schema(unique), "AVRO"))

    assert {"compatibility": "FULL"} == client.set_compatibility(subject, "FULL")
    assert "FULL" == client.get_compatibility(subject)
    added = json.loads(_order_schema(unique))
    added["fields"].append({"name": "price", "type": "double"})
    assert not client.test_compatibility(subject, Schema(json.dumps(added), "AVRO"))
    added["fields"][-1]["default"] = 0.0
    assert client.test_compatibility(subject, Schema(json.dumps(added), "AVRO"))

    assert [1] == client.delete_subject(subject)
    assert [1] == client.delete_subject(subject, permanent=True)
    with pytest.raises(SchemaRegistryError) as raised:
        _client(registry_url).get_latest_version(subject)  # a fresh client: the latest version is cached
    assert (404, 40401) == (raised.value.http_status_code, raised.value.error_code)


def test_permanent_delete_without_soft_delete_is_refused(registry_url: str, topic: str, unique: str) -> None:
    """The client's delete_subject(permanent=True) alone is refused with 40405, as a real registry does."""
    client = _client(registry_url)
    client.register_schema(f"{topic}-value", Schema(_order_schema(unique), "AVRO"))
    with pytest.raises(SchemaRegistryError) as raised:
        client.delete_subject(f"{topic}-value", permanent=True)
    assert (404, 40405) == (raised.value.http_status_code, raised.value.error_code)
