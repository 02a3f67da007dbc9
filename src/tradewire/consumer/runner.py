"""Run a handler with a timeout, on a worker thread the consumer's poll loop waits for.

A handler that overruns its timeout counts as a failed attempt; Python cannot stop the
thread, so the overrunning call is abandoned (it may still finish in the background) and
later calls go to a fresh worker. Handlers should therefore be idempotent, which
at-least-once delivery requires anyway.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from tradewire.errors import HandlerTimeoutError

__all__ = ["HandlerRunner"]

_Call = tuple[Callable[..., Any], tuple[Any, ...], "Future[Any]"]


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
            function, args, future = call
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(function(*args))
            except BaseException as error:
                future.set_exception(error)


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
        future: Future[Any] = Future()
        context = contextvars.copy_context()  # the handler sees the caller's log context
        self._worker.calls.put((context.run, (function, *args), future))
        try:
            return future.result(timeout)
        except FutureTimeout:
            self.abandoned += 1
            self._worker.calls.put(None)  # the stuck worker exits after its call, if ever
            self._worker = _Worker(f"{self.name}-{self.abandoned}")
            raise HandlerTimeoutError(
                f"{getattr(function, '__qualname__', function)} did not finish within {timeout:g} s"
            ) from None

    def close(self) -> None:
        """Let the worker finish its current call and stop."""
        self._worker.calls.put(None)
