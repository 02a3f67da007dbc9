"""Offset bookkeeping and per-key parking, without a broker."""

from __future__ import annotations

import threading
import time

import pytest

from tradewire.consumer.partitions import Job, PartitionState
from tradewire.consumer.runner import HandlerRunner
from tradewire.errors import HandlerTimeoutError, RawRecord
from tradewire.settings import RetryPolicy


def job(offset: int, key: bytes | None = b"k") -> Job:
    """A job for the record at `offset` with `key`."""
    return Job(RawRecord("t", 0, offset, key, b"v"))


def test_commit_offset_waits_for_every_earlier_offset() -> None:
    """Offsets 0..4 in flight: completing 1, 2 and 4 commits nothing; completing 0 commits 3; then 3 commits 5."""
    state = PartitionState("t", 0)
    jobs = [job(offset, key=str(offset).encode()) for offset in range(5)]
    assert [True] * 5 == [state.add(j) for j in jobs]
    for offset in (1, 2, 4):
        state.complete(jobs[offset])
    assert state.commit_offset() is None
    state.complete(jobs[0])
    assert 3 == state.commit_offset()
    state.committed = 3
    state.complete(jobs[3])
    assert 5 == state.commit_offset()


def test_a_parked_key_holds_back_only_its_own_later_records() -> None:
    """While offset 0 (key a) waits for a retry, offset 2 (key a) waits too and offset 1 (key b) goes on."""
    state = PartitionState("t", 0)
    first, other, second = job(0, b"a"), job(1, b"b"), job(2, b"a")
    assert state.add(first)
    state.park(first)
    assert (True, False, 2) == (state.add(other), state.add(second), state.parked)
    assert state.complete(other) is None
    assert second is state.complete(first)
    assert (1, 1) == (state.parked, state.in_flight), "the released record heads its key until it is done"
    assert state.complete(second) is None
    assert (0, 3) == (state.parked, state.commit_offset())


def test_records_without_a_key_never_wait_for_each_other() -> None:
    """A keyless record that waits for a retry does not hold back other keyless records."""
    state = PartitionState("t", 0)
    first, second = job(0, None), job(1, None)
    state.add(first)
    state.park(first)
    assert state.add(second)


def test_backoff_is_exponential_with_full_jitter_and_a_cap() -> None:
    """Retry n waits uniformly in [0, min(cap, base * 2**(n-1))]: 1, 2, 4, 8 s by default."""
    policy = RetryPolicy()
    assert [1.0, 2.0, 4.0, 8.0, 8.0] == [policy.delay(retry, 0.999999999) // 1 + 1 for retry in range(1, 6)]
    assert [0.0] * 4 == [policy.delay(retry, 0.0) for retry in range(1, 5)]
    assert 4 == policy.retries


def test_a_handler_past_its_timeout_fails_and_later_calls_still_run() -> None:
    """A call that overruns raises HandlerTimeoutError; the next call runs on a fresh worker."""
    runner = HandlerRunner("test")
    release = threading.Event()
    started = time.monotonic()
    with pytest.raises(HandlerTimeoutError, match=r"did not finish within 0\.2 s"):
        runner.call(release.wait, 5, timeout=0.2)
    assert time.monotonic() - started < 2
    assert (42, 1) == (runner.call(lambda: 42, timeout=1), runner.abandoned)
    release.set()
    runner.close()


def test_handler_errors_reach_the_caller_unchanged() -> None:
    """An exception raised by a handler is re-raised in the consumer's thread."""
    runner = HandlerRunner("test")

    def fail() -> None:
        raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        runner.call(fail, timeout=1)
    runner.close()


def test_a_record_already_queued_for_processing_waits_when_its_key_gets_parked() -> None:
    """Records fetched in one batch before their key failed still wait behind the failing record."""
    state = PartitionState("t", 0)
    first, second = job(0, b"a"), job(1, b"a")
    assert (True, True) == (state.add(first), state.add(second))
    state.park(first)
    assert (False, False, 2) == (state.may_process(second), state.may_process(second), state.parked)
    assert second is state.complete(first)
    assert state.may_process(second)
