"""The dead-letter queue: what a dead letter carries, where it lives, how it is read and replayed.

Records a consumer group cannot handle go, byte for byte, to `TOPIC.dlq.GROUP` with
`tw.dlq.*` headers saying where they came from and why they failed (`dead_letter_headers`,
read back by `parse_dead_letter`); a record too large for that is represented by a
`too-large` reference (`reference_dead_letter`) and stays on its source topic.
`read_dead_letters` reads a DLQ topic (bounded, no group), and `replay` produces picked
dead letters (references: their records, read back) to `TOPIC.replay.GROUP`, which only the
group that failed reads, then writes one audit record to `tradewire.dlq.audit`, which
`read_replay_history` reads back.
"""

from tradewire.dlq.audit import ReplayHistory, read_replay_history
from tradewire.dlq.errors import DeadLetterError, MalformedDeadLetterError
from tradewire.dlq.headers import (
    FAILURE_REASONS,
    REASONS,
    DeadLetter,
    DeadLetterReason,
    FailureReason,
    Reference,
    dead_letter_headers,
    describe_error,
    message_headers,
    parse_dead_letter,
    reference_dead_letter,
    scrub,
)
from tradewire.dlq.originals import Unresolved, resolve_references
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
    SIZE_ALLOWANCE_BYTES,
    dead_letter_limit,
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
    "FAILURE_REASONS",
    "REASONS",
    "SIZE_ALLOWANCE_BYTES",
    "DeadLetter",
    "DeadLetterError",
    "DeadLetterFilter",
    "DeadLetterReason",
    "DlqSummary",
    "FailureReason",
    "MalformedDeadLetterError",
    "Reference",
    "ReplayHistory",
    "ReplayReport",
    "Unresolved",
    "audit_value",
    "dead_letter_headers",
    "dead_letter_limit",
    "describe_error",
    "dlq_topic",
    "ensure_audit_topic",
    "ensure_dlq_topics",
    "is_dlq_topic",
    "is_replay_topic",
    "list_dlq_topics",
    "message_headers",
    "parse_dead_letter",
    "parse_instant",
    "parse_offset_range",
    "read_dead_letters",
    "read_replay_history",
    "reference_dead_letter",
    "replay",
    "replay_headers",
    "replay_target",
    "replay_topic",
    "resolve_references",
    "safe",
    "scrub",
    "source_of",
    "summarize",
]
