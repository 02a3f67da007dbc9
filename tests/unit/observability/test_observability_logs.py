"""Specification of the structured logs: one JSON object per line, the message context on every
record logged while a message is handled (also from the handler's worker thread), never a secret.

Dead-letter headers scrub secrets from error messages with the same `scrub`; that is specified in
tests/unit/dlq/test_dlq_headers.py (test_secrets_in_the_error_message_never_reach_the_headers)
and tests/unit/dlq/test_dlq_scrub.py.
"""

from __future__ import annotations

import datetime
import io
import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tradewire.consumer.runner import HandlerRunner
from tradewire.logs import configure_logging, log_context, message_context

CONTEXT = {
    "correlation_id": "5f0c6a55-7a1e-4d7c-9d55-0d2f1b2c3d4e",
    "event_id": "0b1e2d3c-4f5a-4b6c-8d7e-9f0a1b2c3d4e",
    "topic": "t.trading.signals.generated",
    "partition": 2,
    "offset": 41,
    "group": "risk",
}
MESSAGE_FIELDS = ("correlation_id", "event_id", "topic", "partition", "offset", "group")
log = logging.getLogger("tradewire.tests.observability")


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """Where configure_logging("risk-agent") writes; the root logger is restored afterwards."""
    root = logging.getLogger()
    kafka = logging.getLogger("tradewire.kafka")
    levels = (root.level, kafka.level)
    output = io.StringIO()
    handler = configure_logging("risk-agent", stream=output)
    yield output
    root.removeHandler(handler)
    root.setLevel(levels[0])
    kafka.setLevel(levels[1])


def records(stream: io.StringIO) -> list[dict[str, Any]]:
    """Every line written so far, each parsed as one JSON object."""
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_every_record_is_one_json_object_per_line_with_time_level_logger_message(stream: io.StringIO) -> None:
    """Each record is a line holding a JSON object with time, level, logger and message (and the agent)."""
    log.info("first")
    log.warning("second with %s", "an argument")
    [first, second] = records(stream)
    assert [("INFO", "first"), ("WARNING", "second with an argument")] == [
        (record["level"], record["message"]) for record in (first, second)
    ]
    assert {"tradewire.tests.observability"} == {record["logger"] for record in (first, second)}
    assert {"risk-agent"} == {record["agent"] for record in (first, second)}
    times = [datetime.datetime.fromisoformat(record["time"].replace(",", ".")) for record in (first, second)]
    assert times == sorted(times)


def test_records_logged_inside_log_context_carry_the_message_fields(stream: io.StringIO) -> None:
    """Inside log_context(...) every record carries the message's fields with their JSON types."""
    with log_context(**CONTEXT):
        log.info("handling")
    [record] = records(stream)
    assert CONTEXT == {name: record[name] for name in MESSAGE_FIELDS}


def test_nested_contexts_add_fields_and_leaving_restores_the_outer_one(stream: io.StringIO) -> None:
    """An inner log_context adds to the outer one; leaving it restores the outer fields only."""
    with log_context(topic="t.a", partition=0, offset=7):
        with log_context(event_id="e-1"):
            log.info("inner")
        log.info("outer")
    inner, outer = records(stream)
    assert ("t.a", 7, "e-1") == (inner["topic"], inner["offset"], inner["event_id"])
    assert ("t.a", 7, False) == (outer["topic"], outer["offset"], "event_id" in outer)


def test_records_outside_message_handling_carry_no_message_fields(stream: io.StringIO) -> None:
    """Before and after log_context, records carry no message fields (the agent only)."""
    log.info("before")
    with log_context(**CONTEXT):
        pass
    log.info("after")
    assert [[], []] == [[name for name in MESSAGE_FIELDS if name in record] for record in records(stream)]
    assert {} == dict(message_context())


def test_a_handler_on_the_worker_thread_sees_the_callers_context(stream: io.StringIO) -> None:
    """HandlerRunner runs the handler on its worker thread with the caller's context: its records carry it."""
    runner = HandlerRunner("observability-test")
    threads: list[str] = []

    def handler(greeting: str) -> None:
        threads.append(threading.current_thread().name)
        log.info("handler says %s", greeting)

    try:
        with log_context(**CONTEXT):
            runner.call(handler, "hello", timeout=5.0)
    finally:
        runner.close()
    [record] = records(stream)
    assert (["observability-test"], "handler says hello") == (threads, record["message"])
    assert CONTEXT == {name: record[name] for name in MESSAGE_FIELDS}


def test_another_thread_does_not_see_a_context_it_was_not_given(stream: io.StringIO) -> None:
    """A plain thread started inside log_context does not inherit it: contexts never leak between messages."""
    with log_context(**CONTEXT):
        thread = threading.Thread(target=lambda: log.info("elsewhere"))
        thread.start()
        thread.join(5)
    [record] = records(stream)
    assert [] == [name for name in MESSAGE_FIELDS if name in record]


SECRETS = ("hunter2", "s3cret", "dXNlcjpzM2NyZXQ=", "k3y-pass", "t0ken-value")


def test_secrets_never_reach_the_output(stream: io.StringIO) -> None:
    """Passwords, SASL settings, URL credentials and Authorization values are scrubbed from messages,
    arguments and exceptions; the rest of each line is kept."""
    log.warning("connecting with sasl.password=hunter2 as bob")
    log.warning("registry %s unreachable", "http://user:s3cret@registry:8081")
    log.info("request headers: %s", {"Authorization": "Basic dXNlcjpzM2NyZXQ="})
    log.info("Authorization: Basic dXNlcjpzM2NyZXQ=")
    try:
        raise ConnectionError("SSL handshake failed: ssl.key.password=k3y-pass, api_key=t0ken-value")
    except ConnectionError:
        log.exception("cannot connect")
    output = stream.getvalue()
    assert [] == [secret for secret in SECRETS if secret in output], output
    messages = [record["message"] for record in records(stream)]
    assert [
        "connecting with sasl.password=*** as bob",
        "registry http://***@registry:8081 unreachable",
        "request headers: {'Authorization': 'Basic ***'}",
        "Authorization: Basic ***",
        "cannot connect",
    ] == messages
    exception = records(stream)[-1]["exc_info"]
    assert "ConnectionError: SSL handshake failed: ssl.key.password=***, api_key=***" in exception, exception


def test_a_misformatted_call_is_logged_rather_than_raised(stream: io.StringIO) -> None:
    """A log call whose arguments do not fit its format never raises into the caller (a handler
    would fail), and its arguments are scrubbed too."""
    log.info("%s and %s", "password=hunter2")  # noqa: PLE1206 - one argument short, on purpose
    [record] = records(stream)
    assert "hunter2" not in stream.getvalue()
    assert record["message"].startswith("%s and %s"), record


def test_secrets_in_extra_fields_are_scrubbed_too(stream: io.StringIO) -> None:
    log.warning("connecting", extra={"endpoint": "http://user:s3cret@registry:8081", "attempt": 2})

    [record] = records(stream)
    assert "s3cret" not in stream.getvalue()
    assert ("http://***@registry:8081", 2) == (record["endpoint"], record["attempt"])
