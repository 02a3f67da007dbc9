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
  TRADEWIRE_INSTANCE_ID         this consumer's instance id (default: `<agent>.<host name>`)

Recovery: both clients retry a lost broker connection at most `reconnect_backoff_max_ms` apart
(1 s, not librdkafka's 10 s), so a restarted broker is found within about a second. A consumer is
a *static* group member by default (`group.instance.id`): killed and restarted, it takes its
partitions back at once instead of waiting `session_timeout_ms` for the old member to expire. Its
instance id must be unique in its group: a second consumer with the same one fences the first,
which stops with `FatalConsumerError`. The group.instance.id it joins with is the instance id and a
digest of the topics it subscribes to, because the broker hands a static member that rejoins its
old assignment without looking at its subscription: a process restarted with other handlers must
join as a new member, or it would never get the partitions of its new topics.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import re
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from tradewire.errors import ConfigError

__all__ = ["MESSAGE_MAX_BYTES", "ConsumerSettings", "ProducerSettings", "RetryPolicy", "apply_overrides"]

Profile = Literal["latency", "throughput"]
Membership = Literal["static", "dynamic"]
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
INSTANCE_ID_MAX = 240
"""Longest instance id: Kafka allows 249 characters for a group.instance.id, the topics' digest takes 9."""
_INSTANCE_ID = re.compile(rf"[A-Za-z0-9._-]{{1,{INSTANCE_ID_MAX}}}")
RECONNECT_BACKOFF_MAX_MS = 1_000
"""Longest wait between two attempts to reach a broker that went away (librdkafka's default is 10 s)."""


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
    reconnect_backoff_max_ms: int = RECONNECT_BACKOFF_MAX_MS
    """Longest wait between attempts to reconnect to a broker (`reconnect.backoff.max.ms`)."""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _require_positive(self, "reconnect_backoff_max_ms")

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
            "reconnect.backoff.max.ms": self.reconnect_backoff_max_ms,
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
    membership: Membership = "static"
    """`static`: a `group.instance.id` (below), so a restarted process takes its partitions back at once;
    a static member that stops for good keeps them until `session_timeout_ms` has passed, since it
    never says it left. `dynamic`: no instance id; a member that stops leaves at once (on SIGTERM),
    a killed one is replaced only after `session_timeout_ms`, restarted or not."""
    instance_id: str | None = None
    """The static member's instance id, unique among the live consumers of the group and the same
    across restarts of one instance; None: `<agent>.<host name>`. Letters, digits, `.`, `_`, `-`
    (Kafka's rule for the id); the consumer joins as `<instance id>.<digest of its topics>`."""
    session_timeout_ms: int = 10_000
    """How long the group waits for a silent member before handing its partitions to the others."""
    reconnect_backoff_max_ms: int = RECONNECT_BACKOFF_MAX_MS
    """Longest wait between attempts to reconnect to a broker (`reconnect.backoff.max.ms`)."""
    dedup_flush_seconds: float = 0.05
    """How long handled work may stay unremembered: a batch of handlers hands back its outcomes after
    this long and the handled event ids are then made durable in the idempotency store. A process
    killed (SIGKILL, power loss) before that forgets them, and their records are handled again after
    the restart: about this much handler work is the duplicate window. Smaller means fewer duplicates
    after a crash and more store writes and thread handoffs per record (0: after every handler)."""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.membership not in ("static", "dynamic"):
            raise ConfigError(f"membership must be 'static' or 'dynamic', not {self.membership!r}")
        if self.instance_id is not None and not _INSTANCE_ID.fullmatch(self.instance_id):
            raise ConfigError(
                f"instance_id {self.instance_id!r} must be 1 to {INSTANCE_ID_MAX} letters, digits, '.', '_' or '-' "
                "(None derives it from the agent name and host)"
            )
        _require_positive(self, "session_timeout_ms")
        _require_positive(self, "reconnect_backoff_max_ms")
        if not self.dedup_flush_seconds >= 0:
            raise ConfigError(f"dedup_flush_seconds must be 0 or more, not {self.dedup_flush_seconds!r}")

    def group_instance_id(self, topics: Iterable[str] = ()) -> str | None:
        """The `group.instance.id` of a consumer of `topics` (None for a dynamic member): the instance id
        (or `<agent>.<host name>`, other characters made `_`), then `.` and 8 hex digits of a digest of
        the sorted topics when there are any."""
        if self.membership == "dynamic":
            return None
        if self.instance_id is not None:
            base = self.instance_id
        else:
            base = re.sub(r"[^A-Za-z0-9._-]", "_", f"{self.agent}.{socket.gethostname()}")[:INSTANCE_ID_MAX]
        subscribed = sorted(set(topics))
        if not subscribed:
            return base
        digest = hashlib.sha256("\n".join(subscribed).encode()).hexdigest()[:8]
        return f"{base}.{digest}"

    def librdkafka(self, topics: Iterable[str] = ()) -> dict[str, Any]:
        """The librdkafka configuration of a consumer of `topics`: manual commits after processing."""
        config: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap_servers,
            "group.id": self.group,
            "client.id": self.agent,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": self.auto_offset_reset,
            "partition.assignment.strategy": "cooperative-sticky",
            "max.poll.interval.ms": max(300_000, int(self.handler_timeout_seconds * 4000)),
            "session.timeout.ms": self.session_timeout_ms,
            "heartbeat.interval.ms": max(100, min(1_000, self.session_timeout_ms // 3)),
            "reconnect.backoff.max.ms": self.reconnect_backoff_max_ms,
            "fetch.wait.max.ms": 10,
            "logger": KAFKA_LOG,
        }
        instance = self.group_instance_id(topics)
        if instance is not None:
            config["group.instance.id"] = instance
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
            instance_id=environ.get("TRADEWIRE_INSTANCE_ID") or None,
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
    "group.instance.id": "instance_id",
    "session.timeout.ms": "session_timeout_ms",
    "reconnect.backoff.max.ms": "reconnect_backoff_max_ms",
    "dedup.flush.seconds": "dedup_flush_seconds",
}
_LIBRDKAFKA_PASSTHROUGH = (
    "socket.",
    "ssl.",
    "sasl.",
    "security.",
    "fetch.",
    "max.",
    "queue.",
    "batch.",
    "statistics.",
    "reconnect.",
    "retry.",
)


def _require_positive(settings: Any, name: str) -> None:
    value = getattr(settings, name)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{name} must be a positive whole number of milliseconds, not {value!r}")


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
