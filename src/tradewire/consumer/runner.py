"""Run a handler with a timeout, on a worker thread the consumer's poll loop waits for.

A handler that overruns its timeout counts as a failed attempt; Python cannot stop the
thread, so the overrunning call is abandoned (it may still finish in the background) and
later calls go to a fresh worker. Handlers should therefore be idempotent, which
at-least-once delivery requires anyway.

The handoff is one queue put and one lock per call (no futures or condition variables):
it runs for every record, so it is kept as cheap as a thread switch allows.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Callable
from typing import Any

from tradewire.errors import HandlerTimeoutError

__all__ = ["HandlerRunner"]


class _Call:
    """One handler call: what to run, and where its outcome goes; `done` is released when it has one."""

    __slots__ = ("args", "done", "error", "function", "result")

    def __init__(self, function: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.function = function
        self.args = args
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = threading.Lock()
        self.done.acquire()


class _Worker(threading.Thread):
    def __init__(self, name: str) -> None:
        super().__init__(name=name, daemon=True)
        self.calls: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self.start()

    def run(self) -> None:
        while True:
            call = self.calls.get()
            if call is None:
                return
            try:
                call.result = call.function(*call.args)
            except BaseException as error:
                call.error = error
            finally:
                call.done.release()


class HandlerRunner:
    """Calls handlers on a worker thread, waiting at most `timeout` seconds for each."""

    def __init__(self, name: str = "tradewire-handler") -> None:
        self.name = name
        self.abandoned = 0
        self._worker = _Worker(name)

    def call(self, function: Callable[..., Any], *args: Any, timeout: float | None) -> Any:
        """`function(*args)`; HandlerTimeoutError if it takes longer than `timeout`."""
        if timeout is None:
            return function(*args)
        context = contextvars.copy_context()  # the handler sees the caller's log context
        call = _Call(context.run, (function, *args))
        self._worker.calls.put(call)
        if not call.done.acquire(timeout=timeout):
            self.abandoned += 1
            self._worker.calls.put(None)  # the stuck worker exits after its call, if ever
            self._worker = _Worker(f"{self.name}-{self.abandoned}")
            raise HandlerTimeoutError(
                f"{getattr(function, '__qualname__', function)} did not finish within {timeout:g} s"
            ) from None
        if call.error is not None:
            raise call.error
        return call.result

    def close(self) -> None:
        """Let the worker finish its current call and stop."""
        self._worker.calls.put(None)
