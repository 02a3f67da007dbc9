"""Where the registry's records live: in memory (tests, throwaway dev) or in a compacted Kafka topic.

A store takes records, makes them durable, then applies them to its `RegistryState`, in
order, so a reader never sees a change the store could still lose (read-your-writes).
Callers hold `store.lock` around each read-check-write sequence.

`KafkaStore` keeps Confluent's layout: one topic (default `_schemas`) with exactly one
partition and `cleanup.policy=compact`, created with replication factor min(3, brokers)
when missing, refused when configured otherwise. At start-up it replays the whole topic
into memory; every write is produced with `acks=all` by an idempotent producer and applied
only after its delivery report says the brokers have it.

One writer process per topic is assumed: there is no leader election (Confluent's group
protocol) and no tailing of records written by others, so two dev registries must not
share a topic. A restarted registry replays everything the previous one wrote.
"""

from __future__ import annotations

import abc
import functools
import logging
import threading
import time
import uuid
from collections.abc import Sequence
from types import TracebackType
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition
from confluent_kafka.admin import (  # type: ignore[attr-defined]  # public names, re-exported without __all__
    AdminClient,
    ConfigResource,
    NewTopic,
    ResourceType,
)

from tradewire.registry import codes
from tradewire.registry.records import Record, decode, encode
from tradewire.registry.state import RegistryState

__all__ = ["DEFAULT_TOPIC", "KafkaStore", "MemoryStore", "RegistryStore"]

DEFAULT_TOPIC = "_schemas"

_log = logging.getLogger(__name__)


class RegistryStore(abc.ABC):
    """The registry's durable log of records and the state they build."""

    def __init__(self) -> None:
        self.state = RegistryState()
        self.lock = threading.RLock()

    @property
    @abc.abstractmethod
    def description(self) -> str:
        """Where the state lives, for people."""

    @property
    def cluster_id(self) -> str:
        """The id of the Kafka cluster behind the store ('' when there is none)."""
        return ""

    @abc.abstractmethod
    def write(self, records: Sequence[Record]) -> None:
        """Make `records` durable, then apply them to `state` in order (RegistryError 5000x on failure)."""

    def close(self) -> None:
        """Release connections; the store is unusable afterwards."""
        return

    def __enter__(self) -> RegistryStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class MemoryStore(RegistryStore):
    """State in memory only: lost when the process ends. `log` keeps every record written."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[Record] = []

    @property
    def description(self) -> str:
        return "in memory (lost on exit)"

    def write(self, records: Sequence[Record]) -> None:
        for record in records:
            self.state.apply(record)
            self.log.append(record)


class KafkaStore(RegistryStore):
    """State in a compacted single-partition Kafka topic, replayed at start-up."""

    def __init__(
        self,
        bootstrap_servers: str,
        topic: str = DEFAULT_TOPIC,
        *,
        timeout_seconds: float = 30.0,
        client_config: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.bootstrap_servers = bootstrap_servers
        self.topic = topic
        self.timeout_seconds = timeout_seconds
        self._common: dict[str, Any] = {"bootstrap.servers": bootstrap_servers, **(client_config or {})}
        self._cluster_id = ""
        self._producer: Producer | None = None
        try:
            self._ensure_topic()
            self._replay()
            self._producer = Producer(
                {
                    **self._common,
                    "client.id": "tradewire-registry",
                    "acks": "all",
                    "enable.idempotence": True,
                    "linger.ms": 0,
                    "message.timeout.ms": int(timeout_seconds * 1000),
                }
            )
        except KafkaException as error:
            raise codes.store_error(f"Kafka at {bootstrap_servers} failed: {error}") from error

    @property
    def description(self) -> str:
        return f"Kafka topic {self.topic} at {self.bootstrap_servers}"

    @property
    def cluster_id(self) -> str:
        return self._cluster_id

    # -- start-up -------------------------------------------------------------------------
    def _ensure_topic(self) -> None:
        admin = AdminClient(self._common)
        # Listing every topic (not this one) so that no broker auto-creates it with defaults.
        metadata = admin.list_topics(timeout=self.timeout_seconds)
        self._cluster_id = metadata.cluster_id or ""
        if self.topic not in metadata.topics:
            replication = min(3, len(metadata.brokers))
            new_topic = NewTopic(
                self.topic, num_partitions=1, replication_factor=replication, config={"cleanup.policy": "compact"}
            )
            future = admin.create_topics([new_topic], operation_timeout=self.timeout_seconds)[self.topic]
            try:
                future.result()
                _log.info("created topic %s (1 partition, replication %d, compacted)", self.topic, replication)
            except KafkaException as error:
                if error.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                    raise
        self._verify_topic(admin)

    def _verify_topic(self, admin: AdminClient) -> None:
        deadline = time.monotonic() + self.timeout_seconds
        partitions = 0
        while True:
            described = admin.list_topics(timeout=self.timeout_seconds).topics.get(self.topic)
            if described is not None and described.error is None:
                partitions = len(described.partitions)
                if partitions and all(partition.leader >= 0 for partition in described.partitions.values()):
                    break
            if time.monotonic() >= deadline:
                break
            time.sleep(0.1)  # bounded wait: a new topic takes a moment to get a leader
        if partitions != 1:
            raise codes.store_error(
                f"The schema topic {self.topic} has {partitions} partitions; the registry needs exactly 1 "
                "(one ordered log). Use another --topic, or recreate this one with a single partition."
            )
        resource = ConfigResource(ResourceType.TOPIC, self.topic)
        entries = admin.describe_configs([resource])[resource].result(timeout=self.timeout_seconds)
        policy = entries["cleanup.policy"].value if "cleanup.policy" in entries else "delete"
        if policy != "compact":
            raise codes.store_error(
                f"The schema topic {self.topic} has cleanup.policy={policy}; the registry needs "
                "cleanup.policy=compact so that no record is ever deleted by retention. Set it with "
                f"`kafka-configs --alter --entity-type topics --entity-name {self.topic} "
                "--add-config cleanup.policy=compact`, or use another --topic."
            )

    def _replay(self) -> None:
        consumer = Consumer(
            {
                **self._common,
                "group.id": f"tradewire-registry-replay-{uuid.uuid4().hex}",
                "enable.auto.commit": False,
                "enable.partition.eof": True,
            }
        )
        try:
            partition = TopicPartition(self.topic, 0)
            low, high = consumer.get_watermark_offsets(partition, timeout=self.timeout_seconds)
            count = 0
            if high > low:
                consumer.assign([TopicPartition(self.topic, 0, OFFSET_BEGINNING)])
                count = self._consume_until(consumer, high)
            _log.info("replayed %d record(s) of %s", count, self.topic)
        finally:
            consumer.close()

    def _consume_until(self, consumer: Consumer, end: int) -> int:
        deadline = time.monotonic() + self.timeout_seconds
        count = 0
        while time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    if (message.offset() or 0) >= end:
                        return count
                    continue
                raise KafkaException(error)
            self._apply_raw(message)
            count += 1
            if (message.offset() or 0) >= end - 1:
                return count
        raise codes.store_error(f"Replaying {self.topic} did not reach offset {end} within {self.timeout_seconds} s")

    def _apply_raw(self, message: Message) -> None:
        try:
            key = decode(message.key())
            if key is None:
                raise ValueError("no key")
            self.state.apply(Record(key, decode(message.value())))
        except ValueError as error:
            _log.warning("skipping unreadable record at offset %s of %s: %s", message.offset(), self.topic, error)

    # -- writing -----------------------------------------------------------------------------
    def write(self, records: Sequence[Record]) -> None:
        if self._producer is None:
            raise codes.store_error("The Kafka store is closed")
        outcomes: dict[int, KafkaError | None] = {}
        try:
            for index, record in enumerate(records):
                self._producer.produce(
                    self.topic,
                    key=encode(record.key),
                    value=None if record.value is None else encode(record.value),
                    partition=0,
                    on_delivery=functools.partial(_remember, outcomes, index),
                )
        except (BufferError, KafkaException) as error:
            raise codes.store_error(f"Writing to {self.topic} failed: {error}") from error
        self._producer.flush(self.timeout_seconds + 5)
        for index, record in enumerate(records):
            if index not in outcomes:
                raise codes.store_error(f"Writing to {self.topic} timed out after {self.timeout_seconds} s")
            if outcomes[index] is not None:
                raise codes.store_error(f"Writing to {self.topic} failed: {outcomes[index]}")
            self.state.apply(record)

    def close(self) -> None:
        if self._producer is not None:
            self._producer.flush(self.timeout_seconds)
            self._producer = None


def _remember(outcomes: dict[int, KafkaError | None], index: int, error: KafkaError | None, _message: Message) -> None:
    outcomes[index] = error
