"""What a dead letter carries: the original record untouched, plus `tw.dlq.*` headers saying why.

`dead_letter_headers` writes them (the consumer calls it), `parse_dead_letter` reads them
back into a `DeadLetter`. The original headers come first, unchanged; the `tw.dlq.*`
headers follow, and when a record already carries some (a dead letter dead-lettered
again) they are kept and the new ones appended: the reader takes the last occurrence.
Error messages are scrubbed of secrets (`scrub`) and cut to 2 KiB.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal, cast, get_args

from confluent_kafka import Message

from tradewire.dlq.errors import MalformedDeadLetterError
from tradewire.dlq.topics import is_replay_topic, source_of
from tradewire.errors import RawRecord

__all__ = [
    "DLQ_HEADER_PREFIX",
    "HEADER_ATTEMPTS",
    "HEADER_ERROR_CLASS",
    "HEADER_ERROR_MESSAGE",
    "HEADER_FIRST_FAILURE",
    "HEADER_GROUP",
    "HEADER_LAST_FAILURE",
    "HEADER_OFFSET",
    "HEADER_PARTITION",
    "HEADER_REASON",
    "HEADER_TIMESTAMP",
    "HEADER_TOPIC",
    "MAX_ERROR_MESSAGE_BYTES",
    "REASONS",
    "DeadLetter",
    "DeadLetterReason",
    "dead_letter_headers",
    "last_header",
    "parse_dead_letter",
    "scrub",
]

DeadLetterReason = Literal["poison", "exhausted", "non-retryable"]
"""Why a record was dead-lettered: undecodable, retries used up, or a handler said retrying cannot help."""

REASONS: Final[tuple[DeadLetterReason, ...]] = get_args(DeadLetterReason)

DLQ_HEADER_PREFIX = "tw.dlq."
HEADER_TOPIC = "tw.dlq.topic"
HEADER_PARTITION = "tw.dlq.partition"
HEADER_OFFSET = "tw.dlq.offset"
HEADER_TIMESTAMP = "tw.dlq.timestamp"
HEADER_GROUP = "tw.dlq.group"
HEADER_REASON = "tw.dlq.reason"
HEADER_ERROR_CLASS = "tw.dlq.error.class"
HEADER_ERROR_MESSAGE = "tw.dlq.error.message"
HEADER_ATTEMPTS = "tw.dlq.attempts"
HEADER_FIRST_FAILURE = "tw.dlq.first.failure"
HEADER_LAST_FAILURE = "tw.dlq.last.failure"
_REQUIRED = (
    HEADER_TOPIC,
    HEADER_PARTITION,
    HEADER_OFFSET,
    HEADER_TIMESTAMP,
    HEADER_GROUP,
    HEADER_REASON,
    HEADER_ERROR_CLASS,
    HEADER_ERROR_MESSAGE,
    HEADER_ATTEMPTS,
    HEADER_FIRST_FAILURE,
    HEADER_LAST_FAILURE,
)

MAX_ERROR_MESSAGE_BYTES = 2048
"""The error message header is cut to this many UTF-8 bytes (ending in '…' when cut)."""

_HIDDEN = "***"
_AUTHORIZATION = re.compile(
    r"(?i)\b((?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?)"
    r"(?:(basic|bearer|digest|negotiate|token)\s+)?[^\s\"',;]+"
)
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s/\"']+@")
_SECRET_ASSIGNMENT = re.compile(
    r"(?i)((?:[\w.-]*(?:password|passwd|pwd|secret|token|api[_.-]?key|credentials?|jaas\.config)"
    r"|[\w.-]*basic[_.-]?auth[\w.-]*)[\"']?\s*[:=]\s*)"
    r"(\"[^\"]*\"?|'[^']*'?|[^\s\"',;&)}\]]+)"
)


def scrub(text: str) -> str:
    """`text` with credentials replaced by `***`: Authorization header values, the user:password@
    of URLs, and the values of password / secret / token / SASL / basic-auth settings."""
    text = _AUTHORIZATION.sub(lambda m: m.group(1) + (f"{m.group(2)} " if m.group(2) else "") + _HIDDEN, text)
    text = _URL_USERINFO.sub(lambda m: m.group(1) + _HIDDEN + "@", text)
    return _SECRET_ASSIGNMENT.sub(_hide_value, text)


def _hide_value(match: re.Match[str]) -> str:
    value = match.group(2)
    quote = value[0] if value[0] in "\"'" else ""
    return match.group(1) + quote + _HIDDEN + quote


def _cut(text: str, limit: int) -> str:
    encoded = text.encode()
    if len(encoded) <= limit:
        return text
    ellipsis = "…"
    return encoded[: limit - len(ellipsis.encode())].decode("utf-8", "ignore") + ellipsis


def _iso(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).isoformat(timespec="microseconds")


def dead_letter_headers(
    record: RawRecord,
    *,
    group: str,
    reason: DeadLetterReason,
    error: BaseException,
    attempts: int,
    first_failure: float,
    last_failure: float,
) -> list[tuple[str, bytes]]:
    """The headers of `record`'s dead letter: its own headers unchanged, then the `tw.dlq.*` ones.

    `first_failure` and `last_failure` are Unix times in seconds (`time.time()`).
    """
    if reason not in REASONS:
        raise ValueError(f"dead-letter reason must be one of {', '.join(REASONS)}, not {reason!r}")
    error_type = type(error)
    message = _cut(scrub(str(error) or repr(error)), MAX_ERROR_MESSAGE_BYTES)
    added = [
        (HEADER_TOPIC, record.topic),
        (HEADER_PARTITION, str(record.partition)),
        (HEADER_OFFSET, str(record.offset)),
        (HEADER_TIMESTAMP, str(record.timestamp_ms)),
        (HEADER_GROUP, group),
        (HEADER_REASON, reason),
        (HEADER_ERROR_CLASS, f"{error_type.__module__}.{error_type.__qualname__}"),
        (HEADER_ERROR_MESSAGE, message),
        (HEADER_ATTEMPTS, str(attempts)),
        (HEADER_FIRST_FAILURE, _iso(first_failure)),
        (HEADER_LAST_FAILURE, _iso(last_failure)),
    ]
    return [*record.headers, *((name, value.encode()) for name, value in added)]


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A dead letter as read from its DLQ topic: the original record and why it failed.

    `record` is the record as the failing group consumed it, byte for byte, with its own
    headers (every `tw.dlq.*` header removed). Times are timezone-aware UTC.
    """

    record: RawRecord
    group: str
    reason: DeadLetterReason
    error_class: str
    error_message: str
    attempts: int
    first_failure: datetime.datetime
    last_failure: datetime.datetime
    dlq_topic: str
    dlq_partition: int
    dlq_offset: int

    @property
    def source_topic(self) -> str:
        """The topic the record was produced to (a record that failed again after a replay names its replay topic)."""
        topic = self.record.topic
        return source_of(topic)[0] if is_replay_topic(topic) else topic

    @property
    def event_id(self) -> str | None:
        """The CloudEvents id header (the event id, also the dedup key), when the record has one."""
        value = last_header(self.record.headers, "ce_id")
        return value.decode("utf-8", "backslashreplace") if value is not None else None


def last_header(headers: Sequence[tuple[str, bytes | None]], name: str) -> bytes | None:
    """The value of the last header called `name` (None when there is none or it has no value)."""
    for key, value in reversed(headers):
        if key == name:
            return value
    return None


def parse_dead_letter(message: Message | RawRecord) -> DeadLetter:
    """The dead letter in a record consumed from a DLQ topic; MalformedDeadLetterError when it is not one."""
    headers: list[tuple[str, bytes | None]]
    if isinstance(message, RawRecord):
        where, headers = message, list(message.headers)
    else:
        raw_headers = message.headers() or []
        if isinstance(raw_headers, dict):
            raw_headers = list(raw_headers.items())
        headers = [(key, value.encode() if isinstance(value, str) else value) for key, value in raw_headers]
        where = RawRecord(
            message.topic() or "", message.partition() or 0, message.offset() or 0, message.key(), message.value()
        )
    position = f"{where.topic}[{where.partition}]@{where.offset}"
    texts: dict[str, str] = {}
    for key, value in headers:
        if key.startswith(DLQ_HEADER_PREFIX) and value is not None:
            texts[key] = value.decode("utf-8", "replace")
    missing = [name for name in _REQUIRED if name not in texts]
    if missing:
        raise MalformedDeadLetterError(
            f"{position} is not a dead letter: header(s) {', '.join(missing)} missing "
            "(dead letters are written by tradewire's consumer with dead_letter_headers)"
        )
    reason = texts[HEADER_REASON]
    if reason not in REASONS:
        raise MalformedDeadLetterError(
            f"{position} has {HEADER_REASON}={reason!r}; expected one of {', '.join(REASONS)}"
        )
    original = tuple((key, value) for key, value in headers if not key.startswith(DLQ_HEADER_PREFIX))
    return DeadLetter(
        record=RawRecord(
            topic=texts[HEADER_TOPIC],
            partition=_integer(texts, HEADER_PARTITION, position),
            offset=_integer(texts, HEADER_OFFSET, position),
            key=where.key,
            value=where.value,
            headers=cast(tuple[tuple[str, bytes], ...], original),
            timestamp_ms=_integer(texts, HEADER_TIMESTAMP, position),
        ),
        group=texts[HEADER_GROUP],
        reason=reason,
        error_class=texts[HEADER_ERROR_CLASS],
        error_message=texts[HEADER_ERROR_MESSAGE],
        attempts=_integer(texts, HEADER_ATTEMPTS, position),
        first_failure=_instant(texts, HEADER_FIRST_FAILURE, position),
        last_failure=_instant(texts, HEADER_LAST_FAILURE, position),
        dlq_topic=where.topic,
        dlq_partition=where.partition,
        dlq_offset=where.offset,
    )


def _integer(texts: dict[str, str], name: str, position: str) -> int:
    try:
        return int(texts[name])
    except ValueError:
        raise MalformedDeadLetterError(f"{position} has {name}={texts[name]!r}; expected an integer") from None


def _instant(texts: dict[str, str], name: str, position: str) -> datetime.datetime:
    try:
        moment = datetime.datetime.fromisoformat(texts[name])
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise MalformedDeadLetterError(
            f"{position} has {name}={texts[name]!r}; expected an ISO-8601 time with a UTC offset"
        )
    return moment.astimezone(datetime.UTC)
