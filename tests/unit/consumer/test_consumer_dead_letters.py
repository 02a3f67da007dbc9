"""How a dead letter gets written: in which form after which refusal, and how long it waits between attempts."""

from __future__ import annotations

import confluent_kafka
import pytest

from tradewire.consumer.dead_letters import (
    FULL,
    MINIMAL_REFERENCE,
    REFERENCE,
    PendingDeadLetter,
    kafka_code,
    retry_delay,
)
from tradewire.consumer.partitions import PartitionState
from tradewire.errors import DeliveryError, ProduceError, RawRecord

RECORD = RawRecord("trading.signals.generated", 0, 5, b"AAPL", b"\x00" * 2_000_000, (("ce_id", b"e1"),), 1)
TOO_LARGE_AT_THE_BROKER = DeliveryError(
    "record for t.dlq.g not acknowledged: Broker: Message size too large",
    topic="t.dlq.g",
    code=confluent_kafka.KafkaError.MSG_SIZE_TOO_LARGE,
)
TIMED_OUT = DeliveryError(
    "record for t.dlq.g not acknowledged: Local: Message timed out",
    topic="t.dlq.g",
    code=confluent_kafka.KafkaError._MSG_TIMED_OUT,
)


def too_large_for_the_producer() -> ProduceError:
    """What `send_raw` raises when the record is above the producer's message.max.bytes."""
    cause = confluent_kafka.KafkaException(
        confluent_kafka.KafkaError(confluent_kafka.KafkaError.MSG_SIZE_TOO_LARGE, "Broker: Message size too large")
    )
    try:
        raise ProduceError(f"cannot produce to t.dlq.g: {cause}") from cause
    except ProduceError as error:
        return error


def pending() -> PendingDeadLetter:
    """A poison record's dead letter, not yet tried."""
    return PendingDeadLetter("poison", ValueError("undecodable"), PartitionState("trading.signals.generated", 0))


def test_refusals_as_too_large_step_down_to_a_reference_then_a_minimal_one_then_wait() -> None:
    """Refused as too large (by the producer, then the broker twice): reference, minimal reference, then a wait
    (a failure counted), after which the full dead letter is tried again."""
    letter = pending()
    steps = []
    for refusal in (too_large_for_the_producer(), TOO_LARGE_AT_THE_BROKER, TOO_LARGE_AT_THE_BROKER):
        steps.append((letter.refused(refusal), letter.form, letter.failures))
    assert [(True, REFERENCE, 0), (True, MINIMAL_REFERENCE, 0), (False, FULL, 1)] == steps


def test_a_refusal_that_is_not_about_size_waits_and_the_reference_is_not_tried() -> None:
    """A delivery that timed out (broker down, topic deleted) counts a failure and waits; the form stays full."""
    letter = pending()
    waits = letter.refused(TIMED_OUT) is False
    assert (True, FULL, 1, "poison") == (waits, letter.form, letter.failures, letter.written_reason)


def test_the_reference_says_why_the_full_dead_letter_was_refused() -> None:
    """The record to write after a size refusal: the record's key, no value, reason too-large, and the refusal."""
    letter = pending()
    letter.refused(TOO_LARGE_AT_THE_BROKER)
    key, value, headers = letter.record_to_write(RECORD, group="g", attempts=0, first_failure=1.0, last_failure=1.0)
    found = dict(headers)
    assert (b"AAPL", None, b"too-large", b"poison", TOO_LARGE_AT_THE_BROKER.args[0].encode(), "too-large") == (
        key,
        value,
        found["tw.dlq.reason"],
        found["tw.dlq.original.reason"],
        found["tw.dlq.write.error"],
        letter.written_reason,
    )


def test_the_full_dead_letter_is_the_record_byte_for_byte() -> None:
    """Untried, the dead letter is the record's key and value with tw.dlq.* headers after its own."""
    key, value, headers = pending().record_to_write(RECORD, group="g", attempts=0, first_failure=1.0, last_failure=1.0)
    assert (RECORD.key, RECORD.value, [("ce_id", b"e1")], b"poison") == (
        key,
        value,
        headers[:1],
        dict(headers)["tw.dlq.reason"],
    )


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (TOO_LARGE_AT_THE_BROKER, confluent_kafka.KafkaError.MSG_SIZE_TOO_LARGE),
        (too_large_for_the_producer(), confluent_kafka.KafkaError.MSG_SIZE_TOO_LARGE),
        (ProduceError("the producer queue stayed full for t.dlq.g"), None),
        (RuntimeError("anything else"), None),
    ],
)
def test_the_kafka_code_of_a_failed_send_is_found_where_it_is(error: BaseException, code: int | None) -> None:
    """A delivery report's code, the code `produce()` raised (the ProduceError's cause), or none."""
    assert code == kafka_code(error)


def test_waits_double_from_half_a_second_to_thirty_seconds_with_jitter_in_their_upper_half() -> None:
    """Failure n waits between half and all of min(30, 0.5 * 2**(n-1)) seconds."""
    assert [(0.25, 0.5), (0.5, 1.0), (1.0, 2.0), (2.0, 4.0), (15.0, 30.0), (15.0, 30.0)] == [
        (retry_delay(failures, 0.0), retry_delay(failures, 1.0)) for failures in (1, 2, 3, 4, 7, 1000)
    ]
