"""The handler runner: results and errors come back, an overrun is a timeout, the context goes along."""

from __future__ import annotations

import contextvars
import threading

import pytest

from tradewire.consumer.runner import HandlerRunner
from tradewire.errors import HandlerTimeoutError

REQUEST = contextvars.ContextVar("request", default="none")


def test_a_handler_s_result_and_its_error_come_back_to_the_caller() -> None:
    runner = HandlerRunner("test")

    assert 5 == runner.call(lambda a, b: a + b, 2, 3, timeout=5)
    with pytest.raises(KeyError, match="missing"):
        runner.call(lambda: {}["missing"], timeout=5)
    assert "still works" == runner.call(str, "still works", timeout=5)
    runner.close()


def test_a_handler_runs_on_the_worker_thread_with_the_caller_s_context() -> None:
    runner = HandlerRunner("test")
    REQUEST.set("r-1")

    where = runner.call(lambda: (threading.current_thread().name, REQUEST.get()), timeout=5)

    assert ("test", "r-1") == where
    runner.close()


def test_an_overrunning_handler_times_out_and_later_calls_go_to_a_fresh_worker() -> None:
    runner = HandlerRunner("test")
    release = threading.Event()

    with pytest.raises(HandlerTimeoutError, match=r"did not finish within 0\.05 s"):
        runner.call(release.wait, 10, timeout=0.05)

    assert 1 == runner.abandoned
    assert "test-1" == runner.call(lambda: threading.current_thread().name, timeout=5)
    release.set()
    runner.close()


def test_without_a_timeout_the_handler_runs_on_the_calling_thread() -> None:
    runner = HandlerRunner("test")

    assert threading.current_thread().name == runner.call(lambda: threading.current_thread().name, timeout=None)
    runner.close()
