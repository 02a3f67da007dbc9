"""What a dead letter carries: the original record untouched, plus `tw.dlq.*` headers saying why.

`dead_letter_headers` writes them (the consumer calls it), `parse_dead_letter` reads them
back into a `DeadLetter`. The original headers come first, unchanged; the `tw.dlq.*`
headers follow, and when a record already carries some (a dead letter dead-lettered
again) they are kept and the new ones appended: the reader takes the last occurrence.
Error messages are scrubbed of secrets (`scrub`) and cut to 2 KiB.

A dead letter its DLQ topic (or the producer) refuses as too large is written instead as a
*reference* (`reference_dead_letter`): reason `too-large`, no value, the key only when it is
small, the original headers only when they are small, and `tw.dlq.original.*` headers with
the original reason and sizes, and `tw.dlq.write.error` with the refusal. The record itself
stays on its source topic (until retention), where `tw.dlq.topic/partition/offset` point.
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
    "FAILURE_REASONS",
    "HEADER_ATTEMPTS",
    "HEADER_ERROR_CLASS",
    "HEADER_ERROR_MESSAGE",
    "HEADER_FIRST_FAILURE",
    "HEADER_GROUP",
    "HEADER_HEADERS_KEPT",
    "HEADER_KEY_KEPT",
    "HEADER_LAST_FAILURE",
    "HEADER_OFFSET",
    "HEADER_ORIGINAL_HEADERS_BYTES",
    "HEADER_ORIGINAL_KEY_BYTES",
    "HEADER_ORIGINAL_REASON",
    "HEADER_ORIGINAL_VALUE_BYTES",
    "HEADER_PARTITION",
    "HEADER_REASON",
    "HEADER_TIMESTAMP",
    "HEADER_TOPIC",
    "HEADER_WRITE_ERROR",
    "MAX_ERROR_MESSAGE_BYTES",
    "MAX_REFERENCE_HEADERS_BYTES",
    "MAX_REFERENCE_KEY_BYTES",
    "REASONS",
    "DeadLetter",
    "DeadLetterReason",
    "FailureReason",
    "Reference",
    "dead_letter_headers",
    "describe_error",
    "headers_size",
    "last_header",
    "message_headers",
    "parse_dead_letter",
    "reference_dead_letter",
    "scrub",
]

FailureReason = Literal["poison", "exhausted", "non-retryable"]
"""Why a record failed: undecodable, retries used up, or a handler said retrying cannot help."""

DeadLetterReason = Literal["poison", "exhausted", "non-retryable", "too-large"]
"""Why a record was dead-lettered: a `FailureReason`, or `too-large`: the dead letter is a reference
to the record, which was too large for its DLQ topic (see `reference_dead_letter`)."""

REASONS: Final[tuple[DeadLetterReason, ...]] = get_args(DeadLetterReason)
FAILURE_REASONS: Final[tuple[FailureReason, ...]] = get_args(FailureReason)

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
HEADER_ORIGINAL_REASON = "tw.dlq.original.reason"
"""A reference's: why the record failed (poison, exhausted, non-retryable)."""
HEADER_ORIGINAL_KEY_BYTES = "tw.dlq.original.key.bytes"
"""A reference's: the size of the record's key (-1: no key)."""
HEADER_ORIGINAL_VALUE_BYTES = "tw.dlq.original.value.bytes"
"""A reference's: the size of the record's value (-1: no value)."""
HEADER_ORIGINAL_HEADERS_BYTES = "tw.dlq.original.headers.bytes"
"""A reference's: the size of the record's headers (names and values)."""
HEADER_KEY_KEPT = "tw.dlq.original.key.kept"
"""A reference's: `true` when its key is the record's, `false` when the key was too large to keep."""
HEADER_HEADERS_KEPT = "tw.dlq.original.headers.kept"
"""`false` when the record's own headers are not in the dead letter (too large for a reference, or
unreadable); absent (true) otherwise."""
HEADER_WRITE_ERROR = "tw.dlq.write.error"
"""A reference's: why the dead letter could not be written as it was (the producer's or broker's refusal)."""
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

MAX_REFERENCE_KEY_BYTES = 1024
"""A reference keeps the record's key when it has at most this many bytes."""

MAX_REFERENCE_HEADERS_BYTES = 8192
"""A reference keeps the record's headers when they have at most this many bytes (names and values)."""

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


def describe_error(error: BaseException) -> str:
    """`str(error)`, else `repr(error)` when that is empty, never raising: an exception whose own
    `__str__` or `__repr__` raises is described by its type and what that raised."""
    problem: Exception | None = None
    for render in (str, repr):
        try:
            text = render(error)
        except Exception as broken:  # a handler's exception may be broken in any way; it is described still
            problem = problem or broken
            continue
        if text:
            return text
    if problem is None:
        return type(error).__qualname__
    return f"<{type(error).__qualname__}: its __str__ and __repr__ raised {type(problem).__qualname__}>"


def headers_size(headers: Sequence[tuple[str, bytes | None]]) -> int:
    """The bytes of `headers`: every name (UTF-8) and value."""
    return sum(len(name.encode("utf-8", "surrogateescape")) + len(value or b"") for name, value in headers)


def _iso(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).isoformat(timespec="microseconds")


def dead_letter_headers(
    record: RawRecord,
    *,
    group: str,
    reason: FailureReason,
    error: BaseException,
    attempts: int,
    first_failure: float,
    last_failure: float,
    headers_kept: bool = True,
) -> list[tuple[str, bytes]]:
    """The headers of `record`'s dead letter: its own headers unchanged, then the `tw.dlq.*` ones.

    `first_failure` and `last_failure` are Unix times in seconds (`time.time()`). `headers_kept`
    False says the record had headers that could not be read (they are not in `record`).
    """
    if reason not in FAILURE_REASONS:
        raise ValueError(f"dead-letter reason must be one of {', '.join(FAILURE_REASONS)}, not {reason!r}")
    added = _failure_headers(
        record,
        group=group,
        reason=reason,
        error=error,
        attempts=attempts,
        first_failure=first_failure,
        last_failure=last_failure,
    )
    if not headers_kept:
        added.append((HEADER_HEADERS_KEPT, "false"))
    return [*record.headers, *((name, value.encode()) for name, value in added)]


def _failure_headers(
    record: RawRecord,
    *,
    group: str,
    reason: DeadLetterReason,
    error: BaseException,
    attempts: int,
    first_failure: float,
    last_failure: float,
) -> list[tuple[str, str]]:
    error_type = type(error)
    return [
        (HEADER_TOPIC, record.topic),
        (HEADER_PARTITION, str(record.partition)),
        (HEADER_OFFSET, str(record.offset)),
        (HEADER_TIMESTAMP, str(record.timestamp_ms)),
        (HEADER_GROUP, group),
        (HEADER_REASON, reason),
        (HEADER_ERROR_CLASS, f"{error_type.__module__}.{error_type.__qualname__}"),
        (HEADER_ERROR_MESSAGE, _cut(scrub(describe_error(error)), MAX_ERROR_MESSAGE_BYTES)),
        (HEADER_ATTEMPTS, str(attempts)),
        (HEADER_FIRST_FAILURE, _iso(first_failure)),
        (HEADER_LAST_FAILURE, _iso(last_failure)),
    ]


def reference_dead_letter(
    record: RawRecord,
    *,
    group: str,
    reason: FailureReason,
    error: BaseException,
    attempts: int,
    first_failure: float,
    last_failure: float,
    write_error: str,
    minimal: bool = False,
) -> tuple[bytes | None, list[tuple[str, bytes]]]:
    """The key and headers of a reference to `record` (its value is None): see the module docstring.

    `write_error` is why the dead letter could not be written as it was. `minimal` keeps neither
    the key nor the record's headers (for a DLQ topic that refuses even the usual reference).
    """
    if reason not in FAILURE_REASONS:
        raise ValueError(f"dead-letter reason must be one of {', '.join(FAILURE_REASONS)}, not {reason!r}")
    key_kept = record.key is not None and len(record.key) <= MAX_REFERENCE_KEY_BYTES and not minimal
    size = headers_size(record.headers)
    headers_kept = size <= MAX_REFERENCE_HEADERS_BYTES and not minimal
    added = _failure_headers(
        record,
        group=group,
        reason="too-large",
        error=error,
        attempts=attempts,
        first_failure=first_failure,
        last_failure=last_failure,
    )
    added += [
        (HEADER_ORIGINAL_REASON, reason),
        (HEADER_ORIGINAL_KEY_BYTES, str(len(record.key) if record.key is not None else -1)),
        (HEADER_ORIGINAL_VALUE_BYTES, str(len(record.value) if record.value is not None else -1)),
        (HEADER_ORIGINAL_HEADERS_BYTES, str(size)),
        (HEADER_KEY_KEPT, "true" if key_kept or record.key is None else "false"),
        (HEADER_HEADERS_KEPT, "true" if headers_kept else "false"),
        (HEADER_WRITE_ERROR, _cut(scrub(write_error), MAX_ERROR_MESSAGE_BYTES)),
    ]
    own = list(record.headers) if headers_kept else []
    return (record.key if key_kept else None), [*own, *((name, value.encode()) for name, value in added)]


@dataclass(frozen=True, slots=True)
class Reference:
    """What a `too-large` dead letter says of the record it stands for (which stays on its source topic)."""

    original_reason: FailureReason
    key_bytes: int
    """The record's key size (-1: it had no key)."""
    value_bytes: int
    """The record's value size (-1: it had no value)."""
    headers_bytes: int
    key_kept: bool
    """Whether the dead letter's key is the record's (False: it was too large to keep)."""
    write_error: str
    """Why the dead letter could not be written as it was."""

    @property
    def size(self) -> int:
        """The record's key, value and headers together, in bytes."""
        return max(self.key_bytes, 0) + max(self.value_bytes, 0) + self.headers_bytes


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
    reference: Reference | None = None
    """For a `too-large` dead letter: what it says of the record (its value is not in `record`)."""
    headers_kept: bool = True
    """False when the record's own headers are not in the dead letter (`record.headers` lacks them)."""

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


def message_headers(message: Message) -> list[tuple[str, bytes | None]]:
    """A consumed message's headers. Call it once per message: confluent-kafka cannot read a header
    name that is not UTF-8; its `headers()` then raises SystemError (from a UnicodeDecodeError) and
    leaves the message's headers broken, so that a second call may crash the interpreter."""
    raw = message.headers() or []
    if isinstance(raw, dict):
        raw = list(raw.items())
    return [(key, value.encode() if isinstance(value, str) else value) for key, value in raw]


def parse_dead_letter(message: Message | RawRecord) -> DeadLetter:
    """The dead letter in a record consumed from a DLQ topic; MalformedDeadLetterError when it is not one."""
    headers: list[tuple[str, bytes | None]]
    if isinstance(message, RawRecord):
        where, headers = message, list(message.headers)
    else:
        where = RawRecord(
            message.topic() or "", message.partition() or 0, message.offset() or 0, message.key(), message.value()
        )
        try:
            headers = message_headers(message)
        except (SystemError, UnicodeDecodeError) as error:
            raise MalformedDeadLetterError(
                f"{where.topic}[{where.partition}]@{where.offset} is not a dead letter: a header name is not "
                f"UTF-8 ({error.__cause__ or error})"
            ) from None
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
        reference=_reference(texts, position) if reason == "too-large" else None,
        headers_kept=texts.get(HEADER_HEADERS_KEPT, "true") != "false",
    )


def _reference(texts: dict[str, str], position: str) -> Reference:
    for name in (HEADER_ORIGINAL_REASON, HEADER_ORIGINAL_VALUE_BYTES):
        if name not in texts:
            raise MalformedDeadLetterError(f"{position} is a too-large dead letter without its {name} header")
    original_reason = texts[HEADER_ORIGINAL_REASON]
    if original_reason not in FAILURE_REASONS:
        raise MalformedDeadLetterError(
            f"{position} has {HEADER_ORIGINAL_REASON}={original_reason!r}; expected one of {', '.join(FAILURE_REASONS)}"
        )
    return Reference(
        original_reason=original_reason,
        key_bytes=_integer({HEADER_ORIGINAL_KEY_BYTES: "-1", **texts}, HEADER_ORIGINAL_KEY_BYTES, position),
        value_bytes=_integer(texts, HEADER_ORIGINAL_VALUE_BYTES, position),
        headers_bytes=_integer({HEADER_ORIGINAL_HEADERS_BYTES: "0", **texts}, HEADER_ORIGINAL_HEADERS_BYTES, position),
        key_kept=texts.get(HEADER_KEY_KEPT, "true") != "false",
        write_error=texts.get(HEADER_WRITE_ERROR, ""),
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
