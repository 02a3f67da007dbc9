"""What the contracts say the topics are: one `TopicSpec` per event, from `tradewire.yaml`'s `topics`.

An event's topic gets the `topics.defaults`, overridden by its domain's entry and then by its
own (`topics.events.<topic>`). The domain is the event's namespace below the root namespace
(`tradewire.trading.SignalGenerated` -> `trading`). A prefix (`TRADEWIRE_TOPIC_PREFIX`) is put
in front of every topic name; settings are still looked up by the name the schema declares.

A cluster with fewer brokers than a topic's replication factor (the one-node dev stack)
cannot hold that many replicas: the factor is capped at the broker count and
`min.insync.replicas` at the capped factor, and every cap is reported as a `Cap`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from tradewire.avro.catalog import Catalog
from tradewire.avro.record import Event
from tradewire.config import TopicsConfig, TopicSettings
from tradewire.errors import ConfigError

__all__ = [
    "MANAGED_CONFIGS",
    "Cap",
    "TopicSpec",
    "check_prefix",
    "contract_topics",
    "domain_of",
    "events_of_catalog",
    "events_of_contracts",
]

MANAGED_CONFIGS = ("cleanup.policy", "max.message.bytes", "min.insync.replicas", "retention.ms")
"""The topic configs tradewire sets and compares; every other config of a topic is left alone."""

_LEGAL_TOPIC = re.compile(r"^[A-Za-z0-9._-]*$")
_MAX_TOPIC_LENGTH = 249


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """One contract topic as it should be on a given cluster (caps applied)."""

    name: str
    """The topic's name on the cluster (prefix included)."""
    event_topic: str
    """The topic the schema declares (no prefix): the key of `topics.events`."""
    domain: str
    partitions: int
    replication_factor: int
    configs: Mapping[str, str]
    """The managed topic configs (MANAGED_CONFIGS), as Kafka spells their values."""
    declared_replication_factor: int
    declared_min_insync_replicas: int


@dataclass(frozen=True, slots=True)
class Cap:
    """Declared replication the cluster cannot hold, and what is used instead."""

    brokers: int
    declared_replication_factor: int
    replication_factor: int
    declared_min_insync_replicas: int
    min_insync_replicas: int
    topics: tuple[str, ...]

    def describe(self) -> str:
        """One sentence for plan output."""
        capped = f"replication.factor {self.declared_replication_factor} capped at {self.replication_factor}"
        if self.min_insync_replicas != self.declared_min_insync_replicas:
            capped += (
                f" and min.insync.replicas {self.declared_min_insync_replicas} capped at {self.min_insync_replicas}"
            )
        plural = "s" if self.brokers != 1 else ""
        return f"the cluster has {self.brokers} broker{plural}: {capped} for {len(self.topics)} topic(s)"


def domain_of(fullname: str, namespace: str) -> str:
    """The domain of a type: its namespace below the root `namespace` (else its namespace's last part)."""
    space = fullname.rpartition(".")[0]
    if space.startswith(namespace + "."):
        return space[len(namespace) + 1 :]
    return space.rpartition(".")[2]


def events_of_catalog(catalog: Catalog, namespace: str) -> dict[str, str]:
    """`{event topic: domain}` of every event schema that parsed."""
    return {
        schema_file.topic: domain_of(schema_file.top.fullname, namespace)
        for schema_file in catalog
        if schema_file.topic is not None and schema_file.top is not None
    }


def events_of_contracts(events: Iterable[type[Event]], namespace: str = "tradewire") -> dict[str, str]:
    """`{event topic: domain}` of generated event classes (`tradewire.contracts.EVENTS`)."""
    return {event.TOPIC: domain_of(event.__avro_name__, namespace) for event in events}


def check_prefix(prefix: str) -> str:
    """`prefix` when it can start a Kafka topic name; ConfigError saying why not otherwise."""
    if not _LEGAL_TOPIC.match(prefix):
        raise ConfigError(f"topic prefix {prefix!r} may only hold letters, digits, '.', '_' and '-'")
    return prefix


def contract_topics(
    events: Mapping[str, str], config: TopicsConfig, *, prefix: str = "", brokers: int
) -> tuple[list[TopicSpec], list[Cap]]:
    """The spec of every event topic in `events` (`{topic: domain}`) on a cluster of `brokers`
    brokers, sorted by name, and the caps applied (see the module docstring)."""
    check_prefix(prefix)
    specs: list[TopicSpec] = []
    caps: dict[tuple[int, int, int, int], list[str]] = {}
    for topic, domain in sorted(events.items()):
        settings = config.settings(topic, domain)
        spec = _spec(prefix + topic, topic, domain, settings, max(1, brokers))
        if len(spec.name) > _MAX_TOPIC_LENGTH:
            raise ConfigError(f"topic {spec.name!r} is longer than Kafka's {_MAX_TOPIC_LENGTH} characters")
        in_sync = int(spec.configs["min.insync.replicas"])
        key = (spec.declared_replication_factor, spec.replication_factor, spec.declared_min_insync_replicas, in_sync)
        if key[0] != key[1] or key[2] != key[3]:
            caps.setdefault(key, []).append(spec.name)
        specs.append(spec)
    return specs, [
        Cap(max(1, brokers), declared, used, declared_in_sync, in_sync, tuple(names))
        for (declared, used, declared_in_sync, in_sync), names in sorted(caps.items())
    ]


def _spec(name: str, topic: str, domain: str, settings: TopicSettings, brokers: int) -> TopicSpec:
    assert settings.partitions is not None and settings.replication_factor is not None
    assert settings.min_insync_replicas is not None and settings.retention_ms is not None
    assert settings.cleanup_policy is not None and settings.max_message_bytes is not None
    replicas = min(settings.replication_factor, brokers)
    in_sync = min(settings.min_insync_replicas, replicas)
    return TopicSpec(
        name=name,
        event_topic=topic,
        domain=domain,
        partitions=settings.partitions,
        replication_factor=replicas,
        configs={
            "cleanup.policy": settings.cleanup_policy,
            "max.message.bytes": str(settings.max_message_bytes),
            "min.insync.replicas": str(in_sync),
            "retention.ms": str(settings.retention_ms),
        },
        declared_replication_factor=settings.replication_factor,
        declared_min_insync_replicas=settings.min_insync_replicas,
    )
