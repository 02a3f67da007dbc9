"""Run handlers with a timeout, on a worker thread the consumer's poll loop waits for.

A handler that overruns its timeout counts as a failed attempt; Python cannot stop the
thread, so the overrunning call is abandoned (it may still finish in the background) and
later calls go to a fresh worker. Handlers should therefore be idempotent, which
at-least-once delivery requires anyway.

Calls go over in batches (`run`): one thread handoff for a whole batch of records instead
of one per record (under the GIL a handoff costs about as much as decoding a record). The
worker runs the calls in order and stops at the first one that raises or overruns, or when
asked to stop; the calls after it are reported as not run, so the caller can hand them over
again once it dealt with the failure (keeping per-key order). A time budget ends a batch
early the same way, so slow handlers still hand back their outcomes every few tens of
milliseconds. Each call runs in its own `contextvars.Context`, so a handler's log records
carry its own record's fields.
"""

from __future__ import annotations

import contextvars
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tradewire.errors import HandlerTimeoutError

__all__ = ["BatchOutcome", "Call", "HandlerRunner"]

_LOOK_AGAIN_SECONDS = 0.05
"""How often the caller looks at a batch whose current call has no limit (or has not started yet)."""


@dataclass(frozen=True, slots=True)
class Call:
    """One handler call: `function(*args)` inside `context`, allowed `timeout` seconds (None: no limit);
    `name` is what a timeout error calls it (the function's qualified name by default)."""

    function: Callable[..., Any]
    args: tuple[Any, ...]
    timeout: float | None
    context: contextvars.Context | None = None
    name: str | None = None


@dataclass(slots=True)
class BatchOutcome:
    """What became of a batch: calls `[0, returned)` returned, with their results in order; when
    `error` is set, call `returned` raised it (a HandlerTimeoutError when it overran); the calls
    after that, or after a stop, were not run. `durations` has one entry per call that ran (the
    failed one included: until it raised, or until it was given up)."""

    results: list[Any] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)
    error: BaseException | None = None

    @property
    def returned(self) -> int:
        """How many calls, from the first, returned."""
        return len(self.results)

    def not_run(self, total: int) -> range:
        """Indexes of the calls that never ran (after the failed one, or after a stop)."""
        return range(self.returned + (self.error is not None), total)


class _Batch:
    """A batch on its way through a worker. `step` guards `index`/`started`/`abandoned`, so the
    worker never starts a call after the caller gave the batch up."""

    __slots__ = ("abandoned", "budget", "calls", "done", "index", "outcome", "started", "step", "stop")

    def __init__(self, calls: Sequence[Call], stop: threading.Event | None, budget: float | None) -> None:
        self.calls = calls
        self.stop = stop
        self.budget = budget
        self.outcome = BatchOutcome()
        self.index = -1
        self.started = 0.0
        self.abandoned = False
        self.step = threading.Lock()
        self.done = threading.Lock()
        self.done.acquire()

    def given_up(self) -> bool:
        """Whether the caller abandoned this batch (read under `step`; the caller sets it from its thread)."""
        return self.abandoned

    def execute(self) -> None:
        outcome = self.outcome
        until = None if self.budget is None else time.perf_counter() + self.budget
        try:
            for index, call in enumerate(self.calls):
                with self.step:
                    if self.stop is not None and self.stop.is_set():
                        return
                    if until is not None and index > 0 and time.perf_counter() >= until:
                        return
                    self.index = index
                    self.started = started = time.perf_counter()
                try:
                    if call.context is not None:
                        result = call.context.run(call.function, *call.args)
                    else:
                        result = call.function(*call.args)
                except BaseException as error:
                    with self.step:
                        if not self.given_up():
                            outcome.durations.append(time.perf_counter() - started)
                            outcome.error = error
                    return
                with self.step:
                    if self.given_up():
                        return
                    outcome.durations.append(time.perf_counter() - started)
                    outcome.results.append(result)
        finally:
            self.done.release()


class _Worker(threading.Thread):
    def __init__(self, name: str) -> None:
        super().__init__(name=name, daemon=True)
        self.batches: queue.SimpleQueue[_Batch | None] = queue.SimpleQueue()
        self.start()

    def run(self) -> None:
        while True:
            batch = self.batches.get()
            if batch is None:
                return
            batch.execute()


def _name(function: Callable[..., Any]) -> str:
    return str(getattr(function, "__qualname__", function))


class HandlerRunner:
    """Runs handler calls on a worker thread, each allowed at most its timeout."""

    def __init__(self, name: str = "tradewire-handler") -> None:
        self.name = name
        self.abandoned = 0
        self._worker = _Worker(name)

    def run(
        self, calls: Sequence[Call], *, stop: threading.Event | None = None, budget: float | None = None
    ) -> BatchOutcome:
        """Run `calls` in order until one raises or overruns its timeout, `stop` is set, or (after the
        first call) `budget` seconds have gone by; the calls left are reported as not run.

        Without any timeout in the batch the calls run on the calling thread; otherwise on the
        worker, with this thread waiting. An overrunning call is abandoned with its worker."""
        batch = _Batch(calls, stop, budget)
        if all(call.timeout is None for call in calls):
            batch.execute()
            return batch.outcome
        self._worker.batches.put(batch)
        while True:
            with batch.step:
                index, started = batch.index, batch.started
            limit = calls[index].timeout if index >= 0 else None
            # not started yet, or a call without a limit: look again soon
            wait = _LOOK_AGAIN_SECONDS if limit is None else max(0.0, started + limit - time.perf_counter())
            if batch.done.acquire(timeout=wait):
                return batch.outcome
            if limit is None:
                continue
            with batch.step:
                finished = batch.outcome.returned > index or batch.outcome.error is not None
                if batch.index != index or finished:
                    continue  # the worker moved on meanwhile: measure the next call
                batch.abandoned = True
                batch.outcome.durations.append(time.perf_counter() - started)
                batch.outcome.error = HandlerTimeoutError(
                    f"{calls[index].name or _name(calls[index].function)} did not finish within {limit:g} s"
                )
            self.abandoned += 1
            self._worker.batches.put(None)  # the stuck worker exits after its call, if ever
            self._worker = _Worker(f"{self.name}-{self.abandoned}")
            return batch.outcome

    def call(self, function: Callable[..., Any], *args: Any, timeout: float | None) -> Any:
        """`function(*args)` in a copy of the caller's context; HandlerTimeoutError if it takes longer
        than `timeout`, and whatever it raises."""
        outcome = self.run([Call(function, args, timeout, contextvars.copy_context())])
        if outcome.error is not None:
            raise outcome.error
        return outcome.results[0]

    def close(self) -> None:
        """Let the worker finish its current batch and stop."""
        self._worker.batches.put(None)
