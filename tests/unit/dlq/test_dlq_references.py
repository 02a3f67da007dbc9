"""Specification of a `too-large` reference: what it keeps of the record, what it says of it, how it reads back."""

from __future__ import annotations

import dataclasses

import pytest
from dlq_samples import NEW_YEAR, ORIGINAL

from tradewire.dlq import (
    SIZE_ALLOWANCE_BYTES,
    MalformedDeadLetterError,
    Reference,
    dead_letter_headers,
    dead_letter_limit,
    describe_error,
    parse_dead_letter,
    reference_dead_letter,
)
from tradewire.errors import RawRecord

BIG = dataclasses.replace(ORIGINAL, value=b"\x00" * 2_000_000)
"""ORIGINAL with a 2 MB value."""

WRITE_ERROR = "record for trading.signals.generated.dlq.risk not acknowledged: Broker: Message size too large"


def reference(record: RawRecord = BIG, *, minimal: bool = False) -> tuple[bytes | None, list[tuple[str, bytes]]]:
    """The key and headers of a reference to `record` (group risk, exhausted after 5 attempts)."""
    return reference_dead_letter(
        record,
        group="risk",
        reason="exhausted",
        error=RuntimeError("venue down"),
        attempts=5,
        first_failure=NEW_YEAR,
        last_failure=NEW_YEAR + 15,
        write_error=WRITE_ERROR,
        minimal=minimal,
    )


def in_dlq(key: bytes | None, headers: list[tuple[str, bytes]], value: bytes | None = None) -> RawRecord:
    """The reference as read from its DLQ topic."""
    return RawRecord("trading.signals.generated.dlq.risk", 0, 9, key, value, tuple(headers))


def test_a_reference_keeps_a_small_key_and_small_headers_and_says_what_it_stands_for() -> None:
    """A reference to a 2 MB record: the key and the record's own headers, then the tw.dlq.* headers with
    reason too-large, the original reason, the sizes and the refusal; no value."""
    key, headers = reference()
    added = dict(headers[len(ORIGINAL.headers) :])
    assert (b"AAPL", list(ORIGINAL.headers)) == (key, headers[: len(ORIGINAL.headers)])
    assert {
        "tw.dlq.topic": b"trading.signals.generated",
        "tw.dlq.partition": b"2",
        "tw.dlq.offset": b"41",
        "tw.dlq.reason": b"too-large",
        "tw.dlq.error.class": b"builtins.RuntimeError",
        "tw.dlq.error.message": b"venue down",
        "tw.dlq.original.reason": b"exhausted",
        "tw.dlq.original.key.bytes": b"4",
        "tw.dlq.original.value.bytes": b"2000000",
        "tw.dlq.original.headers.bytes": b"61",  # ce_id + 36, binary + 3, ce_id + second
        "tw.dlq.original.key.kept": b"true",
        "tw.dlq.original.headers.kept": b"true",
        "tw.dlq.write.error": WRITE_ERROR.encode(),
    }.items() <= added.items()


def test_a_large_key_and_large_headers_are_not_kept_but_measured() -> None:
    """A 2 KiB key and 9 KiB of headers are left out of the reference; their sizes are in it."""
    record = dataclasses.replace(BIG, key=b"k" * 2048, headers=(("trace", b"t" * 9000),))
    key, headers = reference(record)
    found = dict(headers)
    assert (None, [], b"2048", b"false", b"9005", b"false") == (
        key,
        [name for name, _ in headers if not name.startswith("tw.dlq.")],
        found["tw.dlq.original.key.bytes"],
        found["tw.dlq.original.key.kept"],
        found["tw.dlq.original.headers.bytes"],
        found["tw.dlq.original.headers.kept"],
    )


def test_a_minimal_reference_keeps_neither_key_nor_headers() -> None:
    """For a DLQ topic that refused even the reference: no key, none of the record's headers."""
    key, headers = reference(minimal=True)
    assert (None, [], b"false", b"false") == (
        key,
        [name for name, _ in headers if not name.startswith("tw.dlq.")],
        dict(headers)["tw.dlq.original.key.kept"],
        dict(headers)["tw.dlq.original.headers.kept"],
    )


def test_a_reference_reads_back_as_a_too_large_dead_letter_pointing_at_its_record() -> None:
    """parse_dead_letter gives reason too-large, the record's coordinates, its key and headers, no value, and
    the Reference with the original reason, sizes and refusal."""
    key, headers = reference()
    letter = parse_dead_letter(in_dlq(key, headers))
    assert (
        "too-large",
        dataclasses.replace(ORIGINAL, value=None),
        Reference("exhausted", 4, 2_000_000, 61, key_kept=True, write_error=WRITE_ERROR),
        2_000_065,
        True,
    ) == (letter.reason, letter.record, letter.reference, letter.reference.size, letter.headers_kept)  # type: ignore[union-attr]


def test_a_too_large_dead_letter_without_its_original_reason_is_malformed() -> None:
    """reason too-large without tw.dlq.original.reason is not a dead letter tradewire wrote."""
    key, headers = reference()
    headers = [(name, value) for name, value in headers if name != "tw.dlq.original.reason"]
    with pytest.raises(MalformedDeadLetterError) as caught:
        parse_dead_letter(in_dlq(key, headers))
    expected = (
        "trading.signals.generated.dlq.risk[0]@9 is a too-large dead letter without its tw.dlq.original.reason header"
    )
    assert expected == str(caught.value)


def test_a_reference_to_a_reference_is_refused() -> None:
    """A reference's original reason is why the record failed, never too-large."""
    with pytest.raises(ValueError, match=r"^dead-letter reason must be one of poison, exhausted, non-retryable, "):
        reference_dead_letter(
            BIG,
            group="risk",
            reason="too-large",  # type: ignore[arg-type]
            error=RuntimeError("x"),
            attempts=1,
            first_failure=NEW_YEAR,
            last_failure=NEW_YEAR,
            write_error="",
        )


def test_a_dead_letter_without_the_records_headers_says_so() -> None:
    """headers_kept=False (the record's header names were unreadable) adds tw.dlq.original.headers.kept: false,
    and the dead letter reads back with headers_kept False."""
    record = dataclasses.replace(ORIGINAL, headers=())
    headers = dead_letter_headers(
        record,
        group="risk",
        reason="poison",
        error=ValueError("a header name is not UTF-8"),
        attempts=0,
        first_failure=NEW_YEAR,
        last_failure=NEW_YEAR,
        headers_kept=False,
    )
    letter = parse_dead_letter(in_dlq(record.key, headers, record.value))
    assert (b"false", False, (), None) == (
        dict(headers)["tw.dlq.original.headers.kept"],
        letter.headers_kept,
        letter.record.headers,
        letter.reference,
    )


class _UnprintableError(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no")

    def __repr__(self) -> str:
        raise RuntimeError("no")


class _OnlyReprError(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no")


def test_an_error_is_described_even_when_its_str_and_repr_raise() -> None:
    """describe_error: str, else repr, else the type and what broke; it never raises."""
    assert ["venue down", "_OnlyReprError()", "<_UnprintableError: its __str__ and __repr__ raised RuntimeError>"] == [
        describe_error(RuntimeError("venue down")),
        describe_error(_OnlyReprError()),
        describe_error(_UnprintableError()),
    ]


def test_dlq_and_replay_topics_take_their_sources_limit_plus_the_allowance() -> None:
    """A source taking 1,048,588 bytes (Kafka's default) gets DLQ and replay topics taking 64 KiB more."""
    assert (65_536, 1_114_124) == (SIZE_ALLOWANCE_BYTES, dead_letter_limit(1_048_588))
