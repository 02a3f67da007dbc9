"""Specification of dead-letter headers: what `dead_letter_headers` writes and `parse_dead_letter` reads back."""

from __future__ import annotations

import dataclasses
import datetime

import pytest
from confluent_kafka import Message
from dlq_samples import NEW_YEAR, NEW_YEAR_UTC, ORIGINAL

from tradewire.dlq import DeadLetter, MalformedDeadLetterError, dead_letter_headers, parse_dead_letter
from tradewire.dlq.headers import MAX_ERROR_MESSAGE_BYTES, last_header
from tradewire.errors import PoisonMessageError, RawRecord

DLQ = "trading.signals.generated.dlq.risk"


def _headers(record: RawRecord = ORIGINAL, error: BaseException | None = None) -> list[tuple[str, bytes]]:
    return dead_letter_headers(
        record,
        group="risk",
        reason="exhausted",
        error=error or RuntimeError("venue down"),
        attempts=5,
        first_failure=NEW_YEAR,
        last_failure=NEW_YEAR + 15.5,
    )


def _message(
    headers: list[tuple[str, bytes]], *, key: bytes | None = ORIGINAL.key, value: bytes | None = ORIGINAL.value
) -> Message:
    return Message(topic=DLQ, partition=0, offset=7, key=key, value=value, headers=headers)


def test_original_headers_come_first_then_every_dlq_header() -> None:
    """The original headers are kept unchanged and in order, followed by the eleven tw.dlq.* headers."""
    expected = [
        *ORIGINAL.headers,
        ("tw.dlq.topic", b"trading.signals.generated"),
        ("tw.dlq.partition", b"2"),
        ("tw.dlq.offset", b"41"),
        ("tw.dlq.timestamp", b"1767225599123"),
        ("tw.dlq.group", b"risk"),
        ("tw.dlq.reason", b"exhausted"),
        ("tw.dlq.error.class", b"builtins.RuntimeError"),
        ("tw.dlq.error.message", b"venue down"),
        ("tw.dlq.attempts", b"5"),
        ("tw.dlq.first.failure", b"2026-01-01T00:00:00.000000+00:00"),
        ("tw.dlq.last.failure", b"2026-01-01T00:00:15.500000+00:00"),
    ]
    assert expected == _headers()


def test_error_class_is_module_qualified() -> None:
    """A tradewire error is named with its module, so the reader knows exactly which class failed."""
    poison = PoisonMessageError("magic byte is 7", record=ORIGINAL, reason="bad-magic-byte")
    assert b"tradewire.errors.PoisonMessageError" == dict(_headers(error=poison))["tw.dlq.error.class"]


def test_error_without_text_is_described_by_its_repr() -> None:
    """An error whose message is empty is recorded as its repr rather than as nothing."""
    assert b"TimeoutError()" == dict(_headers(error=TimeoutError()))["tw.dlq.error.message"]


def test_secrets_in_the_error_message_never_reach_the_headers() -> None:
    """Passwords, URL credentials and Authorization values in an error message are scrubbed."""
    error = ConnectionError(
        "registry http://alice:s3cr3t@registry:8081 refused Authorization: Basic YWxpY2U6czNjcjN0 "
        "with {'sasl.password': 'hunter2'}"
    )
    headers = _headers(error=error)
    assert (
        b"registry http://***@registry:8081 refused Authorization: Basic *** with {'sasl.password': '***'}"
        == dict(headers)["tw.dlq.error.message"]
    )
    assert not any(secret in value for _, value in headers for secret in (b"s3cr3t", b"hunter2", b"YWxpY2U6"))


def test_long_error_message_is_cut_to_two_kib_on_a_character_boundary() -> None:
    """A message longer than 2 KiB is cut to at most 2048 UTF-8 bytes, ending in an ellipsis, never mid-character."""
    message = dict(_headers(error=ValueError("€" * 1000)))["tw.dlq.error.message"]
    assert (2046, "€" * 681 + "…") == (len(message), message.decode())
    assert MAX_ERROR_MESSAGE_BYTES >= len(message)


def test_unknown_reason_is_refused() -> None:
    """Writing a dead letter with a reason outside the three known ones raises ValueError naming them."""
    with pytest.raises(
        ValueError, match=r"^dead-letter reason must be one of poison, exhausted, non-retryable, not 'boom'$"
    ):
        dead_letter_headers(
            ORIGINAL,
            group="g",
            reason="boom",
            error=RuntimeError(),
            attempts=1,
            first_failure=0,
            last_failure=0,  # type: ignore[arg-type]
        )


def test_round_trip_gives_back_the_original_record_byte_for_byte() -> None:
    """Parsing a dead letter gives the original topic, partition, offset, timestamp, key, value and headers
    exactly, and every tw.dlq field with timezone-aware UTC times."""
    expected = DeadLetter(
        record=ORIGINAL,
        group="risk",
        reason="exhausted",
        error_class="builtins.RuntimeError",
        error_message="venue down",
        attempts=5,
        first_failure=NEW_YEAR_UTC,
        last_failure=NEW_YEAR_UTC + datetime.timedelta(seconds=15.5),
        dlq_topic=DLQ,
        dlq_partition=0,
        dlq_offset=7,
    )
    assert expected == parse_dead_letter(_message(_headers()))


def test_raw_record_from_the_dlq_parses_like_a_message() -> None:
    """A DLQ record held as a RawRecord parses to the same dead letter as the Kafka message."""
    headers = _headers()
    raw = RawRecord(DLQ, 0, 7, ORIGINAL.key, ORIGINAL.value, tuple(headers), 0)
    assert parse_dead_letter(_message(headers)) == parse_dead_letter(raw)


def test_null_key_and_value_survive_the_round_trip() -> None:
    """A record without key or value is dead-lettered and read back without them (not as empty bytes)."""
    record = dataclasses.replace(ORIGINAL, key=None, value=None)
    letter = parse_dead_letter(_message(_headers(record), key=None, value=None))
    assert (None, None) == (letter.record.key, letter.record.value)


def test_dead_letter_dead_lettered_again_keeps_the_history_and_the_reader_takes_the_last() -> None:
    """Earlier tw.dlq headers stay in place, new ones are appended, and the reader uses the newest ones."""
    first = _headers()
    again = RawRecord("trading.signals.generated.replay.risk", 0, 3, ORIGINAL.key, ORIGINAL.value, tuple(first), 5)
    headers = dead_letter_headers(
        again,
        group="risk",
        reason="non-retryable",
        error=KeyError("x"),
        attempts=1,
        first_failure=NEW_YEAR + 60,
        last_failure=NEW_YEAR + 60,
    )
    letter = parse_dead_letter(_message(headers))
    assert first == headers[: len(first)]
    assert (
        "non-retryable",
        "builtins.KeyError",
        "'x'",
        1,
        ("trading.signals.generated.replay.risk", 0, 3),
        "trading.signals.generated",
        ORIGINAL.headers,
    ) == (
        letter.reason,
        letter.error_class,
        letter.error_message,
        letter.attempts,
        (letter.record.topic, letter.record.partition, letter.record.offset),
        letter.source_topic,
        letter.record.headers,
    )


def test_event_id_is_the_last_ce_id_header() -> None:
    """The dead letter's event id is read from the last ce_id header (None when there is none)."""
    letter = parse_dead_letter(_message(_headers()))
    bare = parse_dead_letter(_message(_headers(dataclasses.replace(ORIGINAL, headers=()))))
    assert ("second", None) == (letter.event_id, bare.event_id)


def test_last_header_ignores_earlier_occurrences() -> None:
    """`last_header` returns the value of the last header of that name, None when absent."""
    headers = [("a", b"1"), ("b", b"2"), ("a", b"3")]
    assert (b"3", b"2", None) == (last_header(headers, "a"), last_header(headers, "b"), last_header(headers, "c"))


def test_record_without_dlq_headers_is_refused_naming_what_is_missing() -> None:
    """A record with no tw.dlq headers is not a dead letter: the error names where it is and every missing header."""
    with pytest.raises(MalformedDeadLetterError) as caught:
        parse_dead_letter(_message([("ce_id", b"1")]))
    assert (
        f"{DLQ}[0]@7 is not a dead letter: header(s) tw.dlq.topic, tw.dlq.partition, tw.dlq.offset, "
        "tw.dlq.timestamp, tw.dlq.group, tw.dlq.reason, tw.dlq.error.class, tw.dlq.error.message, "
        "tw.dlq.attempts, tw.dlq.first.failure, tw.dlq.last.failure missing "
        "(dead letters are written by tradewire's consumer with dead_letter_headers)"
    ) == str(caught.value)


def test_one_missing_header_is_named() -> None:
    """A record missing only tw.dlq.group is refused naming just that header."""
    headers = [header for header in _headers() if header[0] != "tw.dlq.group"]
    with pytest.raises(MalformedDeadLetterError, match=r"header\(s\) tw\.dlq\.group missing"):
        parse_dead_letter(_message(headers))


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "tw.dlq.reason",
            b"tired",
            "has tw.dlq.reason='tired'; expected one of poison, exhausted, non-retryable, too-large",
        ),
        ("tw.dlq.offset", b"forty-one", "has tw.dlq.offset='forty-one'; expected an integer"),
        ("tw.dlq.attempts", b"", "has tw.dlq.attempts=''; expected an integer"),
        (
            "tw.dlq.first.failure",
            b"yesterday",
            "has tw.dlq.first.failure='yesterday'; expected an ISO-8601 time with a UTC offset",
        ),
        (
            "tw.dlq.last.failure",
            b"2026-01-01T00:00:00",
            "has tw.dlq.last.failure='2026-01-01T00:00:00'; expected an ISO-8601 time with a UTC offset",
        ),
    ],
)
def test_unreadable_header_value_is_refused(name: str, value: bytes, message: str) -> None:
    """A tw.dlq header whose value cannot be read is refused, naming the record, the header and what was expected."""
    headers = [*_headers(), (name, value)]  # the last occurrence wins
    with pytest.raises(MalformedDeadLetterError) as caught:
        parse_dead_letter(_message(headers))
    assert f"{DLQ}[0]@7 {message}" == str(caught.value)


def test_malformed_dead_letter_is_a_value_error_and_a_tradewire_error() -> None:
    """MalformedDeadLetterError can be caught as ValueError or as the tradewire root error."""
    from tradewire.dlq import DeadLetterError
    from tradewire.errors import TradingSystemError

    assert (True, True, True) == (
        issubclass(MalformedDeadLetterError, ValueError),
        issubclass(MalformedDeadLetterError, DeadLetterError),
        issubclass(DeadLetterError, TradingSystemError),
    )
