"""The dead-letter queue: what a dead letter carries, where it lives, how it is read and replayed.

Records a consumer group cannot handle go, byte for byte, to `TOPIC.dlq.GROUP` with
`tw.dlq.*` headers saying where they came from and why they failed (`dead_letter_headers`,
read back by `parse_dead_letter`). `read_dead_letters` reads a DLQ topic (bounded, no group),
and `replay` produces picked dead letters to `TOPIC.replay.GROUP`, which only the group that
failed reads, then writes one audit record to `tradewire.dlq.audit`.
"""

from tradewire.dlq.errors import DeadLetterError, MalformedDeadLetterError
from tradewire.dlq.headers import (
    REASONS,
    DeadLetter,
    DeadLetterReason,
    dead_letter_headers,
    parse_dead_letter,
    scrub,
)
from tradewire.dlq.reading import (
    DeadLetterFilter,
    DlqSummary,
    parse_instant,
    parse_offset_range,
    read_dead_letters,
    summarize,
)
from tradewire.dlq.replay import ReplayReport, audit_value, replay, replay_headers, replay_target
from tradewire.dlq.topics import (
    AUDIT_TOPIC,
    dlq_topic,
    ensure_audit_topic,
    ensure_dlq_topics,
    is_dlq_topic,
    is_replay_topic,
    list_dlq_topics,
    replay_topic,
    safe,
    source_of,
)

__all__ = [
    "AUDIT_TOPIC",
    "REASONS",
    "DeadLetter",
    "DeadLetterError",
    "DeadLetterFilter",
    "DeadLetterReason",
    "DlqSummary",
    "MalformedDeadLetterError",
    "ReplayReport",
    "audit_value",
    "dead_letter_headers",
    "dlq_topic",
    "ensure_audit_topic",
    "ensure_dlq_topics",
    "is_dlq_topic",
    "is_replay_topic",
    "list_dlq_topics",
    "parse_dead_letter",
    "parse_instant",
    "parse_offset_range",
    "read_dead_letters",
    "replay",
    "replay_headers",
    "replay_target",
    "replay_topic",
    "safe",
    "scrub",
    "source_of",
    "summarize",
]
