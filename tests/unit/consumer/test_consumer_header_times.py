"""Times read from headers of consumed records (`ce_roottime`, `tw.replay.at`): usable ones, or none at all."""

from __future__ import annotations

import datetime

import pytest

from tradewire.metadata import parse_header_time, parse_root_time


@pytest.mark.parametrize(
    "value",
    [
        b"\xff\xfe2026-01-01",  # not UTF-8
        b"2026-01-01T00:00:00",  # naive: in which zone?
        b"0001-01-01T00:00:00+14:00",  # before anything UTC can hold
        b"9999-12-31T23:59:59-23:59",  # after anything UTC can hold
        b"yesterday",
        b"",
        None,
    ],
    ids=["not-utf8", "naive", "before-utc-min", "after-utc-max", "nonsense", "empty", "null"],
)
def test_an_unusable_time_header_is_no_time(value: bytes | None) -> None:
    """Such a header is ignored (None): it never fails the record that carries it."""
    assert (None, None) == (
        parse_root_time([("ce_roottime", value)]),  # type: ignore[list-item]
        parse_header_time([("tw.replay.at", value)], "tw.replay.at"),
    )


def test_a_usable_time_keeps_its_offset_and_the_last_header_counts() -> None:
    """An ISO-8601 time with an offset is read as it is; of several headers with the name, the last counts."""
    headers = [("ce_roottime", b"2026-01-01T00:00:00+00:00"), ("ce_roottime", b"2026-03-01T12:30:00.5+02:00")]
    expected = datetime.datetime(2026, 3, 1, 12, 30, 0, 500_000, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
    assert expected == parse_root_time(headers)
