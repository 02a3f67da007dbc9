"""What a handler gets besides its event: where the record came from, and a way to send more."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from tradewire.avro.record import Event

if TYPE_CHECKING:
    from tradewire.producer import Delivery, Producer

__all__ = ["MessageContext"]

E = TypeVar("E", bound=Event)


@dataclass(frozen=True, slots=True)
class MessageContext:
    """The record being handled: topic, partition, offset, key, headers, attempt, group."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    headers: Sequence[tuple[str, bytes]]
    attempt: int
    group: str
    event: Event
    producer: Producer
    replayed: bool = False
    root_time: datetime.datetime | None = None
    """When the chain's root event was produced (chain latency is measured from it)."""
    sent: list[Delivery] = field(default_factory=list)
    """What the handler sent through `send`: the record counts as handled (its id remembered, its
    offset committable) only once the broker acknowledged all of it."""

    def send(self, event: E) -> Delivery:
        """Send an event caused by the one being handled (correlation, causation and the chain's
        root time carried over)."""
        delivery = self.producer.send(event, caused_by=self.event, root_time=self.root_time)
        self.sent.append(delivery)
        return delivery
