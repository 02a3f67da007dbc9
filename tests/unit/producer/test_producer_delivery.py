"""The Delivery future: resolved once by the report thread, waited on, called back, never losing an error."""

from __future__ import annotations

import logging
import threading
import time

import confluent_kafka
import pytest

from tradewire.errors import DeliveryError, TopicNotFoundError
from tradewire.producer import Delivered, Delivery

WHERE = Delivered("t.signals", 2, 41, 0.004)


def test_a_resolved_delivery_gives_its_result_and_no_exception() -> None:
    delivery = Delivery("t.signals")
    before = delivery.done()

    delivery.set_result(WHERE)

    assert (False, True, WHERE, None) == (before, delivery.done(), delivery.result(), delivery.exception())


def test_a_failed_delivery_raises_its_error_from_result() -> None:
    delivery = Delivery("t.signals")
    error = DeliveryError("record for t.signals not acknowledged: broker down", topic="t.signals", retriable=True)

    delivery.set_exception(error)

    assert error is delivery.exception()
    with pytest.raises(DeliveryError, match="broker down"):
        delivery.result()


def test_waiting_returns_when_the_report_thread_resolves_the_delivery() -> None:
    delivery = Delivery("t.signals")
    reporter = threading.Timer(0.05, delivery.set_result, (WHERE,))
    reporter.start()

    result = delivery.result(timeout=5)

    reporter.join()
    assert WHERE == result


def test_waiting_without_a_report_times_out_with_a_clear_message() -> None:
    delivery = Delivery("t.signals")
    started = time.monotonic()

    with pytest.raises(TimeoutError, match=r"no delivery report for t\.signals within 0\.05 s"):
        delivery.exception(timeout=0.05)

    assert time.monotonic() - started >= 0.05
    assert not delivery.done()


def test_callbacks_run_once_finished_or_at_once_when_added_later() -> None:
    calls: list[tuple[str, Delivered]] = []
    listener_calls: list[Delivery] = []
    delivery = Delivery("t.signals", None, [listener_calls.append])
    delivery.add_done_callback(lambda done: calls.append(("early", done.result())))

    delivery.set_result(WHERE)
    delivery.add_done_callback(lambda done: calls.append(("late", done.result())))

    assert ([("early", WHERE), ("late", WHERE)], [delivery]) == (calls, listener_calls)


def test_a_failing_callback_is_logged_and_the_others_still_run(caplog: pytest.LogCaptureFixture) -> None:
    ran: list[str] = []

    def broken(_: Delivery) -> None:
        raise RuntimeError("metrics exploded")

    delivery = Delivery("t.signals", None, [broken])
    delivery.add_done_callback(lambda _: ran.append("after"))

    with caplog.at_level(logging.ERROR, logger="tradewire.producer"):
        delivery.set_result(WHERE)

    assert ["after"] == ran
    assert ["delivery callback"] == [r.getMessage()[:17] for r in caplog.records]
    assert "metrics exploded" in caplog.text


def test_a_delivery_is_resolved_only_once() -> None:
    delivery = Delivery("t.signals")
    delivery.set_result(WHERE)

    with pytest.raises(RuntimeError, match="already finished"):
        delivery.set_exception(DeliveryError("late failure", topic="t.signals", retriable=False))

    assert (WHERE, None) == (delivery.result(), delivery.exception())


@pytest.mark.parametrize(
    "code",
    [confluent_kafka.KafkaError.UNKNOWN_TOPIC_OR_PART, confluent_kafka.KafkaError._UNKNOWN_TOPIC],
    ids=["broker-unknown-topic", "local-unknown-topic"],
)
def test_a_delivery_refused_for_an_unknown_topic_says_the_topic_does_not_exist(code: int) -> None:
    """A delivery report of an unknown topic fails with TopicNotFoundError naming it and `tradewire topics apply`."""
    delivery = Delivery("t.signals")

    delivery.report(confluent_kafka.KafkaError(code), None)  # type: ignore[arg-type]

    error = delivery.exception()
    assert (TopicNotFoundError, "t.signals", True) == (
        type(error),
        getattr(error, "topic", None),
        isinstance(error, DeliveryError),
    )
    assert str(error).startswith("topic t.signals does not exist (")
    assert str(error).endswith("); create the contract topics with `tradewire topics apply`")
