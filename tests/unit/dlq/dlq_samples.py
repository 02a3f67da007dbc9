"""Sample records and dead letters shared by the DLQ unit tests (importable as `dlq_samples`)."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

from tradewire.dlq import DeadLetter
from tradewire.errors import RawRecord

NEW_YEAR = 1767225600.0
"""2026-01-01T00:00:00Z as a Unix time."""

NEW_YEAR_UTC = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)

ORIGINAL = RawRecord(
    topic="trading.signals.generated",
    partition=2,
    offset=41,
    key=b"AAPL",
    value=b"\x00\x00\x00\x00\x07\x02\xff\xfe not utf-8",
    headers=(("ce_id", b"0b7e5a52-51f2-4bd4-9c5e-3c1f0b0d2f6e"), ("binary", b"\xff\x00\x01"), ("ce_id", b"second")),
    timestamp_ms=1767225599123,
)
"""A consumed record with binary bytes everywhere and a repeated header."""


def dead_letter(**changes: Any) -> DeadLetter:
    """A dead letter of ORIGINAL (group risk, exhausted after 5 attempts), with `changes` applied."""
    record_changes = {name: changes.pop(name) for name in ("key", "offset", "partition", "topic") if name in changes}
    base = DeadLetter(
        record=dataclasses.replace(ORIGINAL, **record_changes),
        group="risk",
        reason="exhausted",
        error_class="builtins.RuntimeError",
        error_message="venue down",
        attempts=5,
        first_failure=NEW_YEAR_UTC,
        last_failure=NEW_YEAR_UTC + datetime.timedelta(seconds=15),
        dlq_topic="trading.signals.generated.dlq.risk",
        dlq_partition=0,
        dlq_offset=7,
    )
    return dataclasses.replace(base, **changes)
