"""The handler runner: results and errors come back, an overrun is a timeout, the context goes along;
batches stop at the first failure, a stop or a spent budget, and report what never ran."""

from __future__ import annotations

import contextvars
import threading
import time

import pytest

from tradewire.consumer.runner import Call, HandlerRunner
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


def _context(request: str) -> contextvars.Context:
    context = contextvars.copy_context()
    context.run(REQUEST.set, request)
    return context


def test_a_batch_runs_in_order_on_the_worker_each_call_in_its_own_context() -> None:
    runner = HandlerRunner("test")
    ran: list[tuple[int, str, str]] = []
    callers = REQUEST.get()

    def call(number: int) -> int:
        ran.append((number, REQUEST.get(), threading.current_thread().name))
        return number * 10

    outcome = runner.run([Call(call, (n,), 5, _context(f"r-{n}")) for n in range(3)])

    assert [(0, "r-0", "test"), (1, "r-1", "test"), (2, "r-2", "test")] == ran
    assert ([0, 10, 20], None, 3, range(3, 3)) == (
        outcome.results,
        outcome.error,
        len(outcome.durations),
        outcome.not_run(3),
    )
    assert callers == REQUEST.get()  # the caller's own context is untouched
    runner.close()


def test_a_batch_stops_at_the_first_failure_and_reports_the_rest_as_not_run() -> None:
    runner = HandlerRunner("test")
    ran: list[int] = []

    def call(number: int) -> None:
        ran.append(number)
        if number == 1:
            raise ValueError("refused 1")

    outcome = runner.run([Call(call, (n,), 5) for n in range(4)])

    assert [0, 1] == ran
    assert (1, "refused 1", 2, [2, 3]) == (
        outcome.returned,
        str(outcome.error),
        len(outcome.durations),
        list(outcome.not_run(4)),
    )
    runner.close()


def test_an_overrunning_call_in_a_batch_times_out_and_the_calls_after_it_never_run() -> None:
    runner = HandlerRunner("test")
    release = threading.Event()
    ran: list[int] = []

    def call(number: int) -> None:
        ran.append(number)
        if number == 1:
            release.wait(10)

    outcome = runner.run([Call(call, (n,), 0.05, name=f"on_signal_{n}") for n in range(3)])
    release.set()  # the abandoned worker finishes call 1 now, and must not go on to call 2
    time.sleep(0.2)

    assert isinstance(outcome.error, HandlerTimeoutError)
    assert "on_signal_1 did not finish within 0.05 s" == str(outcome.error)
    assert (1, [2], [0, 1], 1) == (outcome.returned, list(outcome.not_run(3)), ran, runner.abandoned)
    assert "test-1" == runner.call(lambda: threading.current_thread().name, timeout=5)
    runner.close()


def test_each_call_of_a_batch_gets_its_own_timeout() -> None:
    """Three calls of 30 ms with a 100 ms timeout each: together they take longer than one timeout,
    yet none overran its own."""
    runner = HandlerRunner("test")

    outcome = runner.run([Call(time.sleep, (0.03,), 0.1) for _ in range(5)])

    assert (5, None, 0) == (outcome.returned, outcome.error, runner.abandoned)
    runner.close()


def test_a_stop_or_a_spent_budget_ends_a_batch_after_the_current_call() -> None:
    runner = HandlerRunner("test")
    stop = threading.Event()

    stopped = runner.run([Call(stop.set, (), 5), Call(str, (1,), 5), Call(str, (2,), 5)], stop=stop)
    budgeted = runner.run([Call(time.sleep, (0.06,), 5) for _ in range(3)], budget=0.05)

    assert (1, None, [1, 2]) == (stopped.returned, stopped.error, list(stopped.not_run(3)))
    assert (1, None, [1, 2]) == (budgeted.returned, budgeted.error, list(budgeted.not_run(3)))
    runner.close()


def test_a_batch_without_timeouts_runs_on_the_calling_thread() -> None:
    runner = HandlerRunner("test")
    name = threading.current_thread().name

    outcome = runner.run([Call(lambda: threading.current_thread().name, (), None) for _ in range(2)])

    assert [name, name] == outcome.results
    runner.close()
