"""Event metadata at send time: identity, the causal chain, timing and trace context.

`stamp` fills in what only the sender knows: when, which agent, and which event caused
this one. The correlation id is carried unchanged from the root signal through every event
it causes; the causation id names the direct cause; a W3C traceparent continues the
cause's trace with a new span. The event id is kept, so re-sending the same event object
after a failure produces a duplicate that consumers recognise.
"""

from __future__ import annotations

import dataclasses
import datetime
import secrets
import uuid
from collections.abc import Sequence
from typing import TypeVar

from tradewire.avro.record import Event

__all__ = ["ROOT_TIME_HEADER", "cloudevent_headers", "parse_header_time", "parse_root_time", "stamp"]

E = TypeVar("E", bound=Event)


def _child_traceparent(parent: str | None) -> str | None:
    if not parent:
        return None
    parts = parent.split("-")
    if len(parts) != 4 or len(parts[1]) != 32:
        return None
    return f"{parts[0]}-{parts[1]}-{secrets.token_hex(8)}-{parts[3]}"


def stamp(event: E, agent: str, caused_by: Event | None = None, *, now: datetime.datetime | None = None) -> E:
    """A copy of `event` whose metadata says who sends it, when, and in which chain."""
    metadata = event.metadata
    produced_at = now or datetime.datetime.now(datetime.UTC)
    correlation_id: uuid.UUID = metadata.correlation_id
    causation_id: uuid.UUID | None = metadata.causation_id
    traceparent = metadata.traceparent
    if caused_by is not None:
        cause = caused_by.metadata
        correlation_id, causation_id = cause.correlation_id, cause.event_id
        traceparent = traceparent or _child_traceparent(cause.traceparent)
    stamped = dataclasses.replace(
        metadata,  # type: ignore[type-var]
        correlation_id=correlation_id,
        causation_id=causation_id,
        produced_at=produced_at,
        source_agent=agent,
        traceparent=traceparent,
    )
    return dataclasses.replace(event, metadata=stamped)  # type: ignore[type-var]


ROOT_TIME_HEADER = "ce_roottime"
"""When the chain's root event was produced (ISO-8601): chain latency is measured from it."""


def parse_header_time(headers: Sequence[tuple[str, bytes | None]], name: str) -> datetime.datetime | None:
    """The time in the last header called `name`, when it is a usable one: UTF-8 ISO-8601 with a UTC
    offset, within what a datetime holds in UTC. Anything else (no value, not UTF-8, naive, nonsense)
    is None: a header from the wire never fails the record that carries it."""
    for key, value in reversed(headers):
        if key != name:
            continue
        if not value:
            return None
        try:
            moment = datetime.datetime.fromisoformat(value.decode())
            if moment.tzinfo is None or moment.utcoffset() is None:
                return None
            moment.astimezone(datetime.UTC)  # a time near datetime's limits may not exist in UTC
        except (ValueError, OverflowError):
            return None
        return moment
    return None


def parse_root_time(headers: Sequence[tuple[str, bytes | None]]) -> datetime.datetime | None:
    """The root time a consumed record carries, if it carries a usable one (see `parse_header_time`)."""
    return parse_header_time(headers, ROOT_TIME_HEADER)


def cloudevent_headers(event: Event, agent: str, root_time: datetime.datetime | None = None) -> list[tuple[str, bytes]]:
    """CloudEvents Kafka binding headers (binary mode) mirrored from the metadata, so tools can
    route and measure without decoding the value."""
    metadata = event.metadata
    headers = [
        ("ce_specversion", b"1.0"),
        ("ce_id", str(metadata.event_id).encode()),
        ("ce_type", event.__avro_name__.encode()),
        ("ce_source", f"tradewire/agents/{agent}".encode()),
        ("ce_time", metadata.produced_at.isoformat().encode()),
        ("ce_correlationid", str(metadata.correlation_id).encode()),
        ("content-type", b"application/avro"),
    ]
    if metadata.causation_id is not None:
        headers.append(("ce_causationid", str(metadata.causation_id).encode()))
    if metadata.traceparent:
        headers.append(("ce_traceparent", metadata.traceparent.encode()))
    headers.append((ROOT_TIME_HEADER, (root_time or metadata.produced_at).isoformat().encode()))
    return headers
