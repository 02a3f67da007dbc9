"""Where dead letters and replays live: topic names, and creating those topics with the right configs.

The consumer of group G dead-letters a record of topic T to `T.dlq.G` and also reads
`T.replay.G`, so replaying a dead letter to the replay topic of the group that failed
reaches that group only. Group names are made topic-safe (`safe`). Every replay of every
DLQ is audited in one topic, `tradewire.dlq.audit`.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Mapping
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]  # public, no __all__

from tradewire.dlq.errors import DeadLetterError

__all__ = [
    "AUDIT_RETENTION_MS",
    "AUDIT_TOPIC",
    "DLQ_MARKER",
    "DLQ_RETENTION_MS",
    "KAFKA_LOG",
    "REPLAY_MARKER",
    "admin_client",
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

KAFKA_LOG = logging.getLogger("tradewire.dlq.kafka")
"""Where librdkafka's own log lines go (instead of straight to stderr)."""

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
    acknowledged with acks=all survives a broker. Idempotent; existing topics are left alone.
    """
    _ensure(bootstrap, topics, DLQ_RETENTION_MS, timeout, client_config)


def ensure_audit_topic(
    bootstrap: str, *, timeout: float = 30.0, client_config: Mapping[str, Any] | None = None
) -> None:
    """Create the audit topic when it is missing (like DLQ topics, with a long retention)."""
    _ensure(bootstrap, [AUDIT_TOPIC], AUDIT_RETENTION_MS, timeout, client_config)


def _ensure(
    bootstrap: str,
    topics: Iterable[str],
    retention_ms: int,
    timeout: float,
    client_config: Mapping[str, Any] | None,
) -> None:
    wanted = sorted(set(topics))
    if not wanted:
        return
    admin = admin_client(bootstrap, client_config)
    # Listing every topic (not the wanted ones) so that no broker auto-creates them with defaults.
    metadata = _metadata(admin, bootstrap, timeout)
    brokers = max(1, len(metadata.brokers))
    missing = [name for name in wanted if name not in metadata.topics]
    if missing:
        config = {
            "cleanup.policy": "delete",
            "retention.ms": str(retention_ms),
            "min.insync.replicas": str(min(2, brokers)),
        }
        new_topics = [
            NewTopic(name, num_partitions=1, replication_factor=min(3, brokers), config=config) for name in missing
        ]
        for name, future in admin.create_topics(new_topics, operation_timeout=timeout).items():
            try:
                future.result(timeout=timeout + 5)
            except KafkaException as error:
                if error.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                    raise DeadLetterError(f"cannot create topic {name} at {bootstrap}: {error.args[0].str()}") from None
    _wait_for_leaders(admin, bootstrap, wanted, timeout)


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
