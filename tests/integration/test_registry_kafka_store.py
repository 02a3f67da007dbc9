"""KafkaStore against a real broker: the `_schemas` topic is created right, replayed at start-up, refused when wrong."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AdminClient,
    ConfigResource,
    NewTopic,
    ResourceType,
)

from tradewire.errors import RegistryError
from tradewire.registry import KafkaStore, RegistryApp
from tradewire.registry.routing import Response

ORDER_V1 = '{"type":"record","name":"Order","namespace":"tw","fields":[{"name":"a","type":"int"}]}'
ORDER_V2 = (
    '{"type":"record","name":"Order","namespace":"tw","fields":[{"name":"a","type":"int"},'
    '{"name":"b","type":"string","default":""}]}'
)
OTHER = '{"type":"record","name":"Other","namespace":"tw","fields":[{"name":"x","type":"long"}]}'


@pytest.fixture
def topic(kafka_bootstrap: str) -> Iterator[str]:
    """A fresh state topic name, deleted afterwards."""
    name = f"_schemas_it_{uuid.uuid4().hex[:10]}"
    yield name
    AdminClient({"bootstrap.servers": kafka_bootstrap}).delete_topics([name], operation_timeout=30)


def _call(app: RegistryApp, method: str, target: str, body: Any = None) -> Response:
    return app.handle(method, target, {}, json.dumps(body).encode() if body is not None else b"")


def _json(app: RegistryApp, method: str, target: str, body: Any = None) -> Any:
    response = _call(app, method, target, body)
    assert response.status == 200, response.body
    return response.json()


def _observe(app: RegistryApp) -> dict[str, Any]:
    """Everything a client can see of the subjects s and t and ids 1..3."""
    return {
        "subjects": _call(app, "GET", "/subjects?deleted=true").json(),
        "s": _call(app, "GET", "/subjects/s/versions?deleted=true").json(),
        "t": _call(app, "GET", "/subjects/t/versions?deleted=true").json(),
        "s-live": _call(app, "GET", "/subjects/s/versions").json(),
        "ids": [_call(app, "GET", f"/schemas/ids/{i}").json().get("schema") for i in (1, 2, 3)],
        "config": _call(app, "GET", "/config/s").json(),
        "global": _call(app, "GET", "/config").json(),
        "mode": _call(app, "GET", "/mode/t").json(),
    }


def test_restart_keeps_everything(kafka_bootstrap: str, topic: str) -> None:
    """A new store on the same topic, after the first is closed, sees the same subjects, ids, deletions and settings."""
    with KafkaStore(kafka_bootstrap, topic) as first:
        app = RegistryApp(first)
        assert {"id": 1, "version": 1} == {
            k: _json(app, "POST", "/subjects/s/versions", {"schema": ORDER_V1})[k] for k in ("id", "version")
        }
        assert 2 == _json(app, "POST", "/subjects/s/versions", {"schema": ORDER_V2})["id"]
        assert 1 == _json(app, "POST", "/subjects/t/versions", {"schema": ORDER_V1})["id"]
        assert 3 == _json(app, "POST", "/subjects/u/versions", {"schema": OTHER})["id"]
        _json(app, "DELETE", "/subjects/s/versions/1")
        _json(app, "DELETE", "/subjects/u")
        _json(app, "DELETE", "/subjects/u?permanent=true")
        _json(app, "PUT", "/config/s", {"compatibility": "FULL"})
        _json(app, "PUT", "/config", {"compatibility": "NONE"})
        _json(app, "PUT", "/mode/t", {"mode": "READONLY"})
        before = _observe(app)
    with KafkaStore(kafka_bootstrap, topic) as second:
        replayed = RegistryApp(second)
        assert before == _observe(replayed)
        assert {
            "subjects": ["s", "t"],
            "s": [1, 2],
            "t": [1],
            "s-live": [2],
            "ids": [ORDER_V1, ORDER_V2, None],
            "config": {"compatibilityLevel": "FULL"},
            "global": {"compatibilityLevel": "NONE"},
            "mode": {"mode": "READONLY"},
        } == before
        new = _json(replayed, "POST", "/subjects/v/versions", {"schema": OTHER.replace("long", "double")})
        assert (4, 1) == (new["id"], new["version"])


def test_soft_then_hard_delete_survive_replay(kafka_bootstrap: str, topic: str) -> None:
    """A soft-deleted subject stays soft-deleted after a restart, and can then be deleted permanently."""
    with KafkaStore(kafka_bootstrap, topic) as first:
        app = RegistryApp(first)
        _json(app, "POST", "/subjects/s/versions", {"schema": ORDER_V1})
        _json(app, "DELETE", "/subjects/s")
    with KafkaStore(kafka_bootstrap, topic) as second:
        app = RegistryApp(second)
        assert 40404 == _call(app, "DELETE", "/subjects/s").json()["error_code"]
        assert ORDER_V1 == _call(app, "GET", "/schemas/ids/1").json()["schema"]
        assert [1] == _json(app, "DELETE", "/subjects/s?permanent=true")
    with KafkaStore(kafka_bootstrap, topic) as third:
        app = RegistryApp(third)
        assert 40401 == _call(app, "GET", "/subjects/s/versions?deleted=true").json()["error_code"]
        assert 40403 == _call(app, "GET", "/schemas/ids/1").json()["error_code"]


def test_topic_is_created_compacted_with_one_partition(kafka_bootstrap: str, topic: str) -> None:
    """A missing topic is created with exactly one partition and cleanup.policy=compact."""
    with KafkaStore(kafka_bootstrap, topic):
        admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
        partitions = admin.list_topics(topic, timeout=30).topics[topic].partitions
        resource = ConfigResource(ResourceType.TOPIC, topic)
        policy = admin.describe_configs([resource])[resource].result(timeout=30)["cleanup.policy"].value
    assert (1, "compact") == (len(partitions), policy)


def test_records_on_the_topic_are_confluents(kafka_bootstrap: str, topic: str) -> None:
    """The bytes written are Confluent's JSON keys and values, in order."""
    with KafkaStore(kafka_bootstrap, topic) as store:
        app = RegistryApp(store)
        _json(app, "POST", "/subjects/s/versions", {"schema": ORDER_V1})
        _json(app, "PUT", "/config/s", {"compatibility": "FULL"})
        _json(app, "DELETE", "/subjects/s")
    consumer = Consumer(
        {"bootstrap.servers": kafka_bootstrap, "group.id": f"check-{topic}", "enable.partition.eof": True}
    )
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    records = []
    try:
        while True:
            message = consumer.poll(10)
            assert message is not None, "no end of partition within 10 s"
            error = message.error()
            if error is not None and error.code() == KafkaError._PARTITION_EOF:
                break
            records.append((message.key(), message.value()))
    finally:
        consumer.close()
    schema_value = {"subject": "s", "version": 1, "id": 1, "schema": ORDER_V1, "deleted": False}
    assert [
        (
            b'{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}',
            json.dumps(schema_value, separators=(",", ":")).encode(),
        ),
        (b'{"keytype":"CONFIG","subject":"s","magic":0}', b'{"subject":"s","compatibilityLevel":"FULL"}'),
        (b'{"keytype":"DELETE_SUBJECT","subject":"s","magic":0}', b'{"subject":"s","version":1}'),
    ] == records


def test_refuses_a_topic_with_several_partitions(kafka_bootstrap: str, topic: str) -> None:
    """A state topic with more than one partition is refused with a clear error."""
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    new_topic = NewTopic(topic, num_partitions=3, replication_factor=1, config={"cleanup.policy": "compact"})
    admin.create_topics([new_topic])[topic].result(timeout=30)
    with pytest.raises(RegistryError) as raised:
        KafkaStore(kafka_bootstrap, topic)
    assert 50001 == raised.value.error_code
    assert raised.value.message.startswith(f"The schema topic {topic} has 3 partitions; the registry needs exactly 1")


def test_refuses_a_topic_that_is_not_compacted(kafka_bootstrap: str, topic: str) -> None:
    """A state topic with cleanup.policy=delete is refused: retention would lose schemas."""
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])[topic].result(timeout=30)
    with pytest.raises(RegistryError) as raised:
        KafkaStore(kafka_bootstrap, topic)
    assert raised.value.message.startswith(
        f"The schema topic {topic} has cleanup.policy=delete; the registry needs cleanup.policy=compact"
    )
