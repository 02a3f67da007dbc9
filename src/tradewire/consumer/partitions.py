"""Per-partition bookkeeping: which offsets are done, what may be committed, which keys wait.

At-least-once means an offset is committed only when it and every earlier offset of its
partition is done (handled, skipped as a duplicate, or acknowledged by the dead-letter
topic). Per-key order means that while a record waits for a retry, later records with
the same key wait behind it, and records with other keys go on.
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from tradewire.errors import RawRecord

__all__ = ["Job", "PartitionState"]


@dataclass(eq=False)
class Job:
    """One consumed record on its way through decoding, dedup, the handler, retries or the DLQ."""

    record: RawRecord
    event: Any = None
    attempts: int = 0
    first_failure: float = 0.0
    last_failure: float = 0.0
    due: float = 0.0
    error: BaseException | None = None
    received: float = 0.0
    replayed: bool = False
    waiting: bool = False
    hop_observed: bool = False
    dead_letter: Any = None
    """On its way to the DLQ: a `tradewire.consumer.dead_letters.PendingDeadLetter`."""
    unreadable_headers: str = ""
    """Why the record's headers could not be read (it is poison), when they could not."""

    @property
    def key(self) -> object:
        """What orders this record: its Kafka key (a record without a key is ordered with nothing)."""
        return self.record.key if self.record.key is not None else self


@dataclass
class PartitionState:
    """Offsets in flight and keys parked behind a retry, for one assigned partition."""

    topic: str
    partition: int
    _in_flight: dict[int, Job] = field(default_factory=dict)
    _heap: list[int] = field(default_factory=list)
    _highest: int = -1
    _parked: dict[object, deque[Job]] = field(default_factory=dict)
    committed: int = -1

    def add(self, job: Job) -> bool:
        """Track a new record; True if it may be processed now, False if its key waits behind a retry."""
        offset = job.record.offset
        self._in_flight[offset] = job
        heapq.heappush(self._heap, offset)
        self._highest = max(self._highest, offset)
        return self.may_process(job)

    def may_process(self, job: Job) -> bool:
        """Whether `job` may be processed now; if its key waits behind another record, it queues up."""
        waiting = self._parked.get(job.key)
        if waiting is None or waiting[0] is job:
            return True
        if not job.waiting:
            job.waiting = True
            waiting.append(job)
        return False

    def park(self, job: Job) -> None:
        """`job` failed and waits for a retry: later records with its key wait behind it."""
        waiting = self._parked.setdefault(job.key, deque())
        if not waiting or waiting[0] is not job:
            waiting.appendleft(job)
        job.waiting = False

    def complete(self, job: Job) -> Job | None:
        """`job` is done; return the next record of its key that may now be processed, if any."""
        self._in_flight.pop(job.record.offset, None)
        waiting = self._parked.get(job.key)
        if waiting is None:
            return None
        if waiting and waiting[0] is job:
            waiting.popleft()
        if not waiting:
            del self._parked[job.key]
            return None
        waiting[0].waiting = False
        return waiting[0]

    def commit_offset(self) -> int | None:
        """The offset to commit (the next one to read), when it moved past the last commit."""
        while self._heap and self._heap[0] not in self._in_flight:
            heapq.heappop(self._heap)
        position = self._heap[0] if self._heap else self._highest + 1
        return position if position > self.committed and position > 0 else None

    @property
    def parked(self) -> int:
        """How many records wait behind retries (the failing heads included)."""
        return sum(len(waiting) for waiting in self._parked.values())

    @property
    def in_flight(self) -> int:
        """How many records are received but not done."""
        return len(self._in_flight)
