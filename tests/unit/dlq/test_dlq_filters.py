"""Specification of dead-letter filters and of the filter syntax the `dlq` command accepts."""

from __future__ import annotations

import datetime
import re

import pytest
from dlq_samples import NEW_YEAR_UTC, dead_letter

from tradewire.dlq import DeadLetterFilter, parse_instant, parse_offset_range

LETTERS = {
    "a": dead_letter(reason="poison", key=b"AAPL", offset=10, partition=0, dlq_offset=0),
    "b": dead_letter(reason="exhausted", key=b"MSFT", offset=11, partition=0, dlq_offset=1),
    "c": dead_letter(
        reason="non-retryable",
        key=b"AAPL",
        offset=12,
        partition=1,
        dlq_offset=2,
        last_failure=NEW_YEAR_UTC + datetime.timedelta(hours=2),
    ),
    "d": dead_letter(reason="exhausted", key=None, offset=200, partition=1, dlq_offset=3),
}


def _picked(filters: DeadLetterFilter) -> list[str]:
    return [name for name, letter in LETTERS.items() if filters.matches(letter)]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (DeadLetterFilter(), ["a", "b", "c", "d"]),
        (DeadLetterFilter(reason="exhausted"), ["b", "d"]),
        (DeadLetterFilter(key=b"AAPL"), ["a", "c"]),
        (DeadLetterFilter(offsets=(11, 12)), ["b", "c"]),
        (DeadLetterFilter(offsets=(200, 200)), ["d"]),
        (DeadLetterFilter(partition=1), ["c", "d"]),
        (DeadLetterFilter(since=NEW_YEAR_UTC + datetime.timedelta(hours=1)), ["c"]),
        (DeadLetterFilter(until=NEW_YEAR_UTC + datetime.timedelta(seconds=15)), ["a", "b", "d"]),
        (DeadLetterFilter(until=NEW_YEAR_UTC + datetime.timedelta(seconds=14)), []),
        (DeadLetterFilter(reason="exhausted", partition=0, key=b"MSFT", offsets=(0, 100)), ["b"]),
    ],
)
def test_filter_picks_dead_letters_meeting_every_criterion(filters: DeadLetterFilter, expected: list[str]) -> None:
    """Each criterion narrows the pick (inclusive bounds on original offsets and last failure); all must hold."""
    assert expected == _picked(filters)


def test_filter_describes_only_the_criteria_given() -> None:
    """The audit record's description of a filter names the given criteria as JSON values, nothing else."""
    filters = DeadLetterFilter(reason="poison", since=NEW_YEAR_UTC, key=b"A\xffB", offsets=(3, 9), partition=2)
    expected = {
        "reason": "poison",
        "since": "2026-01-01T00:00:00+00:00",
        "key": "A\\xffB",
        "offsets": [3, 9],
        "partition": 2,
    }
    assert expected == filters.to_json()
    assert {} == DeadLetterFilter().to_json()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"reason": "tired"}, "reason must be one of poison, exhausted, non-retryable, too-large, not 'tired'"),
        ({"since": datetime.datetime(2026, 1, 1)}, "since must be timezone-aware, not 2026-01-01T00:00:00"),
        ({"offsets": (5, 3)}, "offset range 5-3 is empty (start after end)"),
    ],
)
def test_invalid_filter_is_refused(arguments: dict[str, object], message: str) -> None:
    """A filter with an unknown reason, a naive time or an empty offset range raises ValueError saying why."""
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        DeadLetterFilter(**arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "expected"), [("3-9", (3, 9)), ("7", (7, 7)), (" 0 - 12 ", (0, 12)), ("5-5", (5, 5))])
def test_offset_range_syntax(text: str, expected: tuple[int, int]) -> None:
    """`A-B` is an inclusive range and `A` a single offset; spaces are allowed."""
    assert expected == parse_offset_range(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("9-3", "offset range '9-3' is empty: 9 is after 3"),
        ("a-b", "offset range must be A-B or A (non-negative integers), not 'a-b'"),
        ("-3", "offset range must be A-B or A (non-negative integers), not '-3'"),
        ("1-2-3", "offset range must be A-B or A (non-negative integers), not '1-2-3'"),
        ("", "offset range must be A-B or A (non-negative integers), not ''"),
    ],
)
def test_bad_offset_range_is_refused(text: str, message: str) -> None:
    """A malformed or empty offset range raises ValueError naming the expected syntax."""
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        parse_offset_range(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-01", NEW_YEAR_UTC),
        ("2026-01-01T12:30:00", NEW_YEAR_UTC + datetime.timedelta(hours=12, minutes=30)),
        ("2026-01-01T12:30:00Z", NEW_YEAR_UTC + datetime.timedelta(hours=12, minutes=30)),
        ("2026-01-01T12:30:00+02:00", NEW_YEAR_UTC + datetime.timedelta(hours=10, minutes=30)),
    ],
)
def test_instant_syntax(text: str, expected: datetime.datetime) -> None:
    """ISO-8601 dates and date-times are accepted; without an offset they are UTC; results are in UTC."""
    parsed = parse_instant(text)
    assert (expected, datetime.UTC) == (parsed, parsed.tzinfo)


def test_bad_instant_is_refused() -> None:
    """Text that is not ISO-8601 raises ValueError showing accepted examples."""
    message = (
        "time must be ISO-8601 like 2026-03-01 or 2026-03-01T12:30:00Z (UTC unless an offset is given), not 'yesterday'"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        parse_instant("yesterday")
