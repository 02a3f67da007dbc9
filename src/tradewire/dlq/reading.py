"""Reading a DLQ topic: a bounded read of every dead letter (no group, no commits), filtered.

The read assigns every partition from its low watermark and stops at the high watermarks
fetched when it started, so it always ends, and never moves any group's offsets.
"""

from __future__ import annotations

import datetime
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from tradewire.dlq.errors import DeadLetterError, MalformedDeadLetterError

if TYPE_CHECKING:
    from tradewire.dlq.audit import ReplayHistory
from tradewire.dlq.headers import REASONS, DeadLetter, DeadLetterReason, parse_dead_letter
from tradewire.dlq.topics import KAFKA_LOG, admin_client, source_of

__all__ = [
    "DeadLetterFilter",
    "DlqSummary",
    "missing_dlq_message",
    "parse_instant",
    "parse_offset_range",
    "read_dead_letters",
    "read_topic",
    "reader",
    "summarize",
]


@dataclass(frozen=True, slots=True)
class DeadLetterFilter:
    """Which dead letters to pick; every criterion given must hold (None: any).

    `since` / `until` bound the last failure time (inclusive); `offsets` is an inclusive
    range of ORIGINAL offsets and `partition` an original partition; `key` is matched
    byte for byte.
    """

    reason: DeadLetterReason | None = None
    since: datetime.datetime | None = None
    until: datetime.datetime | None = None
    key: bytes | None = None
    offsets: tuple[int, int] | None = None
    partition: int | None = None

    def __post_init__(self) -> None:
        if self.reason is not None and self.reason not in REASONS:
            raise ValueError(f"reason must be one of {', '.join(REASONS)}, not {self.reason!r}")
        for name in ("since", "until"):
            moment = getattr(self, name)
            if moment is not None and moment.tzinfo is None:
                raise ValueError(f"{name} must be timezone-aware, not {moment.isoformat()}")
        if self.offsets is not None and self.offsets[0] > self.offsets[1]:
            raise ValueError(f"offset range {self.offsets[0]}-{self.offsets[1]} is empty (start after end)")

    def matches(self, letter: DeadLetter) -> bool:
        """Whether `letter` is picked."""
        record = letter.record
        return (
            (self.reason is None or letter.reason == self.reason)
            and (self.since is None or letter.last_failure >= self.since)
            and (self.until is None or letter.last_failure <= self.until)
            and (self.key is None or record.key == self.key)
            and (self.offsets is None or self.offsets[0] <= record.offset <= self.offsets[1])
            and (self.partition is None or record.partition == self.partition)
        )

    def to_json(self) -> dict[str, Any]:
        """The criteria given, as JSON values (for the audit record)."""
        criteria: dict[str, Any] = {
            "reason": self.reason,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "key": self.key.decode("utf-8", "backslashreplace") if self.key is not None else None,
            "offsets": list(self.offsets) if self.offsets else None,
            "partition": self.partition,
        }
        return {name: value for name, value in criteria.items() if value is not None}


_RANGE = re.compile(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?")


def parse_offset_range(text: str) -> tuple[int, int]:
    """`A-B` (inclusive) or a single offset `A` as a range; ValueError naming the expected syntax."""
    match = _RANGE.fullmatch(text)
    if match is None:
        raise ValueError(f"offset range must be A-B or A (non-negative integers), not {text!r}")
    start = int(match.group(1))
    end = int(match.group(2)) if match.group(2) is not None else start
    if start > end:
        raise ValueError(f"offset range {text!r} is empty: {start} is after {end}")
    return start, end


def parse_instant(text: str) -> datetime.datetime:
    """An ISO-8601 date or date-time; without an offset it is UTC; ValueError naming the expected syntax."""
    try:
        moment = datetime.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"time must be ISO-8601 like 2026-03-01 or 2026-03-01T12:30:00Z (UTC unless an offset is given), "
            f"not {text!r}"
        ) from None
    return moment.replace(tzinfo=datetime.UTC) if moment.tzinfo is None else moment.astimezone(datetime.UTC)


def reader(bootstrap: str, client_config: Mapping[str, Any] | None = None) -> Consumer:
    """A consumer for bounded reads by assignment: it never joins a group and never commits."""
    return Consumer(
        {
            "bootstrap.servers": bootstrap,
            "logger": KAFKA_LOG,
            **(client_config or {}),
            "group.id": f"tradewire-dlq-reader-{uuid.uuid4().hex}",  # required by librdkafka; never joined
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "enable.partition.eof": False,
        }
    )


def read_topic(
    bootstrap: str,
    topic: str,
    on_message: Callable[[Message], None],
    *,
    missing: str | None = None,
    timeout: float = 30.0,
    client_config: Mapping[str, Any] | None = None,
) -> None:
    """Pass every record of `topic`, up to its end when the read starts, to `on_message`, in
    (partition, offset) order within each partition.

    DeadLetterError when the read does not finish within `timeout` seconds, and when the topic
    does not exist: with `missing` as its message (`None`: a missing topic has no records).
    """
    admin = admin_client(bootstrap, client_config)
    try:
        described = admin.list_topics(timeout=timeout).topics.get(topic)
    except KafkaException as error:
        raise DeadLetterError(f"Kafka at {bootstrap} did not answer within {timeout:g} s: {error}") from None
    if described is None or described.error is not None:
        if missing is None:
            return
        raise DeadLetterError(missing)
    consumer = reader(bootstrap, client_config)
    try:
        _read(consumer, topic=topic, partitions=sorted(described.partitions), on_message=on_message, timeout=timeout)
    except KafkaException as error:
        raise DeadLetterError(f"reading {topic} at {bootstrap} failed: {error}") from None
    finally:
        consumer.close()


def read_dead_letters(
    bootstrap: str,
    dlq_topic: str,
    *,
    filters: DeadLetterFilter | None = None,
    on_malformed: Callable[[MalformedDeadLetterError], None] | None = None,
    timeout: float = 30.0,
    client_config: Mapping[str, Any] | None = None,
) -> list[DeadLetter]:
    """Every dead letter of `dlq_topic` that `filters` picks, in (partition, offset) order.

    A record that is not a dead letter raises MalformedDeadLetterError, unless `on_malformed`
    is given: then it is passed there and skipped. DeadLetterError when the topic does not
    exist or the read does not finish within `timeout` seconds.
    """
    chosen = filters or DeadLetterFilter()
    found: list[DeadLetter] = []

    def take(message: Message) -> None:
        try:
            letter = parse_dead_letter(message)
        except MalformedDeadLetterError as malformed:
            if on_malformed is None:
                raise
            on_malformed(malformed)
            return
        if chosen.matches(letter):
            found.append(letter)

    read_topic(
        bootstrap,
        dlq_topic,
        take,
        missing=missing_dlq_message(bootstrap, dlq_topic),
        timeout=timeout,
        client_config=client_config,
    )
    found.sort(key=lambda letter: (letter.dlq_partition, letter.dlq_offset))
    return found


def missing_dlq_message(bootstrap: str, dlq_topic: str) -> str:
    """What to say of a DLQ topic that does not exist."""
    try:
        source, group = source_of(dlq_topic)
    except ValueError:
        return f"there is no topic {dlq_topic} at {bootstrap}"
    return (
        f"there is no topic {dlq_topic} at {bootstrap}: group {group} has no DLQ topic for {source} "
        "(a consumer creates it when it starts); `tradewire dlq ls` lists the DLQ topics there are"
    )


def _read(
    consumer: Consumer,
    *,
    topic: str,
    partitions: list[int],
    on_message: Callable[[Message], None],
    timeout: float,
) -> None:
    ends: dict[int, int] = {}
    starts: list[TopicPartition] = []
    for partition in partitions:
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=timeout)
        if high > low:
            ends[partition] = high
            starts.append(TopicPartition(topic, partition, low))
    if not starts:
        return
    consumer.assign(starts)
    deadline = time.monotonic() + timeout
    while ends:
        if time.monotonic() > deadline:
            waiting = ", ".join(f"{topic}[{p}] up to offset {end}" for p, end in sorted(ends.items()))
            raise DeadLetterError(f"reading {waiting} did not finish within {timeout:g} s")
        for message in consumer.consume(num_messages=500, timeout=0.2):
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    continue
                raise KafkaException(error)
            partition, offset = message.partition() or 0, message.offset() or 0
            end = ends.get(partition)
            if end is None or offset >= end:
                continue  # written after the read started
            if offset >= end - 1:
                del ends[partition]
            on_message(message)
        for position in consumer.position([TopicPartition(topic, partition) for partition in ends]):
            if position.offset >= ends[position.partition]:
                del ends[position.partition]  # past the end (the last offsets may be gaps, never delivered)


@dataclass(frozen=True, slots=True)
class DlqSummary:
    """What one DLQ topic holds: counts by reason, and the oldest and newest failure."""

    topic: str
    source_topic: str
    group: str
    total: int
    by_reason: dict[str, int]
    oldest: datetime.datetime | None
    newest: datetime.datetime | None
    malformed: int = 0
    replayed: int = 0
    """Dead letters the audit topic says were replayed at least once."""

    @property
    def open(self) -> int:
        """Dead letters never replayed."""
        return self.total - self.replayed

    def to_json(self) -> dict[str, Any]:
        """The summary as JSON values."""
        return {
            "topic": self.topic,
            "source_topic": self.source_topic,
            "group": self.group,
            "total": self.total,
            "open": self.open,
            "replayed": self.replayed,
            "by_reason": self.by_reason,
            "oldest": self.oldest.isoformat() if self.oldest else None,
            "newest": self.newest.isoformat() if self.newest else None,
            "malformed": self.malformed,
        }


def summarize(
    bootstrap: str,
    dlq_topic: str,
    *,
    history: ReplayHistory | None = None,
    timeout: float = 30.0,
    client_config: Mapping[str, Any] | None = None,
) -> DlqSummary:
    """Read `dlq_topic` and count its dead letters by reason (records that are not dead letters count as
    malformed), and the replayed ones by `history` (none without it)."""
    malformed: list[MalformedDeadLetterError] = []
    letters = read_dead_letters(
        bootstrap, dlq_topic, on_malformed=malformed.append, timeout=timeout, client_config=client_config
    )
    source, group_safe = source_of(dlq_topic)
    groups = Counter(letter.group for letter in letters)
    reasons = Counter(letter.reason for letter in letters)
    failures = [letter.last_failure for letter in letters]
    return DlqSummary(
        topic=dlq_topic,
        source_topic=source,
        group=groups.most_common(1)[0][0] if groups else group_safe,
        total=len(letters),
        by_reason={reason: reasons[reason] for reason in REASONS},
        oldest=min(failures, default=None),
        newest=max(failures, default=None),
        malformed=len(malformed),
        replayed=history.replayed(letters) if history is not None else 0,
    )
