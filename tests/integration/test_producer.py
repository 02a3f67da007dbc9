"""The producer: acknowledged sends, surfaced failures, stamped metadata, CloudEvents headers."""

from __future__ import annotations

import dataclasses

import pytest
from confluent_kafka.admin import AdminClient
from consumer_support import create_topics, producer, read_all, signal
from prometheus_client import REGISTRY

from tradewire.contracts import RiskDecision, SignalRiskAssessed
from tradewire.errors import DeliveryError, ProduceSerializationError, TopicNotFoundError
from tradewire.producer import Producer
from tradewire.settings import ProducerSettings


def test_send_is_acknowledged_and_metadata_is_mirrored_in_cloudevents_headers(
    kafka_bootstrap: str, registry_url: str, unique: str
) -> None:
    """A send resolves with its partition and offset; headers mirror id, type, source, time and correlation
    (and, for a root event, its own produced_at as the chain's root time)."""
    prefix = f"t{unique}."
    create_topics(kafka_bootstrap, 1, prefix + "trading.signals.generated")
    sender = producer(kafka_bootstrap, registry_url, prefix, agent="market-analysis-7")
    try:
        delivery = sender.send(signal("BTC-USD", 1))
        delivered = delivery.result(timeout=30)
        sent = delivery.event
        assert sent is not None
        ((key, _, headers),) = read_all(kafka_bootstrap, prefix + "trading.signals.generated", 1)
    finally:
        sender.close()
    assert (prefix + "trading.signals.generated", 0, 0) == (delivered.topic, delivered.partition, delivered.offset)
    assert b"BTC-USD" == key
    expected = {
        "ce_specversion": b"1.0",
        "ce_id": str(sent.metadata.event_id).encode(),
        "ce_type": b"tradewire.trading.SignalGenerated",
        "ce_source": b"tradewire/agents/market-analysis-7",
        "ce_time": sent.metadata.produced_at.isoformat().encode(),
        "ce_correlationid": str(sent.metadata.correlation_id).encode(),
        "content-type": b"application/avro",
        "ce_roottime": sent.metadata.produced_at.isoformat().encode(),
    }
    assert expected == dict(headers)
    assert "market-analysis-7" == sent.metadata.source_agent


def test_an_event_caused_by_another_carries_its_correlation_and_causation(
    kafka_bootstrap: str, registry_url: str, unique: str
) -> None:
    """caused_by copies the root's correlation id, names the cause, and continues its trace."""
    prefix = f"t{unique}."
    create_topics(kafka_bootstrap, 1, prefix + "trading.signals.generated", prefix + "risk.signal.assessed")
    sender = producer(kafka_bootstrap, registry_url, prefix, agent="risk-1")
    try:
        root = sender.send(signal("ETH-USD", 2)).event
        assert root is not None
        parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        traced = dataclasses.replace(root, metadata=dataclasses.replace(root.metadata, traceparent=parent))
        assessed = SignalRiskAssessed(
            symbol="ETH-USD",
            signal_id=root.metadata.event_id,
            decision=RiskDecision.APPROVED,
            approved_quantity=root.reference_price,
            max_notional=root.reference_price,
            risk_score=root.confidence,
            valid_until=root.expires_at,
        )
        child = sender.send(assessed, caused_by=traced).event
        assert child is not None
        sender.flush(30)
    finally:
        sender.close()
    trace, parent_span = child.metadata.traceparent.split("-")[1:3]  # type: ignore[union-attr]
    assert (root.metadata.correlation_id, root.metadata.event_id, "0af7651916cd43dd8448eb211c80319c") == (
        child.metadata.correlation_id,
        child.metadata.causation_id,
        trace,
    )
    assert parent_span != "b7ad6b7169203331"
    assert child.metadata.event_id != root.metadata.event_id


def test_a_record_the_broker_cannot_take_fails_its_delivery_instead_of_vanishing(
    kafka_bootstrap: str, registry_url: str, unique: str
) -> None:
    """Sending a record larger than its topic takes fails the delivery with DeliveryError."""
    prefix = f"small{unique}."
    create_topics(kafka_bootstrap, 1, prefix + "trading.signals.generated", max_message_bytes=50)
    sender = producer(kafka_bootstrap, registry_url, prefix)
    try:
        delivery = sender.send(signal("X", 1))
        with pytest.raises(DeliveryError, match="not acknowledged"):
            delivery.result(timeout=30)
    finally:
        sender.close(timeout=5)


def test_sending_to_a_topic_that_does_not_exist_fails_at_once_naming_topics_apply(
    kafka_bootstrap: str, registry_url: str, unique: str
) -> None:
    """With automatic topic creation off, send raises TopicNotFoundError itself (no delivery to wait for), naming
    the topic, the cluster and `tradewire topics apply`; the send is counted as a topic_not_found error."""
    prefix = f"missing{unique}."
    sender = producer(kafka_bootstrap, registry_url, prefix)
    try:
        with pytest.raises(TopicNotFoundError) as refused:
            sender.send(signal("X", 1))
    finally:
        sender.close(timeout=5)
    assert (
        f"topic {prefix}trading.signals.generated does not exist at {kafka_bootstrap}; "
        "create the contract topics with `tradewire topics apply`"
    ) == str(refused.value)
    errors = REGISTRY.get_sample_value(
        "tradewire_produce_errors_total", {"topic": f"{prefix}trading.signals.generated", "reason": "topic_not_found"}
    )
    assert 1.0 == errors


def test_a_topic_deleted_after_the_first_send_is_named_on_the_send_after_a_failed_delivery(
    kafka_bootstrap: str, registry_url: str, unique: str
) -> None:
    """The topic is checked once; when it is deleted later, the next delivery fails and the send after that
    raises TopicNotFoundError at once (the failure made the producer check again)."""
    prefix = f"deleted{unique}."
    topic = prefix + "trading.signals.generated"
    create_topics(kafka_bootstrap, 1, topic)
    sender = Producer(
        ProducerSettings(
            bootstrap_servers=kafka_bootstrap,
            registry_url=registry_url,
            agent="a",
            auto_register=True,
            topic_prefix=prefix,
            delivery_timeout_ms=3000,
        )
    )
    try:
        sender.send(signal("X", 1)).result(timeout=30)
        admin = AdminClient({"bootstrap.servers": kafka_bootstrap})  # kept alive until its future resolves
        admin.delete_topics([topic])[topic].result(timeout=30)
        with pytest.raises(DeliveryError):
            sender.send(signal("X", 2)).result(timeout=30)
        with pytest.raises(TopicNotFoundError, match="create the contract topics with `tradewire topics apply`"):
            sender.send(signal("X", 3))
    finally:
        sender.close(timeout=5)


def test_without_auto_registration_an_unregistered_schema_is_a_clear_error(
    kafka_bootstrap: str, registry_url: str, unique: str
) -> None:
    """With auto.register.schemas off, sending an event whose schema was never pushed names the fix."""
    create_topics(kafka_bootstrap, 1, f"nopush{unique}.trading.signals.generated")
    sender = Producer(
        ProducerSettings(
            bootstrap_servers=kafka_bootstrap, registry_url=registry_url, agent="a", topic_prefix=f"nopush{unique}."
        )
    )
    try:
        with pytest.raises(ProduceSerializationError, match="run `tradewire registry push`"):
            sender.send(signal("X", 1))
    finally:
        sender.close(timeout=5)
