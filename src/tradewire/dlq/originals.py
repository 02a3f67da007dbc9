"""The records `too-large` references stand for, read back from their source topics.

A reference names its record's topic, partition and offset; the record stays there until
retention (or compaction) removes it. `resolve_references` reads each one (bounded, no
group, no commits), checks that it is the record the reference describes (its value size,
and its event id when the reference kept the headers), and says why when it cannot: gone
(removed by retention or compaction, or the topic re-created) or unreadable now.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from tradewire.dlq.headers import DeadLetter, last_header, message_headers
from tradewire.dlq.reading import reader
from tradewire.errors import RawRecord

__all__ = ["Unresolved", "resolve_references"]


@dataclass(frozen=True, slots=True)
class Unresolved:
    """A reference whose record cannot be replayed: `gone` when it no longer exists, else unreadable now."""

    letter: DeadLetter
    reason: str
    gone: bool


def resolve_references(
    bootstrap: str,
    letters: Sequence[DeadLetter],
    *,
    timeout: float = 30.0,
    client_config: Mapping[str, Any] | None = None,
) -> tuple[list[DeadLetter], list[Unresolved]]:
    """`letters` with each reference's record read from its source topic (in `record`, the dead letter
    otherwise unchanged), in their order; and the references whose record could not be read."""
    if not any(letter.reference is not None for letter in letters):
        return list(letters), []
    resolved: list[DeadLetter] = []
    unresolved: list[Unresolved] = []
    consumer = reader(bootstrap, client_config)
    try:
        for letter in letters:
            if letter.reference is None:
                resolved.append(letter)
                continue
            outcome = _fetch(consumer, letter, timeout)
            if isinstance(outcome, Unresolved):
                unresolved.append(outcome)
            else:
                resolved.append(dataclasses.replace(letter, record=outcome))
    finally:
        consumer.close()
    return resolved, unresolved


def _fetch(consumer: Consumer, letter: DeadLetter, timeout: float) -> RawRecord | Unresolved:
    wanted = letter.record
    where = f"{wanted.topic}[{wanted.partition}]@{wanted.offset}"
    partition = TopicPartition(wanted.topic, wanted.partition)
    try:
        low, high = consumer.get_watermark_offsets(partition, timeout=timeout)
    except KafkaException as error:
        code = error.args[0].code() if error.args and isinstance(error.args[0], KafkaError) else None
        gone = code in (KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_TOPIC, KafkaError._UNKNOWN_PARTITION)
        problem = "the topic or partition no longer exists" if gone else f"cannot read it: {error}"
        return Unresolved(letter, f"{where}: {problem}", gone=gone)
    if wanted.offset < low:
        return Unresolved(letter, f"{where} is gone: retention removed it (the partition now starts at {low})", True)
    if wanted.offset >= high:
        return Unresolved(letter, f"{where} is gone: the partition ends at {high} (was the topic re-created?)", True)
    consumer.assign([TopicPartition(wanted.topic, wanted.partition, wanted.offset)])
    try:
        message = _next(consumer, partition, timeout)
    except KafkaException as error:
        return Unresolved(letter, f"{where}: cannot read it: {error}", gone=False)
    finally:
        consumer.unassign()
    if message is None:
        return Unresolved(letter, f"{where}: cannot read it: nothing arrived within {timeout:g} s", gone=False)
    if (message.offset() or 0) != wanted.offset:
        return Unresolved(letter, f"{where} is gone: compaction removed it", gone=True)
    return _checked(letter, message, where)


def _next(consumer: Consumer, partition: TopicPartition, timeout: float) -> Message | None:
    """The first record of `partition` the assignment delivers (None within `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in consumer.consume(num_messages=1, timeout=0.2):
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    continue
                raise KafkaException(error)
            if message.topic() == partition.topic and message.partition() == partition.partition:
                return message
    return None


def _checked(letter: DeadLetter, message: Message, where: str) -> RawRecord | Unresolved:
    """The record in `message`, when it is the one `letter` refers to."""
    reference = letter.reference
    assert reference is not None
    value = message.value()
    size = len(value) if value is not None else -1
    if size != reference.value_bytes:
        return Unresolved(
            letter,
            f"{where} is gone: the record there has a {size}-byte value, the reference's had {reference.value_bytes} "
            "(was the topic re-created?)",
            gone=True,
        )
    try:
        headers = message_headers(message)
    except (SystemError, UnicodeDecodeError):
        return Unresolved(letter, f"{where}: its header names are not UTF-8 (confluent-kafka cannot read them)", False)
    expected_id = last_header(letter.record.headers, "ce_id") if letter.headers_kept else None
    if expected_id is not None and last_header(headers, "ce_id") != expected_id:
        return Unresolved(letter, f"{where} is gone: the record there has another event id (ce_id)", gone=True)
    return RawRecord(
        topic=message.topic() or letter.record.topic,
        partition=message.partition() or 0,
        offset=message.offset() or 0,
        key=message.key(),
        value=value,
        headers=tuple((name, data if data is not None else b"") for name, data in headers),
        timestamp_ms=message.timestamp()[1],
    )
