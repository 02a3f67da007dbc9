"""The tradewire error hierarchy: everything raised on purpose derives from `TradingSystemError`."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CodegenError",
    "ConfigError",
    "ConsumeError",
    "ContractViolationError",
    "DecodeError",
    "DedupStoreError",
    "DeliveryError",
    "DevStackError",
    "FatalConsumerError",
    "GitError",
    "HandlerTimeoutError",
    "NonRetryableError",
    "PoisonMessageError",
    "ProduceError",
    "ProduceSerializationError",
    "RawRecord",
    "RegistryError",
    "RegistryUnavailableError",
    "SerializationError",
    "TopicAdminError",
    "TopicNotFoundError",
    "TradingSystemError",
]


class TradingSystemError(Exception):
    """Root of every error tradewire raises on purpose."""


class ConfigError(TradingSystemError):
    """The repository configuration (`tradewire.yaml`) or a command's options are invalid."""


class GitError(TradingSystemError):
    """A git command failed or a ref does not exist."""


class CodegenError(TradingSystemError):
    """A schema cannot be turned into Python (an unsupported or unsafe construct)."""


class ContractViolationError(TradingSystemError, ValueError):
    """A value does not fit its contract (e.g. a decimal with more digits than its scale)."""


class DecodeError(TradingSystemError, ValueError):
    """Bytes are not a valid Avro encoding of the expected type (truncated, corrupt, trailing data)."""


class DevStackError(TradingSystemError):
    """The local development stack (Kafka, registry) cannot be started, stopped or reached."""


class RegistryError(TradingSystemError):
    """A schema registry answered with an error: `http_status` and Confluent's exact `error_code`."""

    def __init__(self, message: str, *, http_status: int, error_code: int) -> None:
        super().__init__(f"{message} (HTTP {http_status}, error code {error_code})")
        self.message = message
        self.http_status = http_status
        self.error_code = error_code


class RegistryUnavailableError(TradingSystemError):
    """A schema registry could not be reached (connection refused, timeout, DNS)."""


@dataclass(frozen=True, slots=True)
class RawRecord:
    """A Kafka record exactly as consumed: what a dead letter keeps byte for byte."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()
    timestamp_ms: int = 0


class SerializationError(TradingSystemError):
    """The kind: an event could not be turned into bytes, or bytes into an event."""


class ProduceError(TradingSystemError):
    """The stage: sending an event failed."""


class ProduceSerializationError(ProduceError, SerializationError):
    """An event could not be serialized for sending (no schema id, invalid value)."""


class DeliveryError(ProduceError):
    """The broker did not acknowledge a record (after the producer's own retries); `code` is
    librdkafka's error code (`confluent_kafka.KafkaError`), when the delivery report gave one."""

    def __init__(self, message: str, *, topic: str, retriable: bool = False, code: int | None = None) -> None:
        super().__init__(message)
        self.topic = topic
        self.retriable = retriable
        self.code = code


class TopicNotFoundError(DeliveryError):
    """The topic an event is sent to does not exist on the cluster (create it: `tradewire topics apply`)."""

    def __init__(self, topic: str, *, bootstrap: str = "", cause: str = "") -> None:
        where = f" at {bootstrap}" if bootstrap else ""
        because = f" ({cause})" if cause else ""
        super().__init__(
            f"topic {topic} does not exist{where}{because}; create the contract topics with `tradewire topics apply`",
            topic=topic,
        )


class TopicAdminError(TradingSystemError):
    """Kafka's admin API could not be reached in time, or did not create or change a topic."""


class ConsumeError(TradingSystemError):
    """The stage: handling a consumed record failed; `record` is the raw record."""

    def __init__(self, message: str, *, record: RawRecord) -> None:
        super().__init__(message)
        self.record = record


class PoisonMessageError(ConsumeError, SerializationError):
    """A consumed record can never be decoded (bad magic byte, unknown schema id, undecodable or
    truncated payload, wrong type for the topic): it goes to the dead-letter queue at once."""

    def __init__(self, message: str, *, record: RawRecord, reason: str) -> None:
        super().__init__(message, record=record)
        self.reason = reason


class NonRetryableError(TradingSystemError):
    """Raised by a handler when retrying cannot help: the record goes to the dead-letter queue at once."""


class FatalConsumerError(TradingSystemError):
    """The Kafka client of a consumer failed for good and the consumer stopped: most often it was
    fenced (`reason` "fenced") by another consumer that joined its group with the same
    `group.instance.id`. `group` and `instance_id` say which membership it lost."""

    def __init__(self, message: str, *, group: str, instance_id: str | None, reason: str) -> None:
        super().__init__(message)
        self.group = group
        self.instance_id = instance_id
        self.reason = reason


class HandlerTimeoutError(TradingSystemError):
    """A handler ran longer than its timeout; this counts as a failure of that attempt."""


class DedupStoreError(TradingSystemError):
    """The idempotency store (a SQLite file or Redis) cannot be opened, reached, read or written."""
