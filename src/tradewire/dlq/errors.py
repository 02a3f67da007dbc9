"""The dead-letter queue's errors: a DLQ record that cannot be read, a topic that cannot be used."""

from __future__ import annotations

from tradewire.errors import TradingSystemError

__all__ = ["DeadLetterError", "MalformedDeadLetterError"]


class DeadLetterError(TradingSystemError):
    """A dead-letter operation failed: Kafka unreachable, a topic missing or not ready, a replay not acknowledged."""


class MalformedDeadLetterError(DeadLetterError, ValueError):
    """A record in a DLQ topic is not a dead letter: its `tw.dlq.*` headers are missing or unreadable."""
