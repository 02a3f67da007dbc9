"""A dead letter on its way to the DLQ topic: in what form it is written, and when it is tried again.

A dead letter is first written as it is: the record byte for byte plus `tw.dlq.*` headers.
When the producer or the broker refuses it as too large (`SIZE_REFUSALS`), a reference is
written instead (`tradewire.dlq.reference_dead_letter`: reason `too-large`, no value, the
key and headers only when small), and when even that is refused, a minimal reference (no
key, no headers of the record's own). Any other failure (the DLQ topic deleted, the broker
down, not authorised, a refusal at send time) is retried after a bounded exponential backoff
(`retry_delay`), from the first form again; meanwhile the record's offset is not committed,
so nothing is lost and nothing is raised out of the consumer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from confluent_kafka import KafkaError, KafkaException

from tradewire.consumer.partitions import PartitionState
from tradewire.dlq import FailureReason, dead_letter_headers, describe_error, reference_dead_letter
from tradewire.errors import DeliveryError, RawRecord

__all__ = [
    "FULL",
    "MINIMAL_REFERENCE",
    "REFERENCE",
    "RETRY_BASE_SECONDS",
    "RETRY_CAP_SECONDS",
    "SIZE_REFUSALS",
    "PendingDeadLetter",
    "kafka_code",
    "retry_delay",
]

FULL, REFERENCE, MINIMAL_REFERENCE = 0, 1, 2
"""The forms of a dead letter, tried in this order while each is refused as too large."""

SIZE_REFUSALS: Final = frozenset(
    {
        KafkaError.MSG_SIZE_TOO_LARGE,  # the producer's message.max.bytes, or the topic's max.message.bytes
        KafkaError.RECORD_LIST_TOO_LARGE,  # the batch is larger than the topic's segment
        KafkaError.INVALID_MSG_SIZE,
        KafkaError.INVALID_RECORD,  # the broker's validation refused the record (a reference has no value)
    }
)
"""librdkafka error codes that mean "this record cannot be written as it is"."""

RETRY_BASE_SECONDS = 0.5
"""The first wait before a failed dead letter is written again; each failure doubles it."""

RETRY_CAP_SECONDS = 30.0
"""The longest wait between two attempts to write a dead letter."""


def kafka_code(error: BaseException) -> int | None:
    """librdkafka's error code behind a failed send: a delivery report's, or the one `produce()` raised."""
    if isinstance(error, DeliveryError):
        return error.code
    cause = error.__cause__
    if isinstance(cause, KafkaException) and cause.args and isinstance(cause.args[0], KafkaError):
        code: int = cause.args[0].code()
        return code
    return None


def retry_delay(failures: int, random: float) -> float:
    """The wait after the `failures`-th failed write (1-based), given a uniform random number in [0, 1):
    between half and all of min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2**(failures - 1))."""
    ceiling: float = min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** min(max(failures, 1) - 1, 32))
    return ceiling * (0.5 + random / 2)


@dataclass(eq=False)
class PendingDeadLetter:
    """Why a record is dead-lettered, and how far its writing got."""

    reason: FailureReason
    error: BaseException
    state: PartitionState
    """The partition state the record belongs to (a retry is dropped once the partition is revoked)."""
    headers_kept: bool = True
    form: int = FULL
    write_error: str = ""
    """Why the full dead letter was refused (what a reference says)."""
    failures: int = 0
    """Failed attempts that were not about size (they set the backoff)."""

    @property
    def written_reason(self) -> str:
        """The reason the written dead letter carries: the record's, or `too-large` for a reference."""
        return self.reason if self.form == FULL else "too-large"

    def refused(self, error: BaseException) -> bool:
        """Take in a failed write: True when a smaller form is left to try at once, False when the
        write must wait for a retry (then the next retry starts from the full form again)."""
        if kafka_code(error) in SIZE_REFUSALS and self.form < MINIMAL_REFERENCE:
            if self.form == FULL:
                self.write_error = describe_error(error)
            self.form += 1
            return True
        self.failures += 1
        self.form, self.write_error = FULL, ""
        return False

    def record_to_write(
        self, record: RawRecord, *, group: str, attempts: int, first_failure: float, last_failure: float
    ) -> tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]:
        """The key, value and headers of the dead letter in its current form."""
        if self.form == FULL:
            headers = dead_letter_headers(
                record,
                group=group,
                reason=self.reason,
                error=self.error,
                attempts=attempts,
                first_failure=first_failure,
                last_failure=last_failure,
                headers_kept=self.headers_kept,
            )
            return record.key, record.value, headers
        key, headers = reference_dead_letter(
            record,
            group=group,
            reason=self.reason,
            error=self.error,
            attempts=attempts,
            first_failure=first_failure,
            last_failure=last_failure,
            write_error=self.write_error,
            minimal=self.form == MINIMAL_REFERENCE,
        )
        return key, None, headers
