"""Where dead letters and replays live: topic names, and creating those topics with the right configs.

The consumer of group G dead-letters a record of topic T to `T.dlq.G` and also reads
`T.replay.G`, so replaying a dead letter to the replay topic of the group that failed
reaches that group only. Group names are made topic-safe (`safe`). Every replay of every
DLQ is audited in one topic, `tradewire.dlq.audit`.

A DLQ or replay topic takes records as large as its source topic does, plus the headers
tradewire adds: its `max.message.bytes` is the source's effective `max.message.bytes` plus
`SIZE_ALLOWANCE_BYTES` (`dead_letter_limit`). `ensure_dlq_topics` creates them so, and raises
the limit of existing ones that are smaller (never lowers it).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Mapping
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import (  # type: ignore[attr-defined]  # public, no __all__
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewTopic,
    ResourceType,
)

from tradewire.dlq.errors import DeadLetterError

__all__ = [
    "AUDIT_RETENTION_MS",
    "AUDIT_TOPIC",
    "DLQ_MARKER",
    "DLQ_RETENTION_MS",
    "KAFKA_DEFAULT_MAX_MESSAGE_BYTES",
    "KAFKA_LOG",
    "REPLAY_MARKER",
    "SIZE_ALLOWANCE_BYTES",
    "admin_client",
    "dead_letter_limit",
    "dlq_topic",
    "ensure_audit_topic",
    "ensure_dlq_topics",
    "is_dlq_topic",
    "is_replay_topic",
    "list_dlq_topics",
    "replay_topic",
    "safe",
    "source_of",
]

DLQ_MARKER = ".dlq."
"""Between the source topic and the group in a DLQ topic's name."""

REPLAY_MARKER = ".replay."
"""Between the source topic and the group in a replay topic's name."""

AUDIT_TOPIC = "tradewire.dlq.audit"
"""One JSON record per replay: what was replayed, from where, by whom, when."""

DLQ_RETENTION_MS = 14 * 24 * 3600 * 1000
"""Dead letters and replays are kept 14 days: time to notice, fix the cause, and replay."""

AUDIT_RETENTION_MS = 400 * 24 * 3600 * 1000
"""Audit records are kept a little over a year."""

SIZE_ALLOWANCE_BYTES = 64 * 1024
"""What a DLQ or replay topic takes beyond its source topic's `max.message.bytes`: the `tw.dlq.*`
headers (at most about 3 KiB with a 2 KiB error message and long topic and group names), the
`tw.replay.*` headers of each replay (about 200 bytes), and the record and batch framing, with room
for a record replayed and dead-lettered again many times."""

KAFKA_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588
"""Kafka's default `message.max.bytes` (what a topic without its own `max.message.bytes` takes),
assumed when the broker's configuration cannot be read."""

KAFKA_LOG = logging.getLogger("tradewire.dlq.kafka")
"""Where librdkafka's own log lines go (instead of straight to stderr)."""

log = logging.getLogger("tradewire.dlq")

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def safe(group: str) -> str:
    """`group` as a topic-name part: every character outside [A-Za-z0-9._-] becomes `_`."""
    return _UNSAFE.sub("_", group)


def dlq_topic(topic: str, group: str) -> str:
    """The dead-letter topic of `group`'s failures on `topic`."""
    return f"{topic}{DLQ_MARKER}{safe(group)}"


def replay_topic(topic: str, group: str) -> str:
    """The topic `group` reads replayed records of `topic` from (and no other group does)."""
    return f"{topic}{REPLAY_MARKER}{safe(group)}"


def is_dlq_topic(name: str) -> bool:
    """Whether `name` is a DLQ topic (`*.dlq.*`, not the audit topic)."""
    return DLQ_MARKER in name and name != AUDIT_TOPIC and _last_marker(name)[1] == DLQ_MARKER


def is_replay_topic(name: str) -> bool:
    """Whether `name` is a replay topic (`*.replay.*`)."""
    return REPLAY_MARKER in name and _last_marker(name)[1] == REPLAY_MARKER


def _last_marker(name: str) -> tuple[int, str]:
    """Where the last DLQ or replay marker starts, and which one (-1, '' when there is none)."""
    return max((name.rfind(DLQ_MARKER), DLQ_MARKER), (name.rfind(REPLAY_MARKER), REPLAY_MARKER))


def source_of(name: str) -> tuple[str, str]:
    """The source topic and the topic-safe group of a DLQ or replay topic name.

    The last marker wins, so a source topic may itself contain `.dlq.` or `.replay.`
    (a group cannot: `safe` keeps dots, but group names with those words are not supported).
    """
    index, marker = _last_marker(name)
    group = name[index + len(marker) :] if index > 0 else ""
    if index <= 0 or not group:
        raise ValueError(f"{name!r} is neither a DLQ topic (TOPIC.dlq.GROUP) nor a replay topic (TOPIC.replay.GROUP)")
    return name[:index], group


def dead_letter_limit(source_max_message_bytes: int) -> int:
    """The `max.message.bytes` of the DLQ and replay topics of a source topic that takes records up to
    `source_max_message_bytes`."""
    return source_max_message_bytes + SIZE_ALLOWANCE_BYTES


def admin_client(bootstrap: str, client_config: Mapping[str, Any] | None = None) -> AdminClient:
    """An AdminClient for `bootstrap` (plus librdkafka settings such as SASL or TLS)."""
    config: dict[str, Any] = {"bootstrap.servers": bootstrap, "logger": KAFKA_LOG, **(client_config or {})}
    return AdminClient(config)


def list_dlq_topics(
    bootstrap: str, *, timeout: float = 30.0, client_config: Mapping[str, Any] | None = None
) -> list[str]:
    """Every DLQ topic of the cluster, sorted."""
    return sorted(
        name for name in _topics(admin_client(bootstrap, client_config), bootstrap, timeout) if is_dlq_topic(name)
    )


def _topics(admin: AdminClient, bootstrap: str, timeout: float) -> dict[str, Any]:
    try:
        topics: dict[str, Any] = admin.list_topics(timeout=timeout).topics
    except KafkaException as error:
        raise DeadLetterError(f"Kafka at {bootstrap} did not answer within {timeout:g} s: {error}") from None
    return topics


def ensure_dlq_topics(
    bootstrap: str,
    topics: Iterable[str],
    *,
    timeout: float = 30.0,
    client_config: Mapping[str, Any] | None = None,
) -> None:
    """Create the missing DLQ / replay `topics`; wait (bounded) until each has a leader.

    One partition each, `cleanup.policy=delete`, 14 days' retention, replication factor
    min(3, brokers) and `min.insync.replicas` min(2, brokers), so that a dead letter
    acknowledged with acks=all survives a broker; `max.message.bytes` is `dead_letter_limit`
    of the source topic's (the broker's default when the source does not exist). Idempotent:
    existing topics are left alone, except that a `max.message.bytes` below that is raised.
    When the sizes cannot be read or raised (no permission), that is logged and the topics
    are used as they are: a dead letter too large for its topic is written as a reference.
    """
    wanted = sorted(set(topics))
    if not wanted:
        return
    admin = admin_client(bootstrap, client_config)
    metadata = _metadata(admin, bootstrap, timeout)
    limits = _wanted_limits(admin, metadata, wanted, timeout)
    _create(admin, bootstrap, metadata, wanted, retention_ms=DLQ_RETENTION_MS, timeout=timeout, limits=limits)
    _raise_limits(admin, metadata, wanted, limits, timeout)
    _wait_for_leaders(admin, bootstrap, wanted, timeout)


def ensure_audit_topic(
    bootstrap: str, *, timeout: float = 30.0, client_config: Mapping[str, Any] | None = None
) -> None:
    """Create the audit topic when it is missing (like DLQ topics, with a long retention)."""
    admin = admin_client(bootstrap, client_config)
    metadata = _metadata(admin, bootstrap, timeout)
    _create(admin, bootstrap, metadata, [AUDIT_TOPIC], retention_ms=AUDIT_RETENTION_MS, timeout=timeout, limits={})
    _wait_for_leaders(admin, bootstrap, [AUDIT_TOPIC], timeout)


def _create(
    admin: AdminClient,
    bootstrap: str,
    metadata: Any,
    wanted: list[str],
    *,
    retention_ms: int,
    timeout: float,
    limits: Mapping[str, int],
) -> None:
    # `metadata` lists every topic (not the wanted ones), so that no broker auto-creates them with defaults.
    brokers = max(1, len(metadata.brokers))
    missing = [name for name in wanted if name not in metadata.topics]
    if not missing:
        return
    config = {
        "cleanup.policy": "delete",
        "retention.ms": str(retention_ms),
        "min.insync.replicas": str(min(2, brokers)),
    }
    new_topics = [
        NewTopic(
            name,
            num_partitions=1,
            replication_factor=min(3, brokers),
            config={**config, **({"max.message.bytes": str(limits[name])} if name in limits else {})},
        )
        for name in missing
    ]
    for name, future in admin.create_topics(new_topics, operation_timeout=timeout).items():
        try:
            future.result(timeout=timeout + 5)
        except KafkaException as error:
            if error.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise DeadLetterError(f"cannot create topic {name} at {bootstrap}: {error.args[0].str()}") from None
        else:
            log.info("created topic %s at %s", name, bootstrap)


def _wanted_limits(admin: AdminClient, metadata: Any, wanted: list[str], timeout: float) -> dict[str, int]:
    """The `max.message.bytes` each DLQ / replay topic should have (from its source topic's)."""
    sources = {name: source_of(name)[0] for name in wanted if is_dlq_topic(name) or is_replay_topic(name)}
    existing = sorted({source for source in sources.values() if source in metadata.topics})
    described = _max_message_bytes(admin, existing, timeout)
    default = _broker_default(admin, metadata, timeout) if len(described) < len(set(sources.values())) else 0
    return {name: dead_letter_limit(described.get(source) or default) for name, source in sources.items()}


def _raise_limits(
    admin: AdminClient, metadata: Any, wanted: list[str], limits: Mapping[str, int], timeout: float
) -> None:
    """Raise the `max.message.bytes` of existing topics of `wanted` that are below `limits` (never lower it)."""
    existing = [name for name in wanted if name in metadata.topics]
    current = _max_message_bytes(admin, existing, timeout)
    smaller = [name for name in existing if name in current and current[name] < limits[name]]
    if not smaller:
        return
    resources = [
        ConfigResource(
            ResourceType.TOPIC,
            name,
            incremental_configs=[
                ConfigEntry("max.message.bytes", str(limits[name]), incremental_operation=AlterConfigOpType.SET)
            ],
        )
        for name in smaller
    ]
    for resource, future in admin.incremental_alter_configs(resources, request_timeout=timeout).items():
        try:
            future.result(timeout=timeout + 5)
        except (KafkaException, TimeoutError) as error:
            log.warning(
                "cannot raise max.message.bytes of %s to %d (it is %d): %s; dead letters larger than that "
                "are written as too-large references",
                resource.name,
                limits[resource.name],
                current[resource.name],
                error.args[0].str() if isinstance(error, KafkaException) else error,
            )
        else:
            log.info(
                "raised max.message.bytes of %s from %d to %d",
                resource.name,
                current[resource.name],
                limits[resource.name],
            )


def _max_message_bytes(admin: AdminClient, topics: list[str], timeout: float) -> dict[str, int]:
    """The effective `max.message.bytes` of each of `topics` that could be described."""
    if not topics:
        return {}
    resources = [ConfigResource(ResourceType.TOPIC, name) for name in topics]
    found: dict[str, int] = {}
    for resource, future in admin.describe_configs(resources, request_timeout=timeout).items():
        try:
            entry = future.result(timeout=timeout + 5).get("max.message.bytes")
            if entry is not None and entry.value is not None:
                found[resource.name] = int(entry.value)
        except (KafkaException, ValueError, TimeoutError) as error:
            log.warning("cannot read max.message.bytes of %s: %s", resource.name, error)
    return found


def _broker_default(admin: AdminClient, metadata: Any, timeout: float) -> int:
    """The broker's `message.max.bytes` (what topics take by default), or Kafka's default when unreadable."""
    if not metadata.brokers:
        return KAFKA_DEFAULT_MAX_MESSAGE_BYTES
    resource = ConfigResource(ResourceType.BROKER, str(min(metadata.brokers)))
    try:
        entry = admin.describe_configs([resource], request_timeout=timeout)[resource].result(timeout=timeout + 5)
        return int(entry["message.max.bytes"].value)
    except (KafkaException, KeyError, ValueError, TypeError, TimeoutError) as error:
        log.warning("cannot read the broker's message.max.bytes (%s); assuming Kafka's default", error)
        return KAFKA_DEFAULT_MAX_MESSAGE_BYTES


def _metadata(admin: AdminClient, bootstrap: str, timeout: float) -> Any:
    try:
        return admin.list_topics(timeout=timeout)
    except KafkaException as error:
        raise DeadLetterError(f"Kafka at {bootstrap} did not answer within {timeout:g} s: {error}") from None


def _wait_for_leaders(admin: AdminClient, bootstrap: str, topics: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        described = _metadata(admin, bootstrap, timeout).topics
        waiting = [name for name in topics if not _has_leaders(described.get(name))]
        if not waiting:
            return
        if time.monotonic() > deadline:
            raise DeadLetterError(f"topic(s) {', '.join(waiting)} at {bootstrap} had no leader after {timeout:g} s")
        time.sleep(0.1)  # bounded: a new topic takes a moment to get a leader


def _has_leaders(topic: Any) -> bool:
    if topic is None or topic.error is not None or not topic.partitions:
        return False
    return all(partition.leader >= 0 for partition in topic.partitions.values())
