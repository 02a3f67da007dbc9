"""Helpers for the consumer integration tests: producers, topics, background consumers, raw reads.

Contract topics (a prefix and an event's topic) are made by `tradewire.topics`, like `tradewire
topics apply` makes them; other names are plain one-replica topics."""

from __future__ import annotations

import datetime
import threading
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any, ClassVar

from confluent_kafka import Consumer as RawConsumer
from confluent_kafka.admin import AdminClient, NewTopic

from tradewire.config import DEFAULT_TOPIC_SETTINGS, TopicsConfig, TopicSettings
from tradewire.consumer import Consumer, ConsumerStats
from tradewire.contracts import (
    EVENTS,
    EventMetadata,
    OrderPlaced,
    OrderSide,
    OrderType,
    SignalDirection,
    SignalGenerated,
    TimeInForce,
)
from tradewire.producer import Producer
from tradewire.settings import ProducerSettings
from tradewire.topics import ensure_contract_topics, events_of_contracts

CONTRACT_EVENTS = events_of_contracts(EVENTS)
"""{event topic: domain} of every generated contract."""


def split_contract_topic(name: str) -> tuple[str, str] | None:
    """(prefix, event topic) when `name` is a prefixed contract topic, else None."""
    for topic in sorted(CONTRACT_EVENTS, key=len, reverse=True):
        if name.endswith(topic):
            return name[: -len(topic)], topic
    return None


def create_topics(bootstrap: str, partitions: int, *topics: str, **settings: Any) -> None:
    """Create topics with `partitions` partitions and wait until each has a leader; contract topics through
    `tradewire.topics` (`settings`: TopicSettings fields, e.g. max_message_bytes=50), others directly."""
    by_prefix: dict[str, dict[str, str]] = {}
    raw = []
    for name in topics:
        contract = split_contract_topic(name)
        if contract is None:
            raw.append(name)
        else:
            by_prefix.setdefault(contract[0], {})[contract[1]] = CONTRACT_EVENTS[contract[1]]
    config = TopicsConfig(defaults=TopicSettings(partitions=partitions, **settings).over(DEFAULT_TOPIC_SETTINGS))
    for prefix, events in by_prefix.items():
        ensure_contract_topics(bootstrap, events, config, prefix=prefix)
    if raw:
        admin = AdminClient({"bootstrap.servers": bootstrap})
        for future in admin.create_topics([NewTopic(topic, partitions, 1) for topic in raw]).values():
            future.result(timeout=30)


def producer(bootstrap: str, registry: str, prefix: str, agent: str = "market-analysis") -> Producer:
    """A tradewire producer that auto-registers schemas, on prefixed topics."""
    return Producer(
        ProducerSettings(
            bootstrap_servers=bootstrap, registry_url=registry, agent=agent, auto_register=True, topic_prefix=prefix
        )
    )


def signal(symbol: str, index: int) -> SignalGenerated:
    """A valid signal for `symbol`; `index` makes its price unique."""
    now = datetime.datetime.now(datetime.UTC)
    return SignalGenerated(
        metadata=EventMetadata(
            event_id=uuid.uuid4(), correlation_id=uuid.uuid4(), produced_at=now, source_agent="market-analysis"
        ),
        symbol=symbol,
        venue="coinbase",
        direction=SignalDirection.LONG,
        strategy="momentum",
        model_version="1",
        confidence=Decimal("0.5"),
        reference_price=Decimal(index + 1),
        horizon_seconds=60,
        expires_at=now,
    )


def order_for(signal: SignalGenerated) -> OrderPlaced:
    """A market order placed for `signal` (what the tests' handlers send, or send on their own)."""
    return OrderPlaced(
        symbol=signal.symbol,
        order_id=uuid.uuid4(),
        client_order_id="c1",
        venue="v",
        signal_id=signal.metadata.event_id,
        side=OrderSide.BUY,
        order_type=OrderType.MARKET,
        time_in_force=TimeInForce.IOC,
        quantity=signal.reference_price,
        placed_at=signal.expires_at,
    )


class Background:
    """Runs a consumer in a thread until a condition holds (bounded) or it is stopped."""

    instances: ClassVar[list[Background]] = []

    def __init__(self, consumer: Consumer) -> None:
        Background.instances.append(self)
        self.consumer = consumer
        self.stats: ConsumerStats | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.stats = self.consumer.run(install_signal_handlers=False)
        except BaseException as error:
            self.error = error

    def stop(self, timeout: float = 60) -> ConsumerStats:
        """Stop the consumer and return its stats."""
        self.consumer.stop()
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "consumer did not stop"
        Background.instances.remove(self)
        assert self.error is None, self.error
        assert self.stats is not None
        return self.stats


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `condition` until true; fail naming `what` after `timeout` seconds, or at once when a
    background consumer has died (its error is the failure)."""
    deadline = time.monotonic() + timeout
    while not condition():
        for running in Background.instances:
            if running.error is not None:
                raise AssertionError(f"a background consumer failed while waiting for {what}") from running.error
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(0.05)


def read_all(
    bootstrap: str, topic: str, expected: int, timeout: float = 60
) -> list[tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]]:
    """(key, value, headers) of the first `expected` records of `topic` (bounded wait)."""
    consumer = RawConsumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"reader-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    found: list[tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]] = []
    deadline = time.monotonic() + timeout
    try:
        while len(found) < expected and time.monotonic() < deadline:
            for message in consumer.consume(num_messages=500, timeout=0.2):
                if message.error() is None:
                    found.append((message.key(), message.value(), list(message.headers() or [])))
    finally:
        consumer.close()
    return found
