"""Typed, frozen settings of the producer and the consumer, built from the environment.

Inside, settings are dataclasses; at the edge, Confluent-style dotted keys (`"linger.ms"`,
`"auto.register.schemas"`) are accepted and unknown keys are refused with the list of
what is allowed. Environment variables:

  TRADEWIRE_BOOTSTRAP_SERVERS   Kafka bootstrap servers (default 127.0.0.1:9092)
  TRADEWIRE_REGISTRY_URL        schema registry URL (default http://127.0.0.1:8081)
  TRADEWIRE_REGISTRY_BASIC_AUTH user:password for the registry
  TRADEWIRE_AUTO_REGISTER       1 to register schemas on first use (development only)
  TRADEWIRE_DEDUP_STORE         sqlite (default), redis://host:port/db, or none
  TRADEWIRE_STATE_DIR           where the SQLite idempotency store lives (default .tradewire/state)
  TRADEWIRE_TOPIC_PREFIX        prepended to every topic (environments sharing one cluster)
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from tradewire.errors import ConfigError

__all__ = ["MESSAGE_MAX_BYTES", "ConsumerSettings", "ProducerSettings", "RetryPolicy", "apply_overrides"]

Profile = Literal["latency", "throughput"]
KAFKA_LOG = logging.getLogger("tradewire.kafka")
"""librdkafka's own log lines, routed into Python logging (served by the clients' poll calls)."""
DEFAULT_BOOTSTRAP = "127.0.0.1:9092"
DEFAULT_REGISTRY = "http://127.0.0.1:8081"
MESSAGE_MAX_BYTES = 8 * 1024 * 1024
"""The producer's client-side `message.max.bytes` (librdkafka's default is 1,000,000): large enough
that the dead letter or replay of any record a default topic accepts (1,048,588 bytes, plus the
`tw.dlq.*` headers) can be written, and so can those of topics raised up to about 8 MiB. It caps
single records only: batches stay capped by `batch.size` (1,000,000 bytes in both profiles), so
batching and throughput are unchanged. A larger dead letter is written as a `too-large` reference."""


@dataclass(frozen=True, slots=True)
class ProducerSettings:
    """How events are produced: always acks=all and idempotent; a latency or throughput profile."""

    bootstrap_servers: str = DEFAULT_BOOTSTRAP
    registry_url: str = DEFAULT_REGISTRY
    agent: str = "unnamed-agent"
    profile: Profile = "latency"
    compression: str = "lz4"
    linger_ms: float | None = None
    auto_register: bool = False
    delivery_timeout_ms: int = 30_000
    topic_prefix: str = ""
    """Prepended to every event's topic (an environment sharing a cluster; tests)."""
    message_max_bytes: int = MESSAGE_MAX_BYTES
    """The largest record this producer sends (`message.max.bytes`); see MESSAGE_MAX_BYTES."""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def librdkafka(self) -> dict[str, Any]:
        """The librdkafka configuration (acks=all and idempotence cannot be turned off)."""
        linger = self.linger_ms if self.linger_ms is not None else (0.5 if self.profile == "latency" else 20.0)
        config: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap_servers,
            "client.id": self.agent,
            "acks": "all",
            "enable.idempotence": True,
            "compression.type": self.compression,
            "linger.ms": linger,
            "delivery.timeout.ms": self.delivery_timeout_ms,
            "message.max.bytes": self.message_max_bytes,
            "logger": KAFKA_LOG,
        }
        if self.profile == "throughput":
            config.update({"batch.size": 1_000_000, "queue.buffering.max.messages": 1_000_000})
        config.update(self.extra)
        config.update({"acks": "all", "enable.idempotence": True})
        return config

    @classmethod
    def from_env(cls, agent: str, environ: Mapping[str, str] = os.environ, **overrides: Any) -> ProducerSettings:
        """Settings from the environment, then `overrides` (field names or dotted keys)."""
        base = cls(
            bootstrap_servers=environ.get("TRADEWIRE_BOOTSTRAP_SERVERS", DEFAULT_BOOTSTRAP),
            registry_url=environ.get("TRADEWIRE_REGISTRY_URL", DEFAULT_REGISTRY),
            agent=agent,
            auto_register=environ.get("TRADEWIRE_AUTO_REGISTER", "0") == "1",
            topic_prefix=environ.get("TRADEWIRE_TOPIC_PREFIX", ""),
        )
        result: ProducerSettings = apply_overrides(base, overrides)
        return result


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter: attempt n waits a random time in [0, base * 2**(n-1)]."""

    base_seconds: float = 1.0
    retries: int = 4
    cap_seconds: float = 8.0

    def delay(self, retry: int, random: float) -> float:
        """The wait before retry number `retry` (1-based), given a uniform random number in [0, 1)."""
        ceiling: float = min(self.cap_seconds, self.base_seconds * 2 ** (retry - 1))
        return random * ceiling


@dataclass(frozen=True, slots=True)
class ConsumerSettings:
    """How events are consumed: at-least-once, deduplicated, retried, dead-lettered."""

    bootstrap_servers: str = DEFAULT_BOOTSTRAP
    registry_url: str = DEFAULT_REGISTRY
    agent: str = "unnamed-agent"
    group: str = "unnamed-group"
    handler_timeout_seconds: float = 30.0
    retry: RetryPolicy = RetryPolicy()
    dedup_store: str = "sqlite"
    dedup_ttl_seconds: float = 24 * 3600
    state_dir: str = ".tradewire/state"
    commit_interval_seconds: float = 1.0
    commit_every_messages: int = 1000
    max_parked_per_partition: int = 1000
    auto_offset_reset: str = "earliest"
    topic_prefix: str = ""
    """Prepended to every handled event's topic (must match the producers')."""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def librdkafka(self) -> dict[str, Any]:
        """The librdkafka configuration: manual commits after processing."""
        config: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap_servers,
            "group.id": self.group,
            "client.id": self.agent,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": self.auto_offset_reset,
            "partition.assignment.strategy": "cooperative-sticky",
            "max.poll.interval.ms": max(300_000, int(self.handler_timeout_seconds * 4000)),
            "session.timeout.ms": 10_000,
            "heartbeat.interval.ms": 1_000,
            "fetch.wait.max.ms": 10,
            "logger": KAFKA_LOG,
        }
        config.update(self.extra)
        config.update({"enable.auto.commit": False})
        return config

    @classmethod
    def from_env(
        cls, agent: str, group: str, environ: Mapping[str, str] = os.environ, **overrides: Any
    ) -> ConsumerSettings:
        """Settings from the environment, then `overrides` (field names or dotted keys)."""
        base = cls(
            bootstrap_servers=environ.get("TRADEWIRE_BOOTSTRAP_SERVERS", DEFAULT_BOOTSTRAP),
            registry_url=environ.get("TRADEWIRE_REGISTRY_URL", DEFAULT_REGISTRY),
            agent=agent,
            group=group,
            dedup_store=environ.get("TRADEWIRE_DEDUP_STORE", "sqlite"),
            state_dir=environ.get("TRADEWIRE_STATE_DIR", ".tradewire/state"),
            topic_prefix=environ.get("TRADEWIRE_TOPIC_PREFIX", ""),
        )
        result: ConsumerSettings = apply_overrides(base, overrides)
        return result


_ALIASES = {
    "bootstrap.servers": "bootstrap_servers",
    "schema.registry.url": "registry_url",
    "auto.register.schemas": "auto_register",
    "linger.ms": "linger_ms",
    "compression.type": "compression",
    "delivery.timeout.ms": "delivery_timeout_ms",
    "message.max.bytes": "message_max_bytes",
    "group.id": "group",
    "auto.offset.reset": "auto_offset_reset",
    "handler.timeout.seconds": "handler_timeout_seconds",
}
_LIBRDKAFKA_PASSTHROUGH = ("socket.", "ssl.", "sasl.", "security.", "fetch.", "max.", "queue.", "batch.", "statistics.")


def apply_overrides(settings: Any, overrides: Mapping[str, Any]) -> Any:
    """A copy of `settings` with `overrides` applied; unknown keys are refused, naming what is allowed."""
    fields = {f.name for f in dataclasses.fields(settings)} - {"extra"}
    changes: dict[str, Any] = {}
    extra = dict(settings.extra)
    for key, value in overrides.items():
        name = _ALIASES.get(key, key)
        if name in fields:
            changes[name] = value
        elif key.startswith(_LIBRDKAFKA_PASSTHROUGH):
            extra[key] = value
        else:
            allowed = sorted(fields | {k for k, v in _ALIASES.items() if v in fields})
            raise ConfigError(
                f"unknown setting {key!r} for {type(settings).__name__}; allowed: {', '.join(allowed)} "
                f"(and librdkafka keys starting with {', '.join(_LIBRDKAFKA_PASSTHROUGH)})"
            )
    return dataclasses.replace(settings, **changes, extra=extra)
